"""Click to Do inside the chat window's process: tray, global hotkey and single instance.

`attach_quick_actions(app)` (called from app/main.py build_app) wires a QuickController to the
window's own Assistant, so quick actions use the model the window loaded — never a second copy.
`start()` (from PonderApp.run) makes this process the single instance and applies the tray and
hotkey settings; `apply()` follows later changes from the settings dialog. With the tray on,
closing the window only hides it; Quit (tray or File menu) ends the app cleanly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from app.markdown.render import MarkdownRenderer
from app.quick.controller import QuickController
from app.quick.hotkey import NATIVE, HotkeyError, hotkey_support, make_hotkey
from app.quick.instance import OPEN_CHAT, InstanceServer
from app.quick.tray import Tray
from engine.errors import PonderError
from engine.paths import resources_dir
from engine.quick_actions.request import QuickRequest
from engine.request import Sampling
from engine.settings import Settings

if TYPE_CHECKING:
    from app.main import PonderApp

log = logging.getLogger(__name__)

NO_TRAY = ("There is no system tray on this desktop, so closing the window quits Ponder. "
           "Quick actions still work through the “ponder act” command.")


class WindowQuickActions(QObject):
    """The quick-action side of the window's process.

    Attributes:
        controller: runs the actions on the window's Assistant.
        tray: the tray icon while the tray setting is on (and a tray exists), else None.
        hotkey_text: the global shortcut in effect, "" when none is registered.
    """

    def __init__(self, app: PonderApp, *, tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
                 hotkey_support: Callable[[], str] = hotkey_support) -> None:
        super().__init__(app.window)
        self.app = app
        self.tray_available = tray_available
        self.hotkey_support = hotkey_support
        self.controller = QuickController(app.assistant, renderer=self._renderer, model_ready=self.model_ready,
                                          open_chat=self.open_chat, sampling=self._sampling, ops=app.ops,
                                          parent=self)
        self.controller.message.connect(self.tell)
        self.server = InstanceServer(app.paths, self)
        self.server.request_received.connect(self.handle)
        self.hotkey = make_hotkey(self)
        self.hotkey.activated.connect(lambda: self.handle(QuickRequest(source="selection")))
        self.hotkey_text = ""
        self._hotkey_wanted = ""
        self.tray: Tray | None = None
        self.selection_kept: Callable[[], bool] = lambda: QGuiApplication.clipboard().supportsSelection()
        self.quitting = False
        self.listening = False
        app.window.installEventFilter(self)

    # --- life cycle ---

    def start(self) -> None:
        """Become the single instance, then follow the tray and hotkey settings."""
        self.listening = self.server.listen()
        if not self.listening:
            log.warning("another Ponder already answers hand-overs; this window will not")
        self.apply(self.app.settings)

    def apply(self, settings: Settings) -> None:
        """Show or hide the tray; (re)register the hotkey. The hotkey does not need the tray (it
        works while the window is open either way): tying them together is what users of other
        assistants complain about."""
        wanted = bool(settings.get("tray"))
        if wanted and self.tray is None:
            if self.tray_available():
                self.tray = Tray(QIcon(str(resources_dir() / "icons" / "ponder.svg")),
                                 on_source=lambda source: self.handle(QuickRequest(source=source)),
                                 on_open_chat=self.app.bring_to_front, on_quit=self.app.quit,
                                 hotkey_text=lambda: self.hotkey_text,
                                 selection_kept=self.selection_kept)
                self.tray.show()
            else:
                self.app.window.notice_banner.show_message(NO_TRAY, kind="warning")
        elif not wanted and self.tray is not None:
            self._drop_tray()
        self._apply_hotkey(settings.get("hotkey"))

    def _apply_hotkey(self, keys: str) -> None:
        if keys == self._hotkey_wanted:
            return
        self._hotkey_wanted = keys
        self.hotkey.unregister()
        self.hotkey_text = ""
        if not keys:
            return
        support = self.hotkey_support()
        if support not in NATIVE:
            log.info("no global hotkey here: %s", support)
            return
        try:
            self.hotkey.register(keys)
        except HotkeyError as exc:
            self.app.window.notice_banner.show_message(f"The global hotkey is not active: {exc}", kind="warning",
                                                       action="Settings")
            return
        self.hotkey_text = keys

    def keeps_running(self) -> bool:
        """True when closing the window should only hide it (the tray is there to come back)."""
        return self.tray is not None and not self.quitting

    def close(self) -> None:
        """Clean quit: quick windows, hotkey, socket, tray."""
        self.quitting = True
        self.controller.close()
        self.hotkey.unregister()
        self.server.close()
        self._drop_tray()

    def _drop_tray(self) -> None:
        if self.tray is not None:
            self.tray.hide()
            self.tray.deleteLater()
            self.tray = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # With the tray on, closing the window hides it; the window's `closing` (which ends the
        # app and closes the history store) is kept for a real quit.
        if watched is self.app.window and event.type() == QEvent.Type.Close and self.keeps_running():
            event.ignore()
            self.app.window.hide()
            return True
        return super().eventFilter(watched, event)

    # --- requests ---

    def handle(self, request: QuickRequest) -> None:
        """A request from the tray, the hotkey or another `ponder` process."""
        if request.action == OPEN_CHAT:
            self.app.bring_to_front()
            return
        self.controller.handle(request)

    def tell(self, text: str) -> None:
        """A message about a quick action: in the tray while the window is hidden, else in the window."""
        if self.tray is not None and not self.app.window.isVisible():
            self.tray.showMessage("Ponder", text)
        else:
            self.app.window.notice_banner.show_message(text, kind="warning")

    # --- the window's model and conversation ---

    async def model_ready(self) -> Path | None:
        """The folder of the window's model once loaded (starting the load if nobody did); None
        for a model on a remote server (its special tokens are then neutralised generically)."""
        if self.app.load_task is None:
            self.app.start_loading()
        try:
            ready = await self.app.host.wait_ready()  # the newest model asked for, once loaded
        except PonderError:
            raise PonderError("The model could not be loaded. The main window says why.") from None
        folder = getattr(ready.result, "folder", None)
        return folder.path if folder is not None else None

    def _sampling(self) -> Sampling:
        settings = self.app.settings
        if self.app.controller.greedy:
            return Sampling(greedy=True)
        return Sampling(temperature=settings.get("temperature"), top_p=settings.get("top_p"))

    def _renderer(self) -> MarkdownRenderer:
        return MarkdownRenderer(self.app.theme.markdown, self.app.math.lookup)

    def open_chat(self, question: str, answer: str) -> None:
        """Continue in chat: the exchange joins the window's conversation, and the window comes up."""
        # An empty answer joins too: the user may want to ask again in the chat.
        if question and not self.app.controller.add_finished(question, answer):
            raise PonderError("The chat is still answering. Try again when it has finished.")
        self.app.bring_to_front()


def attach_quick_actions(app: PonderApp) -> WindowQuickActions:
    """Build the quick-action side for the window (nothing listens or shows until start())."""
    quick = WindowQuickActions(app)
    app.quick = quick
    return quick
