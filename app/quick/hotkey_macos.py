"""The global hotkey on macOS: Carbon's RegisterEventHotKey, through ctypes.

It is still the only macOS API for a system-wide shortcut that needs no Accessibility
permission (an event tap would), and Qt's Cocoa event loop dispatches its events to the
application target, so no thread is needed. QHotkey and most Qt apps use the same calls.
"""

from __future__ import annotations

import ctypes
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.quick.hotkey import HotkeyError, split_hotkey

CARBON = "/System/Library/Frameworks/Carbon.framework/Carbon"
NO_ERR = 0
EVENT_HOT_KEY_EXISTS = -9878
MODIFIERS = {"super": 1 << 8, "shift": 1 << 9, "alt": 1 << 11, "ctrl": 1 << 12}  # cmdKey… controlKey
# kVK_* codes from Carbon's Events.h: positions on an ANSI keyboard, not characters.
_KEYS = dict(zip("asdfhgzxcvbqweryt123465=97-8]ou[ip", [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1E, 0x1F, 0x20, 0x21,
    0x22, 0x23]))
_KEYS.update({"l": 0x25, "j": 0x26, "'": 0x27, "k": 0x28, ";": 0x29, "\\": 0x2A, ",": 0x2B, "/": 0x2C,
              "n": 0x2D, "m": 0x2E, ".": 0x2F, "`": 0x32, "0": 0x1D, "return": 0x24, "enter": 0x24,
              "tab": 0x30, "space": 0x31, "backspace": 0x33, "escape": 0x35, "esc": 0x35, "home": 0x73,
              "pageup": 0x74, "delete": 0x75, "end": 0x77, "pagedown": 0x79, "left": 0x7B, "right": 0x7C,
              "down": 0x7D, "up": 0x7E})
_F_KEYS = [0x7A, 0x78, 0x63, 0x76, 0x60, 0x61, 0x62, 0x64, 0x65, 0x6D, 0x67, 0x6F]


def _fourcc(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "big")


K_EVENT_CLASS_KEYBOARD = _fourcc("keyb")
K_EVENT_HOT_KEY_PRESSED = 5
SIGNATURE = _fourcc("Pndr")


class EventTypeSpec(ctypes.Structure):
    _fields_ = [("eventClass", ctypes.c_uint32), ("eventKind", ctypes.c_uint32)]


class EventHotKeyID(ctypes.Structure):
    _fields_ = [("signature", ctypes.c_uint32), ("id", ctypes.c_uint32)]


EventHandlerProc = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def key_code(key: str) -> int:
    """The macOS virtual key code of a key name ('a', '7', 'f5', 'space'); HotkeyError if unknown."""
    key = key.lower()
    if key.startswith("f") and key[1:].isdigit() and 1 <= int(key[1:]) <= len(_F_KEYS):
        return _F_KEYS[int(key[1:]) - 1]
    if key in _KEYS:
        return _KEYS[key]
    raise HotkeyError(f"Unknown key '{key}'.")


def _load_carbon() -> Any:
    carbon = ctypes.CDLL(CARBON)
    carbon.GetApplicationEventTarget.restype = ctypes.c_void_p
    carbon.InstallEventHandler.argtypes = [ctypes.c_void_p, EventHandlerProc, ctypes.c_uint32,
                                           ctypes.POINTER(EventTypeSpec), ctypes.c_void_p,
                                           ctypes.POINTER(ctypes.c_void_p)]
    carbon.RegisterEventHotKey.argtypes = [ctypes.c_uint32, ctypes.c_uint32, EventHotKeyID, ctypes.c_void_p,
                                           ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)]
    carbon.UnregisterEventHotKey.argtypes = [ctypes.c_void_p]
    carbon.RemoveEventHandler.argtypes = [ctypes.c_void_p]
    return carbon


class MacHotkey(QObject):
    """Registers one key combination for the whole desktop.

    Signals:
        activated(): the keys were pressed (in any application).
    """

    activated = Signal()

    def __init__(self, parent: QObject | None = None, *, carbon: Any = None) -> None:
        super().__init__(parent)
        self._carbon = carbon  # injected by tests; Carbon.framework otherwise
        self._hotkey = ctypes.c_void_p()
        self._handler = ctypes.c_void_p()
        # Kept on self: ctypes frees a callback that Python no longer references.
        self._callback = EventHandlerProc(self._on_event)

    def _api(self) -> Any:
        if self._carbon is None:
            self._carbon = _load_carbon()
        return self._carbon

    def _on_event(self, _next: int, _event: int, _data: int) -> int:
        self.activated.emit()
        return NO_ERR

    def register(self, text: str, display: str | None = None) -> None:  # noqa: ARG002 - X11's signature
        """Register text ('Ctrl+Alt+Space'); HotkeyError if it is malformed or taken."""
        self.unregister()
        modifiers, key = split_hotkey(text)
        flags = 0
        for name in modifiers:
            flags |= MODIFIERS[name]
        code = key_code(key)
        api = self._api()
        spec = EventTypeSpec(K_EVENT_CLASS_KEYBOARD, K_EVENT_HOT_KEY_PRESSED)
        status = api.InstallEventHandler(api.GetApplicationEventTarget(), self._callback, 1,
                                         ctypes.byref(spec), None, ctypes.byref(self._handler))
        if status != NO_ERR:
            raise HotkeyError(f"macOS refused the shortcut handler (error {status}).")
        status = api.RegisterEventHotKey(code, flags, EventHotKeyID(SIGNATURE, 1),
                                         api.GetApplicationEventTarget(), 0, ctypes.byref(self._hotkey))
        if status != NO_ERR:
            api.RemoveEventHandler(self._handler)
            self._handler = ctypes.c_void_p()
            if status == EVENT_HOT_KEY_EXISTS:
                raise HotkeyError(f"{text} is already used by another application. Pick another shortcut.")
            raise HotkeyError(f"macOS refused the shortcut {text} (error {status}).")

    def unregister(self) -> None:
        """Give the keys back (also on quit)."""
        if self._hotkey.value:
            self._api().UnregisterEventHotKey(self._hotkey)
            self._hotkey = ctypes.c_void_p()
        if self._handler.value:
            self._api().RemoveEventHandler(self._handler)
            self._handler = ctypes.c_void_p()
