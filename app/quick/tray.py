"""The tray icon; its menu is rebuilt each time it opens (Vorta's tray_menu.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon


class Tray(QSystemTrayIcon):
    """Quick action on selection / clipboard / a screen region…, Open chat, Quit."""

    def __init__(self, icon: QIcon, *, on_source: Callable[[str], object], on_open_chat: Callable[[], None],
                 on_quit: Callable[[], None], hotkey_text: Callable[[], str],
                 selection_kept: Callable[[], bool] = lambda: True) -> None:
        """selection_kept: the system keeps a selection apart from the clipboard (X11). Elsewhere
        a click in the tray moves the focus away from the selected text, so only the hotkey can
        act on it, and the menu says so. What on_source returns (a task) is not used."""
        super().__init__(icon)
        self._selection_kept = selection_kept
        self.setToolTip("Ponder")
        self._on_source, self._on_open_chat, self._on_quit = on_source, on_open_chat, on_quit
        self._hotkey_text = hotkey_text
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.menu.aboutToShow.connect(self.rebuild)
        self.setContextMenu(self.menu)
        self.activated.connect(self._on_activated)
        self.rebuild()

    def rebuild(self) -> None:
        """Fresh entries (the hotkey may have changed since the last time)."""
        self.menu.clear()
        hotkey = self._hotkey_text()
        if self._selection_kept():
            selection = self.menu.addAction("Quick action on selection" + (f"\t{hotkey}" if hotkey else ""))
            selection.triggered.connect(lambda: self._on_source("selection"))
        elif hotkey:
            self.menu.addAction(f"On selected text: press {hotkey} in any app").setEnabled(False)
        self.menu.addAction("Quick action on clipboard").triggered.connect(lambda: self._on_source("clipboard"))
        self.menu.addAction("Quick action on a screen region…").triggered.connect(lambda: self._on_source("region"))
        self.menu.addSeparator()
        self.menu.addAction("Open chat").triggered.connect(self._on_open_chat)
        self.menu.addSeparator()
        self.menu.addAction("Quit Ponder").triggered.connect(self._on_quit)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._on_open_chat()
