"""`ponder --self-test`: prove an installed Ponder works end to end, with no window.

Each check prints one line. A check whose feature is not part of this build prints "N/A" (it is
never counted as a pass); any failure makes the exit code non-zero. The installer's offline proof
runs this inside the frozen bundle, in a network namespace, under strace.

Adding a check: write `async def _check_x(ctx) -> str` (return a detail line, raise to fail,
raise Unavailable when the feature is not in this build) and list it in CHECKS.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.environment import PRIVACY_VARIABLES
from engine.errors import PonderError, user_message
from engine.paths import Paths

if TYPE_CHECKING:  # the engine is imported by the checks themselves, so a missing part is one failed check
    from engine.assistant import Assistant
    from engine.host import ModelHost
    from engine.service import LoadResult

QUESTION, EXPECTED = "What is 2 plus 3?", "5"
OCR_TEXT = "Offline 2026"
#: The built-in text the summary check summarises.
SAMPLE_TEXT = (
    "Ponder is a desktop assistant that runs a reasoning model on the user's own computer. "
    "It shows the model's thinking while it works, summarises documents, and never sends "
    "anything over the network unless the user asks it to download a model."
)
CHECK_TIMEOUT_S = 180.0


class Unavailable(Exception):
    """The feature a check needs is not part of this build."""


class CheckFailed(PonderError):
    """A check saw something wrong; the message is the whole story."""


@dataclass(frozen=True)
class CheckResult:
    """One printed line of the self-test."""

    name: str
    status: str  # "PASS" | "FAIL" | "N/A"
    detail: str
    seconds: float


@dataclass
class SelfTestContext:
    """What the checks share: the user's paths, the model choice, a scratch folder, the engine."""

    paths: Paths
    model: str
    provider: str
    scratch: Path
    assistant: Assistant | None = None  # once the model check ran
    loaded: LoadResult | None = None  # what that check loaded
    host: ModelHost | None = None  # the host that loaded it


