"""Paste an answer back over the selection it came from, where the platform allows (X11: XTest)."""

from __future__ import annotations

import os

from PySide6.QtGui import QClipboard, QGuiApplication

from engine.capture.errors import CaptureUnavailableError
from engine.capture.sources import session_kind


def can_paste_back(source: str) -> bool:
    """Replace selection makes sense for text the user selected or copied, on X11."""
    return source in ("selection", "clipboard") and session_kind() == "x11" and \
        QGuiApplication.platformName() == "xcb"


def paste_back(text: str) -> None:
    """Put text on the clipboard and press Ctrl+V in the focused window (X11 XTest)."""
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(text, QClipboard.Mode.Clipboard)
    if not can_paste_back("clipboard"):
        raise CaptureUnavailableError("The answer was copied; paste it with Ctrl+V (this system does not let "
                                      "Ponder paste for you).")
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
