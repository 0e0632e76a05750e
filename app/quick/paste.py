"""Paste an answer back over the selection it came from, where the platform allows.

The answer goes on the clipboard, then the paste keys are pressed in whatever window has the
focus once the result window is hidden: XTest on X11, keybd_event on Windows, a Quartz event on
macOS (which needs the Accessibility permission). Wayland lets no app press keys in another, so
there the answer is only copied, and the user is told.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

from PySide6.QtGui import QClipboard, QGuiApplication

from app.quick.user32 import load_user32
from engine.capture.errors import CaptureUnavailableError
from engine.capture.sources import session_kind

VK_CONTROL, VK_C, VK_V, KEYEVENTF_KEYUP = 0x11, 0x43, 0x56, 0x2
KVK_ANSI_C, KVK_ANSI_V, CG_FLAG_COMMAND, CG_HID_EVENT_TAP = 0x08, 0x09, 1 << 20, 0
ACCESSIBILITY = ("The answer was copied. To let Ponder paste it for you, allow Ponder in System Settings › "
                 "Privacy & Security › Accessibility; for now, paste it with ⌘V.")


def paste_platform(platform: str | None = None) -> str | None:
    """'x11', 'windows' or 'macos' where Ponder can press the paste keys, else None."""
    platform = platform or sys.platform
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    if session_kind() == "x11" and QGuiApplication.platformName() == "xcb":
        return "x11"
    return None


def can_paste_back(source: str) -> bool:
    """Replace selection makes sense for text the user selected or copied, where keys can be pressed."""
    return source in ("selection", "clipboard") and paste_platform() is not None


def paste_back(text: str) -> None:
    """Put text on the clipboard and press the paste keys in the focused window."""
    QGuiApplication.clipboard().setText(text, QClipboard.Mode.Clipboard)
    kind = paste_platform()
    if kind == "x11":
        press_x11()
    elif kind == "windows":
        press_windows(load_user32())
    elif kind == "macos":
        press_macos(*quartz())
    else:
        raise CaptureUnavailableError("The answer was copied; paste it with Ctrl+V (this system does not let "
                                      "Ponder paste for you).")


def press_x11() -> None:
    """Ctrl+V through the XTest extension."""
    from Xlib import X, XK
    from Xlib.display import Display
    from Xlib.ext import xtest

    dpy = Display(os.environ.get("DISPLAY"))
    try:
        ctrl = dpy.keysym_to_keycode(XK.string_to_keysym("Control_L"))
        v = dpy.keysym_to_keycode(XK.string_to_keysym("v"))
        for kind, code in ((X.KeyPress, ctrl), (X.KeyPress, v), (X.KeyRelease, v), (X.KeyRelease, ctrl)):
            xtest.fake_input(dpy, kind, code)
        dpy.sync()
    finally:
        dpy.close()


def press_windows(user32: Any, key: int = VK_V) -> None:
    """Ctrl+key (V: paste, C: copy) with keybd_event (user32.dll, or a test's stand-in)."""
    for vk, flags in ((VK_CONTROL, 0), (key, 0), (key, KEYEVENTF_KEYUP), (VK_CONTROL, KEYEVENTF_KEYUP)):
        user32.keybd_event(vk, 0, flags, 0)


def press_macos(quartz: Any, core_foundation: Any, key: int = KVK_ANSI_V,
                refusal: str = ACCESSIBILITY) -> None:
    """⌘key as two Quartz keyboard events; CaptureUnavailableError(refusal) without the
    Accessibility permission."""
    if not quartz.AXIsProcessTrusted():
        raise CaptureUnavailableError(refusal)
    for down in (True, False):
        event = quartz.CGEventCreateKeyboardEvent(None, key, down)
        quartz.CGEventSetFlags(event, CG_FLAG_COMMAND)
        quartz.CGEventPost(CG_HID_EVENT_TAP, event)
        core_foundation.CFRelease(event)


def quartz() -> tuple[Any, Any]:
    """ApplicationServices and CoreFoundation, with the signatures Ponder calls."""
    services = ctypes.CDLL("/System/Library/Frameworks/ApplicationServices.framework/ApplicationServices")
    services.AXIsProcessTrusted.restype = ctypes.c_bool
    services.CGEventCreateKeyboardEvent.restype = ctypes.c_void_p
    services.CGEventCreateKeyboardEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint16, ctypes.c_bool]
    services.CGEventSetFlags.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
    services.CGEventPost.argtypes = [ctypes.c_uint32, ctypes.c_void_p]
    services.CGEventSourceFlagsState.restype = ctypes.c_uint64
    services.CGEventSourceFlagsState.argtypes = [ctypes.c_int32]
    core_foundation = ctypes.CDLL("/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation")
    core_foundation.CFRelease.argtypes = [ctypes.c_void_p]
    return services, core_foundation