def run_self_test(args: argparse.Namespace, paths: Paths, out: TextIO | None = None) -> int:
    """Run every check, print one line each and a summary; 0 when nothing failed."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="ponder-selftest-") as scratch:
        ctx = SelfTestContext(paths=paths, model=getattr(args, "model", None) or "demo",
                              provider=getattr(args, "provider", None) or "auto",
                              scratch=Path(scratch))
        results = asyncio.run(_run_checks(ctx, out))
    failed = sum(r.status == "FAIL" for r in results)
    passed = sum(r.status == "PASS" for r in results)
    missing = sum(r.status == "N/A" for r in results)
    verdict = "FAILED" if failed else ("passed" if not missing else "passed, but incomplete")
    print(f"Self-test {verdict}: {passed} passed, {failed} failed, {missing} not available.",
          file=out, flush=True)
    return 1 if failed else 0


async def _run_checks(ctx: SelfTestContext, out: TextIO) -> list[CheckResult]:
    frozen = "frozen bundle" if getattr(sys, "frozen", False) else "source checkout"
    print(f"Ponder self-test ({_version()}, {frozen}, Python {sys.version.split()[0]})",
          file=out, flush=True)
    results = []
    try:
        for name, check in CHECKS:
            result = await _run_one(name, check, ctx)
            print(f"  {result.status:<4}  {name:<18} {result.detail} ({result.seconds:.1f} s)",
                  file=out, flush=True)
            results.append(result)
    finally:
        if ctx.host is not None:
            ctx.host.close()
    return results


async def _run_one(name: str, check: Check, ctx: SelfTestContext) -> CheckResult:
    start = time.perf_counter()
    try:
        detail, status = await asyncio.wait_for(check(ctx), CHECK_TIMEOUT_S), "PASS"
    except Unavailable as exc:
        detail, status = f"not available: {exc}", "N/A"
    except TimeoutError:
        detail, status = f"no result after {CHECK_TIMEOUT_S:.0f} s", "FAIL"
    except Exception as exc:  # noqa: BLE001 - every failure becomes a printed line, no traceback
        detail, status = user_message(exc), "FAIL"
    return CheckResult(name, status, detail, time.perf_counter() - start)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ponder {version('ponder-desktop')}"
    except PackageNotFoundError:
        return "ponder (version unknown)"


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise Unavailable(f"{what} is not in this build ({module} is missing)")


# --- checks -------------------------------------------------------------------------------


async def _check_privacy(ctx: SelfTestContext) -> str:
    wrong = sorted(k for k, v in {**PRIVACY_VARIABLES, "HF_HUB_OFFLINE": "1"}.items()
                   if os.environ.get(k) != v)
    if wrong:
        raise CheckFailed(f"not set before start: {', '.join(wrong)}")
    return "telemetry off, hub offline"


async def _check_model(ctx: SelfTestContext) -> str:
    from engine.commands.common import local_host
    from engine.service import LoadResult

    # As every entry point loads: files verified, the catalog's chat format applied.
    host = local_host(ctx.paths)
    ctx.host, ctx.assistant = host, host.assistant
    result = (await host.load(ctx.model, ctx.provider)).result
    if not isinstance(result, LoadResult):  # a local host has no remote backend
        raise CheckFailed(f"{ctx.model} did not load on this machine")
    ctx.loaded = result
    return f"{ctx.model} on {result.provider.key}"


async def _check_generate(ctx: SelfTestContext) -> str:
    from engine.request import Sampling, ask

    finished = await _generate(ctx, ask(QUESTION, sampling=Sampling(greedy=True), max_new_tokens=96))
    if ctx.model == "demo" and EXPECTED not in finished.answer:
        raise CheckFailed(f"asked {QUESTION!r}, got {finished.answer!r}")
    tokens = finished.stats.thinking_tokens + finished.stats.answer_tokens
    return f"{QUESTION} -> {finished.answer.strip()[:60]!r} ({tokens} tokens)"


async def _check_quick_action(ctx: SelfTestContext) -> str:
    _require("engine.quick_actions.prompt", "Click to Do")
    from engine.quick_actions.actions import action_by_key
    from engine.quick_actions.prompt import build_prompt
    from engine.quick_actions.special_tokens import markers_for

    if ctx.loaded is None:
        raise CheckFailed("no model is loaded (see above)")
    action = action_by_key("explain")
    prompt = build_prompt(action, SAMPLE_TEXT, markers=markers_for(ctx.loaded.folder.path))
    finished = await _generate(ctx, replace(prompt.request, max_new_tokens=96))
    return f"{action.label!r} on a sample text -> {len(finished.answer or finished.thinking)} characters"


async def _check_summary(ctx: SelfTestContext) -> str:
    _require("engine.summarize.job", "summarisation")
    from engine.summarize.job import make_summarizer, read_documents
    from engine.summarize.options import SummaryOptions

    if ctx.assistant is None or ctx.loaded is None:
        raise CheckFailed("no model is loaded (see above)")
    sample = ctx.scratch / "sample.txt"
    sample.write_text(SAMPLE_TEXT, encoding="utf-8")
    # Reading goes through the document sandbox (a child process), as a user's file would.
    outcome = await read_documents([sample])
    summarizer = make_summarizer(ctx.assistant, ctx.loaded.folder, None)
    summary = await summarizer.run(outcome.documents, SummaryOptions.parse(length="short"))
    if summary.partial or not summary.markdown.strip():
        raise CheckFailed("the summary came back empty")
    return f"{len(summary.points)} point(s) from {summary.sections} section(s)"


async def _check_history(ctx: SelfTestContext) -> str:
    _require("engine.history.vault", "the history store")
    from engine.history.errors import SetupChoice
    from engine.history.keys import ScryptParams
    from engine.history.vault import HistoryVault

    # A cheap key derivation: this checks the store, not the cost of guessing a passphrase.
    folder, passphrase, kdf = ctx.scratch / "history", secrets.token_hex(16), ScryptParams(n=2**14)
    canary = f"self-test canary {secrets.token_hex(8)}"
    vault = HistoryVault(folder, scrypt=kdf)
    with vault.setup(SetupChoice.PASSPHRASE, passphrase=passphrase) as store:
        conversation = store.create_conversation("self-test")
        store.add_message(conversation.id, "user", canary)
        if not store.encrypted:
            raise CheckFailed("the store was opened without encryption")
    path = vault.database_path()
    if path.read_bytes()[:16] == b"SQLite format 3\x00" or canary.encode() in path.read_bytes():
        raise CheckFailed(f"{path.name} is readable without the key")
    with HistoryVault(folder).open(passphrase=passphrase) as store:
        messages = store.conversation(conversation.id).messages
        report = store.check()
    if [m.content for m in messages] != [canary]:
        raise CheckFailed("the message read back differs from the one written")
    if not report.ok:
        raise CheckFailed("integrity check: " + "; ".join(report.problems))
    return "SQLCipher store written, reopened and read back"


async def _check_ocr(ctx: SelfTestContext) -> str:
    _require("engine.capture.ocr", "screen-text recognition")
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from engine.capture.ocr import OcrEngine

    image = Image.new("RGB", (480, 120), "white")
    ImageDraw.Draw(image).text((20, 30), OCR_TEXT, fill="black", font=ImageFont.load_default(size=48))
    result = await asyncio.to_thread(OcrEngine().recognise, np.asarray(image))
    if result.text.strip().lower() != OCR_TEXT.lower():
        raise CheckFailed(f"read {result.text!r} from an image of {OCR_TEXT!r}")
    return f"read {result.text!r} from a rendered image"


async def _generate(ctx: SelfTestContext, request):
    """The Finished event of one turn that produced text; raises if the turn failed."""
    from engine.events import Failed, Finished, FinishReason

    if ctx.assistant is None or ctx.loaded is None:
        raise CheckFailed("no model is loaded (see above)")
    async for batch in ctx.assistant.chat(request):
        for event in batch:
            if isinstance(event, Failed):
                raise event.error
            if isinstance(event, Finished):
                if event.reason is FinishReason.ERROR or not (event.answer or event.thinking):
                    raise CheckFailed(f"the turn ended ({event.reason.value}) with no text")
                return event
    raise CheckFailed("the turn ended without a result")


Check = Callable[[SelfTestContext], Awaitable[str]]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("privacy", _check_privacy),
    ("load model", _check_model),
    ("generate", _check_generate),
    ("quick action", _check_quick_action),
    ("summary", _check_summary),
    ("screen text (OCR)", _check_ocr),
    ("encrypted history", _check_history),
)
