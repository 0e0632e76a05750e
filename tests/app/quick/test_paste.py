"""Replace selection: the answer is always copied; the paste keys are pressed where allowed."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from app.quick import paste
from engine.capture.errors import CaptureUnavailableError


class Recorder:
    """Stands in for user32.dll / ApplicationServices / CoreFoundation: records each call."""

    def __init__(self, trusted: bool = True) -> None:
        self.calls: list[tuple] = []
        self.trusted = trusted

    def __getattr__(self, name):
        if name == "AXIsProcessTrusted":
            return lambda: self.trusted
        if name == "CGEventCreateKeyboardEvent":
            return lambda *args: self.calls.append((name, *args)) or len(self.calls)
        return lambda *args: self.calls.append((name, *args))


def test_windows_presses_ctrl_v_and_lets_both_keys_go():
    user32 = Recorder()
    paste.press_windows(user32)
    assert user32.calls == [("keybd_event", 0x11, 0, 0, 0), ("keybd_event", 0x56, 0, 0, 0),
                            ("keybd_event", 0x56, 0, 2, 0), ("keybd_event", 0x11, 0, 2, 0)]


def test_macos_posts_command_v_down_then_up_and_frees_both_events():
    quartz, cf = Recorder(), Recorder()
    paste.press_macos(quartz, cf)
    created = [c for c in quartz.calls if c[0] == "CGEventCreateKeyboardEvent"]
    assert [c[2:] for c in created] == [(0x09, True), (0x09, False)]
    assert [c[2] for c in quartz.calls if c[0] == "CGEventSetFlags"] == [1 << 20, 1 << 20]
    assert len([c for c in quartz.calls if c[0] == "CGEventPost"]) == 2
    assert len(cf.calls) == 2  # CFRelease for each event


def test_macos_without_accessibility_says_how_to_allow_it():
    quartz = Recorder(trusted=False)
    with pytest.raises(CaptureUnavailableError) as info:
        paste.press_macos(quartz, Recorder())
    assert "Accessibility" in info.value.user_message() and "⌘V" in info.value.user_message()
    assert quartz.calls == []  # no key pressed


def test_where_keys_cannot_be_pressed_the_answer_is_still_copied(qapp):
    assert paste.paste_platform() is None  # offscreen Qt on Linux
    assert not paste.can_paste_back("selection")
    with pytest.raises(CaptureUnavailableError, match="copied"):
        paste.paste_back("the answer")
    assert QGuiApplication.clipboard().text() == "the answer"


def test_replace_is_offered_for_selected_or_copied_text_only(monkeypatch):
    monkeypatch.setattr(paste, "paste_platform", lambda platform=None: "windows")
    assert paste.can_paste_back("selection") and paste.can_paste_back("clipboard")
    assert not paste.can_paste_back("region") and not paste.can_paste_back("stdin")


def test_the_same_key_presses_copy_the_selection_on_windows_and_macos():
    user32 = Recorder()
    paste.press_windows(user32, paste.VK_C)
    assert [c[1] for c in user32.calls] == [0x11, 0x43, 0x43, 0x11]
    quartz = Recorder(trusted=False)
    with pytest.raises(CaptureUnavailableError, match="read the selected text"):
        paste.press_macos(quartz, Recorder(), paste.KVK_ANSI_C, "To read the selected text, allow Ponder")
