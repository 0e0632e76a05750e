"""The Windows and macOS hotkeys, driven through fakes of user32 and Carbon (no such OS here).

What the fakes stand for is the documented contract: RegisterHotKey fails with error 1409 when
another app owns the keys and then posts WM_HOTKEY with our id to the GUI thread, which Qt shows
to native event filters; RegisterEventHotKey reports -9878 for a taken shortcut and calls the
installed handler on a press. The code under test is the real one, Qt filter and ctypes callback
included.
"""

from __future__ import annotations

import ctypes
from ctypes import wintypes

import pytest
from PySide6.QtCore import QByteArray

from app.quick.hotkey import NATIVE, HotkeyError, hotkey_support, make_hotkey, split_hotkey
from app.quick.hotkey_macos import EVENT_HOT_KEY_EXISTS, MacHotkey, key_code
from app.quick.hotkey_windows import HOTKEY_ID, MOD_NOREPEAT, WM_HOTKEY, WindowsHotkey, virtual_key
from tests.app.quick.native_fakes import CARBON, USER32, NativeLibrary, SignatureRecorder, set_signatures


class FakeUser32(NativeLibrary):
    """RegisterHotKey/UnregisterHotKey (their real signatures) with one system-wide table of
    taken combinations."""

    def __init__(self, taken=()) -> None:
        super().__init__(USER32, RegisterHotKey=self._register, UnregisterHotKey=self._unregister)
        self.taken = set(taken)
        self.registered: dict[int, tuple[int, int]] = {}

    def _register(self, hwnd, ident, modifiers, vk):
        if (modifiers & ~MOD_NOREPEAT, vk) in self.taken:
            return 0
        self.registered[ident] = (modifiers, vk)
        return 1

    def _unregister(self, hwnd, ident):
        return 1 if self.registered.pop(ident, None) else 0


def _post(hotkey: WindowsHotkey, ident: int, message: int = WM_HOTKEY) -> bool:
    """What Qt's dispatcher does with a thread message: show it to the native event filters."""
    msg = wintypes.MSG(None, message, ident, 0, 0, wintypes.POINT(0, 0))
    handled, _result = hotkey._filter.nativeEventFilter(QByteArray(b"windows_generic_MSG"), ctypes.addressof(msg))
    return handled


def test_windows_registers_the_keys_and_fires_on_its_own_message(qtbot, qapp):
    user32 = FakeUser32()
    hotkey = WindowsHotkey(user32=user32)
    hotkey.register("Ctrl+Alt+Space")
    assert user32.registered[HOTKEY_ID] == (0x2 | 0x1 | MOD_NOREPEAT, 0x20)
    with qtbot.waitSignal(hotkey.activated, timeout=1000):
        assert _post(hotkey, HOTKEY_ID)
    with qtbot.assertNotEmitted(hotkey.activated):
        assert not _post(hotkey, HOTKEY_ID + 1)  # another app's id in our queue: not ours
        assert not _post(hotkey, HOTKEY_ID, message=0x0100)  # WM_KEYDOWN
    hotkey.unregister()
    assert user32.registered == {}


def test_windows_reports_a_shortcut_another_app_owns(qapp):
    user32 = FakeUser32(taken={(0x2 | 0x1, 0x20)})
    with pytest.raises(HotkeyError, match="already used"):
        WindowsHotkey(user32=user32).register("Ctrl+Alt+Space")
    WindowsHotkey(user32=user32).register("Ctrl+Alt+K")  # a free one works


@pytest.mark.parametrize("key, code", [("a", 0x41), ("Z", 0x5A), ("7", 0x37), ("F1", 0x70), ("f24", 0x87),
                                       ("space", 0x20), ("PageDown", 0x22), ("/", 0xBF)])
def test_windows_virtual_keys(key, code):
    assert virtual_key(key) == code


