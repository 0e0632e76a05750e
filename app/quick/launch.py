"""`ponder act` when no Ponder is running: the quick-action side of the app in this process.

It becomes the single instance (later `ponder act` calls hand their requests to it), shows the
tray icon where there is a tray, grabs the global hotkey where the platform allows, loads the
model in the background and runs the request. Without a tray it quits when its windows close.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app.markdown.render import MarkdownRenderer
from app.qapp import widgets_application
from app.quick.controller import QuickController
from app.quick.hotkey import DEFAULT_HOTKEY, NATIVE, HotkeyError, hotkey_support, make_hotkey
from app.quick.instance import OPEN_CHAT, InstanceServer
from app.quick.tray import Tray
from app.theme import apply_theme, pick_theme, system_is_dark
from engine.host import Idle, LoadFailed, ModelHost
from engine.host.kinds import KindBackend, saved_connections
from engine.models import default_model
from engine.paths import Paths, resources_dir
from engine.quick_actions.handoff import hand_over
from engine.quick_actions.request import QuickRequest
from engine.remote.service import RemoteLoadResult
from engine.service import InferenceService, LoadResult

if TYPE_CHECKING:
    from app.main import PonderApp  # imported when the chat window is first opened

log = logging.getLogger(__name__)


class QuickApp:
    """The object graph of the quick-action process."""

    def __init__(self, qapp: QApplication, paths: Paths, *, model: str | None, provider: str | None,
                 hotkey: str = DEFAULT_HOTKEY, use_tray: bool = True) -> None:
        self.qapp, self.paths = qapp, paths
        # The model goes through the host as everywhere: files verified, catalog setup applied.
        # (The chat window it opens shares this host, and its model picker may choose a remote model.)
        self.service = InferenceService(paths=paths)
        self.host = ModelHost(KindBackend(self.service, saved_connections(paths)), paths=paths)
        self.assistant = self.host.assistant
        self.model_spec = model or default_model(paths)
        self.provider = provider or "auto"
        self.result: LoadResult | RemoteLoadResult | None = None
        self.chat: PonderApp | None = None  # the chat window, once opened
        theme = pick_theme("auto", system_is_dark(qapp))
        apply_theme(qapp, theme, 0)  # the popup and result windows look as in the chat window
        self.controller = QuickController(self.assistant, renderer=lambda: MarkdownRenderer(theme.markdown),
                                          model_ready=self.model_ready, open_chat=self.open_chat)
        self.server = InstanceServer(paths)
        self.server.request_received.connect(self._on_request)
        self.hotkey_text = ""
        self.hotkey = make_hotkey()
        self.hotkey.activated.connect(lambda: self.controller.handle(QuickRequest(source="selection")))
        if hotkey_support() in NATIVE:
            try:
                self.hotkey.register(hotkey)
                self.hotkey_text = hotkey
            except HotkeyError as exc:
                log.warning("global shortcut: %s", exc)
        self.tray: Tray | None = None
        if use_tray and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = Tray(QIcon(str(resources_dir() / "icons" / "ponder.svg")),
                             on_source=lambda s: self.controller.handle(QuickRequest(source=s)),
                             on_open_chat=lambda: self.open_chat("", ""), on_quit=self.quit,
                             hotkey_text=lambda: self.hotkey_text,
                             selection_kept=lambda: QGuiApplication.clipboard().supportsSelection())
            self.controller.message.connect(lambda text: self.tray.showMessage("Ponder", text))
        else:
            self.controller.message.connect(self._message_box)
        self._quit: asyncio.Future[None] | None = None

    def _on_request(self, request: QuickRequest) -> None:
        if request.action == OPEN_CHAT:  # a plain `ponder` while this process runs
            self.open_chat("", "")
        else:
            self.controller.handle(request)

    async def model_ready(self) -> Path | None:
        """The loaded model's folder (None for a model on a remote server). The first caller
        starts the load, later ones wait for the same one; after a failed load the next request
        tries again (the user may have fixed it)."""
        if isinstance(self.host.state, (Idle, LoadFailed)):
            self.host.switch(self.model_spec, self.provider)
        ready = await self.host.wait_ready()
        self.result = ready.result
        folder = getattr(ready.result, "folder", None)
        return folder.path if folder is not None else None

    def open_chat(self, question: str, answer: str) -> None:
        """The chat window, sharing this process's model; with the quick exchange in it if given."""
        from app.chat.conversation import Exchange, Phase, Reply
        from app.main import build_app

        if self.chat is None:
            self.chat = build_app(self.qapp, self.paths, model=self.model_spec, host=self.host)
            if self.host.ready is not None:
                self.chat.controller.model_loaded(self.host.ready.result)
                self.chat.window.status.model_loaded(self.host.ready.result)
            elif isinstance(self.host.state, (Idle, LoadFailed)):
                self.chat.start_loading()
            # else a load is under way: the window follows the host's states
        if question and answer:
            exchange = Exchange(question=question, reply=Reply(answer=answer, phase=Phase.DONE))
            self.chat.controller.conversation.exchanges.append(exchange)
            self.chat.window.chat.exchange_added(exchange)
        self.chat.show()
        self.chat.window.raise_()
        self.chat.window.activateWindow()

    def _message_box(self, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.information(None, "Ponder", text)
        self._maybe_quit()

    def _watch(self, window) -> None:
        # Later: a popup that chose an action is destroyed after its result window opened.
        window.destroyed.connect(lambda *_: QTimer.singleShot(0, self._maybe_quit))

    def _maybe_quit(self) -> None:
        popup = getattr(self.controller, "popup", None)
        try:
            popup_open = popup is not None and popup.isVisible()
        except RuntimeError:  # already deleted
            popup_open = False
        if (self.tray is None and not self.controller.windows and not popup_open
                and (self.chat is None or not self.chat.window.isVisible())):
            self.quit()

    def quit(self) -> None:
        if self._quit is not None and not self._quit.done():
            self._quit.set_result(None)

    async def run(self, request: QuickRequest) -> int:
        self._quit = asyncio.get_running_loop().create_future()
        if self.tray is not None:
            self.tray.show()
        else:
            # The popup is a tool window, which Qt's lastWindowClosed ignores: watch each quick
            # window ourselves, so the process ends when the last one goes (Esc, close).
            self.qapp.lastWindowClosed.connect(self._maybe_quit)
            self.controller.popup_shown.connect(self._watch)
            self.controller.result_shown.connect(self._watch)
        asyncio.ensure_future(self.model_ready()).add_done_callback(lambda f: f.cancelled() or f.exception())
        if request.action != "__tray__":
            self.controller.handle(request)
        try:
            await self._quit
        finally:
            self.close()
        return 0

    def close(self) -> None:
        """Clean quit: windows, hotkey, socket, model."""
        self.controller.close()
        self.hotkey.unregister()
        self.server.close()
        if self.tray is not None:
            self.tray.hide()
        if self.chat is not None:
            self.chat.shutdown()  # closes the shared host too
        else:
            self.host.close()


def run_quick(args: argparse.Namespace, paths: Paths, request: QuickRequest) -> int:
    """Entry from engine/commands/act.py when a window is needed and no Ponder is running."""
    import qasync

    from app.crash import install_excepthook

    qapp = widgets_application()
    qapp.setApplicationName("Ponder")
    qapp.setApplicationDisplayName("Ponder")  # window titles end " — Ponder", as in the chat window
    qapp.setDesktopFileName("ponder")
    qapp.setQuitOnLastWindowClosed(False)
    install_excepthook()
    paths.ensure()
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    server_probe = InstanceServer(paths)
    if not server_probe.listen():
        return 0 if hand_over(paths, request) else 1
    server_probe.close()
    app = QuickApp(qapp, paths, model=getattr(args, "model", None), provider=getattr(args, "provider", None))
    if not app.server.listen():
        return 0 if hand_over(paths, request) else 1
    with loop:
        return loop.run_until_complete(app.run(request))
