"""The hotkey's "selection" on Windows and macOS: copied from the focused app, clipboard put back.

The keys are a fake standing in for the platform (keybd_event / Quartz, tested in test_paste.py):
pressing "copy" puts the app's selected text on the real Qt clipboard, as the app would.
"""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from app.markdown.render import MarkdownRenderer
from app.quick.controller import QuickController
from app.quick.copy_selection import CopyKeys, copy_selection
from app.theme import pick_theme
from engine.assistant import Assistant
from engine.capture.errors import CaptureUnavailableError
from engine.quick_actions.request import QuickRequest
from engine.service import InferenceService


class FakeApp:
    """The focused application: holds the hotkey's keys for a while, then copies its selection."""

    def __init__(self, selected: str, held_polls: int = 3) -> None:
        self.selected, self.held_polls = selected, held_polls
        self.log: list[str] = []

    def modifiers_held(self) -> bool:
        self.log.append("held?")
        self.held_polls -= 1
        return self.held_polls >= 0

    def press_copy(self) -> None:
        self.log.append("copy")
        if self.selected:
            QGuiApplication.clipboard().setText(self.selected)

    def keys(self) -> CopyKeys:
        return CopyKeys(self.press_copy, self.modifiers_held)


def _clipboard_with_rich_text() -> None:
    data = QMimeData()
    data.setText("what the user had copied")
    data.setHtml("<b>what the user had copied</b>")
    QGuiApplication.clipboard().setMimeData(data)



def test_the_selection_is_copied_after_the_hotkey_is_let_go_and_the_clipboard_restored(qtbot, qloop):
    _clipboard_with_rich_text()
    app = FakeApp("the selected words")
    task = asyncio.ensure_future(copy_selection(QGuiApplication.clipboard(), app.keys()))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == "the selected words"
    assert app.log == ["held?"] * 4 + ["copy"]  # no copy while Ctrl+Alt are still down
    restored = QGuiApplication.clipboard().mimeData()
    assert restored.text() == "what the user had copied" and "<b>" in restored.html()


def test_nothing_selected_gives_no_text_and_keeps_the_clipboard(qtbot, qloop):
    _clipboard_with_rich_text()
    task = asyncio.ensure_future(copy_selection(QGuiApplication.clipboard(), FakeApp("", 0).keys()))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == ""  # the old clipboard text is not mistaken for a selection
    assert QGuiApplication.clipboard().text() == "what the user had copied"


def test_a_refused_key_press_keeps_the_clipboard_and_says_why(qtbot, qloop):
    _clipboard_with_rich_text()

    def refuse():
        raise CaptureUnavailableError("allow Ponder in Accessibility")

    task = asyncio.ensure_future(copy_selection(QGuiApplication.clipboard(), CopyKeys(refuse, lambda: False)))
    qtbot.waitUntil(task.done, timeout=5000)
    with pytest.raises(CaptureUnavailableError):
        task.result()
    assert QGuiApplication.clipboard().text() == "what the user had copied"


def test_the_hotkey_request_opens_the_popup_on_the_copied_selection(qtbot, qloop, ponder_home):
    service = InferenceService(paths=ponder_home)
    app = FakeApp("Summarise this paragraph, please.", held_polls=0)
    controller = QuickController(Assistant(service), renderer=lambda: MarkdownRenderer(pick_theme("light", False).markdown),
                                 model_ready=lambda: None, copy_keys=app.keys)
    try:
        assert not QGuiApplication.clipboard().supportsSelection()  # as on Windows and macOS
        with qtbot.waitSignal(controller.popup_shown, timeout=5000) as shown:
            controller.handle(QuickRequest(source="selection"))
        assert shown.args[0].preview.text() == "Summarise this paragraph, please."
        shown.args[0].close()
        nothing = FakeApp("", held_polls=0)
        controller._copy_keys = nothing.keys
        with qtbot.waitSignal(controller.message, timeout=5000) as told:
            controller.handle(QuickRequest(source="selection"))
        assert told.args[0].startswith("Nothing is selected")
    finally:
        controller.close()
        service.close()

