"""The global hotkey on Windows: RegisterHotKey, with WM_HOTKEY read through Qt.

RegisterHotKey(NULL, id, …) posts WM_HOTKEY to the calling thread's message queue (the GUI
thread's); Qt's event dispatcher shows every such message to native event filters as
"windows_generic_MSG", so no extra window or thread is needed. Unlike a keyboard hook it
consumes the keys and fails when another app already owns them, which lets the settings say so.
"""

from __future__ import annotations

import ctypes
from ctypes import wintypes
from typing import Any

from PySide6.QtCore import QAbstractNativeEventFilter, QCoreApplication, QObject, Signal

from app.quick.hotkey import HotkeyError, split_hotkey
from app.quick.user32 import load_user32

WM_HOTKEY = 0x0312
MOD_NOREPEAT = 0x4000  # one WM_HOTKEY per press, not one per auto-repeat
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
HOTKEY_ID = 0x5044  # any id in 0x0000–0xBFFF, unique within this process
MODIFIERS = {"alt": 0x1, "ctrl": 0x2, "shift": 0x4, "super": 0x8}
_NAMED = {"space": 0x20, "enter": 0x0D, "return": 0x0D, "tab": 0x09, "escape": 0x1B, "esc": 0x1B,
          "backspace": 0x08, "insert": 0x2D, "delete": 0x2E, "home": 0x24, "end": 0x23, "pageup": 0x21,
          "pagedown": 0x22, "left": 0x25, "up": 0x26, "right": 0x27, "down": 0x28, "pause": 0x13,
          "print": 0x2C, ";": 0xBA, "=": 0xBB, ",": 0xBC, "-": 0xBD, ".": 0xBE, "/": 0xBF, "`": 0xC0,
          "[": 0xDB, "\\": 0xDC, "]": 0xDD, "'": 0xDE}


def virtual_key(key: str) -> int:
    """The Windows virtual-key code of a key name ('a', '7', 'f5', 'space'); HotkeyError if unknown."""
    key = key.lower()
    if len(key) == 1 and (key.isascii() and key.isalnum()):
        return ord(key.upper())  # VK_A… and VK_0… are the ASCII codes
    if key.startswith("f") and key[1:].isdigit() and 1 <= int(key[1:]) <= 24:
        return 0x70 + int(key[1:]) - 1
    if key in _NAMED:
        return _NAMED[key]
    raise HotkeyError(f"Unknown key '{key}'.")


class _MessageFilter(QAbstractNativeEventFilter):
    """Sees every native message of the GUI thread; reacts only to our WM_HOTKEY."""

    def __init__(self, on_hotkey) -> None:  # noqa: ANN001 - a plain callable
        super().__init__()
        self._on_hotkey = on_hotkey

    def nativeEventFilter(self, event_type: Any, message: Any) -> tuple[bool, int]:  # noqa: N802 - Qt's name
        if bytes(event_type) != b"windows_generic_MSG":
            return False, 0
        msg = wintypes.MSG.from_address(int(message))
        if msg.message == WM_HOTKEY and msg.wParam == HOTKEY_ID:
            self._on_hotkey()
            return True, 0
        return False, 0


class WindowsHotkey(QObject):
    """Registers one key combination for the whole desktop.

    Signals:
        activated(): the keys were pressed (in any application).
    """

    activated = Signal()

    def __init__(self, parent: QObject | None = None, *, user32: Any = None) -> None:
        super().__init__(parent)
        self._user32 = user32  # injected by tests; the real user32.dll otherwise
        self._filter = _MessageFilter(self.activated.emit)
        self._registered = False

    def _api(self) -> Any:
        if self._user32 is None:
            self._user32 = load_user32(use_last_error=True)
        return self._user32

    def register(self, text: str, display: str | None = None) -> None:  # noqa: ARG002 - X11's signature
        """Register text ('Ctrl+Alt+Space'); HotkeyError if it is malformed or taken."""
        self.unregister()
        modifiers, key = split_hotkey(text)
        flags = MOD_NOREPEAT
        for name in modifiers:
            flags |= MODIFIERS[name]
        vk = virtual_key(key)
        api = self._api()
        if not api.RegisterHotKey(None, HOTKEY_ID, flags, vk):
            code = ctypes.get_last_error() if hasattr(ctypes, "get_last_error") else 0
            if code in (ERROR_HOTKEY_ALREADY_REGISTERED, 0):
                raise HotkeyError(f"{text} is already used by another application. Pick another shortcut.")
            raise HotkeyError(f"Windows refused the shortcut {text} (error {code}).")
        self._registered = True
        app = QCoreApplication.instance()
        assert app is not None, "hotkeys are registered by a running Qt application"
        app.installNativeEventFilter(self._filter)

    def unregister(self) -> None:
        """Give the keys back (also on quit)."""
        if not self._registered:
            return
        self._registered = False
        self._api().UnregisterHotKey(None, HOTKEY_ID)
        app = QCoreApplication.instance()
        if app is not None:
            app.removeNativeEventFilter(self._filter)
