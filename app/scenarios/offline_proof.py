"""The offline proof's scripted GUI session: `ponder --run-scenario offline-proof`.

Drives the real window offscreen the way a user would (start, a chat turn, a quick action, a
summary, quit) and keeps the app alive, model loaded, for PONDER_SESSION_SECONDS (default 100):
onnxruntime's telemetry uploader first reaches for the network after 90-100 s, so a shorter run
proves nothing. tools/offline_proof.sh runs it in a network namespace under strace.

It ships inside the bundle (a fixed scenario, so the app has no flag that runs a script given on
the command line); a new step needs a rebuild. To add a step: write `async def step_x(s: Session)
-> str` (return a detail, raise Missing when the feature is not in this build, raise anything
else to fail) and add it to STEPS.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

QUESTION = "What is 2 plus 3?"
SAMPLE_TEXT = (
    "Ponder is a desktop assistant that runs a reasoning model on the user's own computer. It "
    "shows the model's thinking while it works, summarises documents, and never sends anything "
    "over the network unless the user asks it to download a model."
)
STEP_TIMEOUT_S = 120.0


class Missing(Exception):
    """The feature this step drives is not in this build yet."""


@dataclass
class Session:
    """What the steps share."""

    args: Any
    paths: Any  # engine.paths.Paths
    qapp: Any  # QApplication
    app: Any = None  # app.main.PonderApp, once started
    shut_down: bool = False
    started: float = field(default_factory=time.monotonic)


async def wait_until(predicate: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT_S) -> None:
    """Poll while the Qt event loop keeps running (the app works during the wait)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        await asyncio.sleep(0.05)


# --- steps ---------------------------------------------------------------------------------


async def step_start(s: Session) -> str:
    from app.main import build_app

    s.app = build_app(s.qapp, s.paths, model=getattr(s.args, "model", None) or "demo",
                      provider=getattr(s.args, "provider", None))
    s.app.show()
    await wait_until(lambda: s.app.window.isVisible(), "the window to show")
    s.app.start_loading()
    await asyncio.wait_for(s.app.load_task, STEP_TIMEOUT_S)
    if s.app.controller.model is None:
        # What the user sees: the status bar's tooltip holds the reason.
        raise RuntimeError(f"the model did not load: {s.app.window.status.model.toolTip()}")
    return f"window shown, model on {s.app.controller.model.provider.key}"


async def step_chat(s: Session) -> str:
    composer = s.app.window.chat.composer
    composer.input.setPlainText(QUESTION)
    composer.send_button.click()
    controller = s.app.controller
    await wait_until(lambda: controller.conversation.exchanges, "the question to be sent")
    await wait_until(lambda: not controller.busy, "the reply to finish")
    reply = controller.conversation.exchanges[-1].reply
    if reply.error or not (reply.answer or reply.thinking):
        raise RuntimeError(f"no reply: {reply.error or reply.finish}")
    return f"{QUESTION} -> {reply.answer.strip()[:40]!r}"


async def step_quick_action(s: Session) -> str:
    try:
        from app.quick.controller import QuickController
    except ImportError as exc:
        raise Missing(f"no quick-action window in this build ({exc})") from None
    from app.markdown.render import MarkdownRenderer

    folder = s.app.controller.model.folder.path

    async def model_ready():
        return folder

    quick = QuickController(s.app.assistant, model_ready=model_ready,
                            renderer=lambda: MarkdownRenderer(s.app.theme.markdown))
    popup = quick.show_popup(SAMPLE_TEXT, "clipboard")  # as after the hotkey, on copied text
    popup.buttons["explain"].click()
    await wait_until(lambda: bool(quick.windows), "the result window to open")
    window = quick.windows[-1]
    await wait_until(lambda: not window.reply.live, "the quick action to finish")
    if window.reply.error or not (window.reply.answer or window.reply.thinking):
        raise RuntimeError(f"no result: {window.reply.error or window.status.text()}")
    quick.close()
    return f"Explain on copied text -> {len(window.reply.answer)} characters"


async def step_summary(s: Session) -> str:
    actions = getattr(s.app, "summary_actions", None)
    if actions is None:
        raise Missing("no summary window in this build (app.summary_actions is missing)")
    sample = s.paths.cache / "proof-sample.txt"
    sample.parent.mkdir(parents=True, exist_ok=True)
    sample.write_text(SAMPLE_TEXT, encoding="utf-8")
    view = actions.open([sample])  # what dropping the file on the window does
    finished = asyncio.Event()
    view.finished.connect(finished.set)
    await asyncio.wait_for(finished.wait(), STEP_TIMEOUT_S)
    if not view.markdown.strip():
        raise RuntimeError(f"no summary: {view.status.text()}")
    view.close()
    return f"summary window: {view.status.text()}"


async def step_idle(s: Session) -> str:
    seconds = float(os.environ.get("PONDER_SESSION_SECONDS", "100"))
    left = seconds - (time.monotonic() - s.started)
    if left > 0:
        await asyncio.sleep(left)  # the app stays up, model loaded, like a user reading
    return f"app up for {time.monotonic() - s.started:.0f} s"


async def step_quit(s: Session) -> str:
    s.app.window.close()
    await wait_until(lambda: not s.app.window.isVisible(), "the window to close")
    _shut_down(s)
    return "window closed, model freed"


def _shut_down(s: Session) -> None:
    if s.app is not None and not s.shut_down:
        s.shut_down = True
        s.app.shutdown()


Step = Callable[[Session], Awaitable[str]]
STEPS: tuple[tuple[str, Step], ...] = (
    ("start", step_start),
    ("chat turn", step_chat),
    ("quick action", step_quick_action),
    ("summary", step_summary),
    ("idle", step_idle),
    ("quit", step_quit),
)


async def _run_steps(s: Session) -> int:
    failed = False
    for name, step in STEPS:
        if failed and name != "quit":
            continue  # after a failure, only quit: the later steps would only wait and time out
        started = time.monotonic()
        try:
            detail, status = await step(s), "PASS"
        except Missing as exc:
            detail, status = f"not available: {exc}", "N/A"
        except Exception as exc:  # noqa: BLE001 - report, then quit cleanly
            detail, status = f"{type(exc).__name__}: {exc}", "FAIL"
            failed = True
        print(f"  {status:<4}  {name:<13} {detail} ({time.monotonic() - started:.1f} s)", flush=True)
        if s.app is None:
            break  # no window to drive or close
    _shut_down(s)
    return 1 if failed else 0


def run(args, paths) -> int:
    """Entry point of `ponder --run-scenario offline-proof`."""
    import qasync
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    qapp = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    qapp.setApplicationName("Ponder")
    qapp.setDesktopFileName("ponder")
    paths.ensure()
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(_run_steps(Session(args, paths, qapp)))
