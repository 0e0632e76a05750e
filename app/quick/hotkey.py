"""A global hotkey where the platform lets an app grab one: X11 (python-xlib, here), Windows
(app/quick/hotkey_windows.py) and macOS (app/quick/hotkey_macos.py). `make_hotkey()` picks one;
each has register(text)/unregister() and an `activated` signal.

Wayland does not let apps grab keys: there the settings tell the user to bind `ponder act` in
the desktop's own keyboard settings (WAYLAND_HELP).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, Signal

if TYPE_CHECKING:  # each platform's module is imported only there (they import this one)
    from app.quick.hotkey_macos import MacHotkey
    from app.quick.hotkey_windows import WindowsHotkey

log = logging.getLogger(__name__)

DEFAULT_HOTKEY = "Ctrl+Alt+Space"

WAYLAND_HELP = (
    "On Wayland, apps cannot grab a global shortcut. Open your desktop's keyboard settings "
    "(GNOME: Settings › Keyboard › Custom Shortcuts; KDE: System Settings › Shortcuts › "
    "Custom Shortcuts), add a shortcut that runs the command “ponder act”, and give it the keys you like."
)

_MODIFIERS = {"ctrl": "ControlMask", "control": "ControlMask", "alt": "Mod1Mask", "shift": "ShiftMask",
              "super": "Mod4Mask", "win": "Mod4Mask", "meta": "Mod4Mask"}


#: What hotkey_support() returns where make_hotkey() gives a working hotkey.
NATIVE = ("x11", "windows", "macos")
_CANONICAL = {"ctrl": "ctrl", "control": "ctrl", "alt": "alt", "shift": "shift", "super": "super",
              "win": "super", "meta": "super"}


class HotkeyError(Exception):
    """The hotkey could not be registered; str() says why, for the user."""


def split_hotkey(text: str) -> tuple[frozenset[str], str]:
    """'Ctrl+Alt+Space' → ({'ctrl', 'alt'}, 'space'): modifiers named ctrl/alt/shift/super, for
    the Windows and macOS hotkeys; HotkeyError if malformed."""
    _masks, key = parse_hotkey(text)  # the same checks and messages everywhere
    mods = [p.strip().lower() for p in text.split("+") if p.strip()][:-1]
    return frozenset(_CANONICAL[m] for m in mods), key


def parse_hotkey(text: str) -> tuple[list[str], str]:
    """'Ctrl+Alt+Space' → (['ControlMask', 'Mod1Mask'], 'space'); HotkeyError if malformed."""
    parts = [p.strip() for p in text.split("+") if p.strip()]
    if not parts:
        raise HotkeyError("The shortcut is empty.")
    *mods, key = parts
    masks = []
    for mod in mods:
        if mod.lower() not in _MODIFIERS:
            raise HotkeyError(f"Unknown modifier '{mod}' (use Ctrl, Alt, Shift or Super).")
        masks.append(_MODIFIERS[mod.lower()])
    if not masks:
        raise HotkeyError("A global shortcut needs at least one modifier (Ctrl, Alt, Shift or Super).")
    return masks, key.lower() if len(key) > 1 else key.lower()


class X11Hotkey(QObject):
    """Grabs one key combination on the X11 root window.

    Signals:
        activated(): the keys were pressed (anywhere on the desktop).
    """

    activated = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = None
        self._notifier: QSocketNotifier | None = None
        self._grabs: list[tuple[int, int]] = []

    def register(self, text: str, display: str | None = None) -> None:
        """Grab text ('Ctrl+Alt+Space'); HotkeyError if the platform or another app prevents it."""
        from Xlib import X, XK, error
        from Xlib.display import Display

        self.unregister()
        masks, key = parse_hotkey(text)
        name = display or os.environ.get("DISPLAY")
        if not name:
            raise HotkeyError("There is no X11 display to register the shortcut on.")
        try:
            dpy = Display(name)
        except (error.DisplayError, OSError) as exc:
            raise HotkeyError(f"Cannot open the X11 display: {exc}") from exc
        keysym = XK.string_to_keysym(key) or XK.string_to_keysym(key.capitalize())
        keycode = dpy.keysym_to_keycode(keysym) if keysym else 0
        if not keycode:
            dpy.close()
            raise HotkeyError(f"Unknown key '{key}'.")
        modifiers = 0
        for mask in masks:
            modifiers |= getattr(X, mask)
        root = dpy.screen().root
        failed: list[bool] = []
        # Also grab with Caps Lock and Num Lock on, or the shortcut would silently not work then.
        for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):
            root.grab_key(keycode, modifiers | extra, True, X.GrabModeAsync, X.GrabModeAsync,
                          onerror=lambda *a: failed.append(True))
            self._grabs.append((keycode, modifiers | extra))
        dpy.sync()
        if failed:
            self._display = dpy
            self.unregister()
            raise HotkeyError(f"{text} is already used by another application. Pick another shortcut.")
        self._display = dpy
        self._notifier = QSocketNotifier(dpy.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def unregister(self) -> None:
        """Release the grab (also on quit)."""
        if self._notifier is not None:
            try:
                self._notifier.setEnabled(False)
            except RuntimeError:
                pass  # already deleted with its parent at shutdown
            self._notifier = None
        if self._display is not None:
            root = self._display.screen().root
            for keycode, modifiers in self._grabs:
                root.ungrab_key(keycode, modifiers)
            self._display.sync()
            self._display.close()
            self._display = None
        self._grabs = []

    def _drain(self, *_args) -> None:
        from Xlib import X

        dpy = self._display
        if dpy is None:
            return
        from Xlib import error

        fire = False
        try:
            while dpy.pending_events():
                if dpy.next_event().type == X.KeyPress:
                    fire = True
        except (error.ConnectionClosedError, OSError):
            # The X server went away (logout): drop the grab quietly.
            if self._notifier is not None:
                self._notifier.setEnabled(False)
            self._notifier, self._display, self._grabs = None, None, []
            return
        if fire:
            self.activated.emit()


def hotkey_support(environ: dict[str, str] | None = None, platform: str | None = None) -> str:
    """One of NATIVE where a global hotkey works, else a sentence for the settings on what to do."""
    from engine.capture.sources import session_kind

    platform = platform or sys.platform
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    kind = session_kind(environ)
    if kind == "x11":
        return "x11"
    if kind == "wayland":
        return WAYLAND_HELP
    return ("Ponder cannot register a global shortcut on this system yet. Bind the command "
            "“ponder act” to a key in your system's keyboard settings.")


def make_hotkey(parent: QObject | None = None,
                support: str | None = None) -> X11Hotkey | WindowsHotkey | MacHotkey:
    """The hotkey for this platform (an X11Hotkey where none works: register() then fails)."""
    support = support or hotkey_support()
    if support == "windows":
        from app.quick.hotkey_windows import WindowsHotkey

        return WindowsHotkey(parent)
    if support == "macos":
        from app.quick.hotkey_macos import MacHotkey

        return MacHotkey(parent)
    return X11Hotkey(parent)
