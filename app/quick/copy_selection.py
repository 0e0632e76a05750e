"""The selected text where the system keeps no selection apart from the clipboard (Windows, macOS).

The hotkey acts on "the selection". X11 has one (PRIMARY); Windows and macOS do not, so Ponder
does what a person would: copy in the focused app, read the clipboard, and put the clipboard back
as it was. It first waits for the hotkey's own keys to be let go, or the app would receive
Ctrl+Alt+C instead of Ctrl+C.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QClipboard

from app.quick import paste
from app.quick.user32 import load_user32

#: How long the user may hold the hotkey, and how long the app may take to copy.
RELEASE_S, COPY_S = 1.0, 1.0
POLL_S = 0.02
MAC_ACCESSIBILITY = ("To read the selected text, allow Ponder in System Settings › Privacy & Security › "
                     "Accessibility; meanwhile, copy the text and use “Quick action on clipboard”.")
_WIN_MODIFIERS = (0x10, 0x11, 0x12, 0x5B, 0x5C)  # Shift, Ctrl, Alt, left and right Windows keys
_MAC_MODIFIERS = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20)  # Shift, Control, Option, Command


@dataclass(frozen=True)
class CopyKeys:
    """How to press the copy keys, and whether modifier keys are still held, on one platform."""

    press_copy: Callable[[], None]
    modifiers_held: Callable[[], bool]


def platform_keys(platform: str | None = None) -> CopyKeys | None:
    """The copy keys of Windows or macOS; None elsewhere."""
    platform = platform or sys.platform
    if platform == "win32":
        user32 = load_user32()
        return CopyKeys(lambda: paste.press_windows(user32, paste.VK_C),
                        lambda: any(user32.GetAsyncKeyState(vk) & 0x8000 for vk in _WIN_MODIFIERS))
    if platform == "darwin":
        services, core_foundation = paste.quartz()
        return CopyKeys(lambda: paste.press_macos(services, core_foundation, paste.KVK_ANSI_C, MAC_ACCESSIBILITY),
                        lambda: bool(services.CGEventSourceFlagsState(1) & _MAC_MODIFIERS))  # HID state
    return None


async def copy_selection(clipboard: QClipboard, keys: CopyKeys) -> str:
    """The text selected in the focused app ("" when nothing is); the clipboard is left as it was.

    Raises CaptureUnavailableError when the system does not let Ponder press keys.
    """
    deadline = time.monotonic() + RELEASE_S
    while keys.modifiers_held() and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
    saved = _snapshot(clipboard.mimeData(QClipboard.Mode.Clipboard))
    clipboard.clear(QClipboard.Mode.Clipboard)  # so that an unchanged clipboard means "nothing selected"
    try:
        keys.press_copy()
        deadline = time.monotonic() + COPY_S
        text = ""
        while not text and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            text = clipboard.text(QClipboard.Mode.Clipboard)
        return text
    finally:
        clipboard.setMimeData(saved, QClipboard.Mode.Clipboard)


def _snapshot(data: QMimeData | None) -> QMimeData:
    """A copy of every format on the clipboard (text, rich text, images, files)."""
    copy = QMimeData()
    if data is not None:
        for fmt in data.formats():
            copy.setData(fmt, data.data(fmt))
    return copy
