"""The README's screenshots, from a real run of the window on the demo model.

    python tools/screenshots.py [--out docs/screenshots]

Runs on any Qt platform (offscreen, or a display; xvfb-run works). Each picture is the window
itself (QWidget.grab), after real turns of the bundled demo model, which answers two-number
additions "What is A plus B?" and nothing else: what the pictures show is what it really says.
History is kept unencrypted in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TURN_S = 120


async def _wait(condition, timeout_s: float = TURN_S) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        await asyncio.sleep(0.05)


class Session:
    """The real app on the demo model, driven through its input box."""

    def __init__(self, qapp, home: Path, theme: str) -> None:
        from app.main import build_app
        from engine.paths import resolve_paths

        self.qapp = qapp
        paths = resolve_paths(data_dir=home)
        paths.ensure()
        self.app = build_app(qapp, paths, model="demo")
        self.app.settings.set("temperature", 0.05)  # the demo is reliable only near-greedy
        self.app.remember("theme", theme)
        self.app.window.resize(1040, 760)
        self.app.show()
        self.app.start_loading()

    async def ready(self) -> None:
        from app.history.panel import HistoryPanel
        from engine.history.errors import SetupChoice

        panel = self.app.window.findChild(HistoryPanel)
        await _wait(lambda: not panel.opening)
        if panel.store is None:  # no secure keyring here: a throwaway, unencrypted history
            panel._use(panel.vault.setup(SetupChoice.UNENCRYPTED))
        await _wait(lambda: self.app.controller.model is not None)

    async def ask(self, question: str, effort: str = "medium") -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QKeyEvent
        from PySide6.QtWidgets import QComboBox, QPlainTextEdit

        combo = self.app.window.findChild(QComboBox, "effortSelector")
        combo.setCurrentIndex(combo.findData(effort))
        box = self.app.window.findChild(QPlainTextEdit, "chatInput")
        box.setPlainText(question)
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            self.qapp.sendEvent(box, QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier))
        controller = self.app.controller
        await _wait(lambda: not controller.busy and not controller.conversation.last.reply.live)

    async def chat_settings(self, instructions: str, *, temperature: float) -> None:
        """The "This chat" panel open, with the chat's own instructions and temperature."""
        from PySide6.QtWidgets import QDoubleSpinBox, QPlainTextEdit

        self.app.window.splitter.widget(0).hide()  # the chat list (Ctrl+Shift+L): room for the meter
        self.app.window.chat_settings_action.trigger()
        panel = self.app.window.chat.chat_settings
        panel.findChild(QPlainTextEdit, "chatInstructions").setPlainText(instructions)
        panel.findChild(QDoubleSpinBox, "chatTemperature").setValue(temperature)

    def last_pane(self):
        return self.app.window.chat.messages.widgets[-1].assistant.thinking

    async def shot(self, path: Path) -> None:
        import asyncio

        await asyncio.sleep(0.6)  # the scroll to the bottom and the last repaint
        self.app.window.grab().save(str(path))
        print(f"wrote {path}")

    def close(self) -> None:
        self.app.window.close()
        self.app.shutdown()


async def _take(qapp, out: Path) -> None:
    for theme in ("light", "dark"):
        with tempfile.TemporaryDirectory() as home:
            session = Session(qapp, Path(home), theme)
            await session.ready()
            session.app.settings.set("budget_low", 16)
            session.app.settings.set("budget_message_on", True)  # the closing line, in the thinking
            await session.ask("What is 2 plus 3?")
            await session.ask("What is 37 plus 45?")
            session.last_pane().set_expanded(True)
            await session.shot(out / f"{theme}-thinking.png")
            session.last_pane().set_expanded(False)
            await session.ask("What is 68 plus 27?", effort="low")  # a 16-token budget: cut, then answered
            session.last_pane().set_expanded(True)
            await session.shot(out / f"{theme}-budget.png")
            session.last_pane().set_expanded(False)
            await session.chat_settings("Answer with the sum only.", temperature=0.3)
            await session.shot(out / f"{theme}-this-chat.png")
            session.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    qapp.setApplicationName("Ponder")
    qapp.setApplicationDisplayName("Ponder")
    args.out.mkdir(parents=True, exist_ok=True)
    import asyncio

    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(_take(qapp, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
