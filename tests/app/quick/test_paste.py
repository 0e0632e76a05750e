"""Replace selection: the answer is always copied; the paste keys are pressed where allowed."""

from __future__ import annotations

import ctypes

import pytest
from PySide6.QtGui import QGuiApplication

from app.quick import paste
from engine.capture.errors import CaptureUnavailableError
from tests.app.quick.native_fakes import (
    CORE_FOUNDATION, QUARTZ, USER32, NativeLibrary, SignatureRecorder, set_signatures,
)


def user32() -> NativeLibrary:
    return NativeLibrary(USER32)


def quartz(trusted: bool = True) -> NativeLibrary:
    events = iter(range(0x1000, 0x2000, 0x10))  # CGEventRef values, as pointers
    return NativeLibrary(QUARTZ, AXIsProcessTrusted=lambda: trusted,
                         CGEventCreateKeyboardEvent=lambda source, key, down: next(events))


def core_foundation() -> NativeLibrary:
    return NativeLibrary(CORE_FOUNDATION)


def test_windows_presses_ctrl_v_and_lets_both_keys_go():
    lib = user32()
    paste.press_windows(lib)
    assert lib.calls == [("keybd_event", 0x11, 0, 0, 0), ("keybd_event", 0x56, 0, 0, 0),
                            ("keybd_event", 0x56, 0, 2, 0), ("keybd_event", 0x11, 0, 2, 0)]


def test_macos_posts_command_v_down_then_up_and_frees_both_events():
    services, cf = quartz(), core_foundation()
    paste.press_macos(services, cf)
    created = [c for c in services.calls if c[0] == "CGEventCreateKeyboardEvent"]
    assert [c[2:] for c in created] == [(0x09, True), (0x09, False)]
    assert [c[2] for c in services.calls if c[0] == "CGEventSetFlags"] == [1 << 20, 1 << 20]
    posted = [c[2] for c in services.calls if c[0] == "CGEventPost"]
    assert len(posted) == 2
    assert [c[1] for c in cf.calls] == posted  # each posted event is released


def test_macos_without_accessibility_says_how_to_allow_it():
    services = quartz(trusted=False)
    with pytest.raises(CaptureUnavailableError) as info:
        paste.press_macos(services, core_foundation())
    assert "Accessibility" in info.value.user_message() and "⌘V" in info.value.user_message()
    assert [c[0] for c in services.calls] == ["AXIsProcessTrusted"]  # no key pressed


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
    lib = user32()
    paste.press_windows(lib, paste.VK_C)
    assert [c[1] for c in lib.calls] == [0x11, 0x43, 0x43, 0x11]
    with pytest.raises(CaptureUnavailableError, match="read the selected text"):
        paste.press_macos(quartz(trusted=False), core_foundation(), paste.KVK_ANSI_C,
                          "To read the selected text, allow Ponder")


def test_the_fakes_refuse_what_the_real_libraries_would():
    lib = user32()
    with pytest.raises(AttributeError):
        lib.keybd_evnt(0x11, 0, 0, 0)  # misspelt: no such export
    with pytest.raises(TypeError):
        lib.keybd_event(0x11, 0, 0)  # one argument short
    with pytest.raises(ctypes.ArgumentError):
        lib.keybd_event("ctrl", 0, 0, 0)  # not a BYTE
    with pytest.raises(ctypes.ArgumentError):
        core_foundation().CFRelease(1.5)  # not a pointer


def test_quartz_declares_the_documented_signatures(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", SignatureRecorder)
    services, cf = paste.quartz()
    for library, table in ((services, QUARTZ), (cf, CORE_FOUNDATION)):
        for name, (argtypes, restype) in set_signatures(library).items():
            assert name in table, name
            if argtypes is not None:
                assert argtypes == table[name].argtypes, name
            if table[name].restype is not None:
                assert restype == table[name].restype, name