class FakeCarbon(NativeLibrary):
    """The Carbon calls MacHotkey makes (their real signatures), with a table of taken combinations."""

    def __init__(self, taken=()) -> None:
        super().__init__(CARBON, GetApplicationEventTarget=lambda: 42,
                         InstallEventHandler=self._install, RemoveEventHandler=self._remove,
                         RegisterEventHotKey=self._register, UnregisterEventHotKey=self._unregister)
        self.taken = set(taken)
        self.handler = None
        self.hotkeys: dict[int, tuple[int, int]] = {}
        self.removed = 0

    def _install(self, target, callback, count, spec, data, handler_ref):
        assert target == 42 and count == 1 and spec._obj.eventKind == 5
        self.handler = callback
        handler_ref._obj.value = 7
        return 0

    def _remove(self, handler):
        self.removed += 1
        self.handler = None
        return 0

    def _register(self, code, modifiers, ident, target, options, hotkey_ref):
        if (code, modifiers) in self.taken:
            return EVENT_HOT_KEY_EXISTS
        self.hotkeys[99] = (code, modifiers)
        hotkey_ref._obj.value = 99
        return 0

    def _unregister(self, hotkey):
        self.hotkeys.pop(hotkey.value)
        return 0

    def press(self) -> int:
        return self.handler(None, None, None)  # Carbon calling back into Python through ctypes


def test_carbon_is_declared_with_the_documented_signatures(monkeypatch):
    from app.quick import hotkey_macos

    monkeypatch.setattr(ctypes, "CDLL", SignatureRecorder)
    declared = set_signatures(hotkey_macos._load_carbon())
    assert set(declared) <= set(CARBON)
    for name, (argtypes, restype) in declared.items():
        if argtypes is not None:
            assert argtypes == CARBON[name].argtypes, name
        assert restype == CARBON[name].restype or (restype is ctypes.c_int and CARBON[name].restype is ctypes.c_int32), name


def test_macos_registers_the_keys_and_fires_from_the_carbon_callback(qtbot, qapp):
    carbon = FakeCarbon()
    hotkey = MacHotkey(carbon=carbon)
    hotkey.register("Ctrl+Alt+Space")
    assert carbon.hotkeys[99] == (0x31, (1 << 12) | (1 << 11))
    with qtbot.waitSignal(hotkey.activated, timeout=1000):
        assert carbon.press() == 0
    hotkey.unregister()
    assert carbon.hotkeys == {} and carbon.removed == 1


def test_macos_reports_a_taken_shortcut_and_leaves_no_handler(qapp):
    carbon = FakeCarbon(taken={(0x31, (1 << 12) | (1 << 11))})
    with pytest.raises(HotkeyError, match="already used"):
        MacHotkey(carbon=carbon).register("Ctrl+Alt+Space")
    assert carbon.handler is None


@pytest.mark.parametrize("key, code", [("a", 0x00), ("0", 0x1D), ("9", 0x19), ("F5", 0x60), ("space", 0x31),
                                       ("Escape", 0x35), ("up", 0x7E)])
def test_macos_key_codes(key, code):
    assert key_code(key) == code


@pytest.mark.parametrize("cls, kwargs", [(WindowsHotkey, {"user32": FakeUser32()}),
                                         (MacHotkey, {"carbon": FakeCarbon()})])
@pytest.mark.parametrize("text", ["", "Space", "Hyper+X", "Ctrl+NoSuchKey"])
def test_bad_shortcuts_are_refused_on_every_platform(qapp, cls, kwargs, text):
    with pytest.raises(HotkeyError):
        cls(**kwargs).register(text)


def test_each_platform_gets_its_own_hotkey(qapp):
    assert hotkey_support(platform="win32") == "windows" and hotkey_support(platform="darwin") == "macos"
    assert set(NATIVE) == {"x11", "windows", "macos"}
    assert isinstance(make_hotkey(support="windows"), WindowsHotkey)
    assert isinstance(make_hotkey(support="macos"), MacHotkey)
    assert split_hotkey("Control+Win+Shift+F2") == (frozenset({"ctrl", "super", "shift"}), "f2")
