"""The local API server inside the window, following the settings (see app/api_settings.py).

Runs the same ApiServer as `ponder serve`, on the window's qasync loop and the window's engine
host (no second model; a model switch waits for running API turns), on 127.0.0.1 only, with the
keyring's key when a secure keyring exists. Requests get their own engine sessions. With the
`api_save_history` setting, answered requests are saved into the window's history store (the
history panel owns it; writes happen here on the GUI thread, as the chat's own) and the sidebar
shows them at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListWidget

from engine.api.model import HostStatus, ModelStatus, installed_entries
from engine.api.saving import ApiHistory
from engine.api.security import KeyringKeys, ServerConfig
from engine.errors import PonderError, user_message

if TYPE_CHECKING:
    from app.history.panel import HistoryPanel
    from app.main import PonderApp
    from engine.api.server import Activity, ApiServer
    from engine.history.store import HistoryStore

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
#: How soon the sidebar is tried again when a save came while the user was renaming a chat.
REFRESH_RETRY_MS = 1000


class WindowApi(QObject):
    """Starts, restarts and stops the server to match the settings; reports its state."""

    changed = Signal()

    def __init__(self, app: PonderApp, keys: KeyringKeys | None = None, *,
                 history: HistoryPanel | None = None) -> None:
        super().__init__(app.window)
        self.app, self.keys = app, keys or KeyringKeys()
        #: The window's history (its store and sidebar), where API requests are saved when asked.
        self.history = history
        self.saving = ApiHistory(self._store, enabled=lambda: bool(app.settings.get("api_save_history")),
                                 on_saved=lambda _id: self._show_saved(), on_error=self._save_failed)
        self.server: ApiServer | None = None
        self.key: str | None = None
        self.error = ""
        if app.host is None:
            raise ValueError("the Local API runs on the window's engine host")  # build_app always makes one
        # The window's host: API turns hold it, so a model switch waits for them.
        self.host = app.host
        self._status = HostStatus(app.host)
        self._task: asyncio.Task | None = None
        self._again = False
        self.label = QLabel(app.window.status)
        self.label.setObjectName("statusApi")
        self.label.setAccessibleName("Local API requests")
        self.label.hide()
        app.window.status.addPermanentWidget(self.label)

    # --- what the server serves ---

    def model_status(self) -> ModelStatus:
        """The window host's model (503 while it checks, loads or waits to switch)."""
        return self._status()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.app.settings.get('api_port')}/v1"

    # --- following the settings ---

    def reconcile(self) -> None:
        """Bring the server in line with the settings (soon, on the loop)."""
        if self._settled():
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.ensure_future(self._reconcile())

    def _settled(self) -> bool:
        enabled, port = self.app.settings.get("api_enabled"), self.app.settings.get("api_port")
        if self.server is None:
            return not enabled
        return enabled and self.server.config.port == port

    async def _reconcile(self) -> None:
        while True:
            self._again = False
            enabled, port = self.app.settings.get("api_enabled"), self.app.settings.get("api_port")
            if self.server is not None and (not enabled or self.server.config.port != port):
                await self._stop()
            if enabled and self.server is None:
                await self._start(port)
            self._show()
            if not self._again:
                return

    async def _start(self, port: int) -> None:
        from engine.api.server import ApiServer

        try:
            self.key = await self.app.ops.call(self._key, name="read the API key")  # keyring: D-Bus
            config = ServerConfig(host=HOST, port=port, api_key=self.key)
            server = ApiServer(self.host.assistant, self.model_status, config,
                               budgets=self.app.settings.thinking_budgets,
                               installed=lambda: installed_entries(self.app.paths),
                               on_activity=lambda _activity: self._show(), history=self.saving)
            await server.start()
        except PonderError as exc:
            self.error = user_message(exc)
            return
        self.server, self.error = server, ""

    # --- saving to the history ---

    def _store(self) -> HistoryStore | None:
        """The history panel's open store (None while locked or not set up: nothing is saved)."""
        return self.history.store if self.history is not None else None

    @property
    def history_open(self) -> bool:
        return self._store() is not None

    def _show_saved(self) -> None:
        """A saved request shows in the sidebar now (the store's data_version changes only for
        other connections, so the sidebar's own poll would not see it)."""
        if self.history is None:
            return
        sidebar = self.history.sidebar
        if sidebar.list.state() == QListWidget.State.EditingState:  # never cut a rename short
            QTimer.singleShot(REFRESH_RETRY_MS, self._show_saved)
            return
        sidebar.refresh()

    def _save_failed(self, error: PonderError) -> None:
        if self.history is not None:
            self.history.notify(f"A local API request was answered but not saved. {user_message(error)}",
                                "error")

    def _key(self) -> str | None:
        try:
            return self.keys.get_or_create()
        except PonderError:
            return None  # no secure keyring: loopback without a key (the dialog says so)

    async def _stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    def new_key(self) -> None:
        """Replace the key (old clients stop working) and restart with it."""
        try:
            self.keys.replace()
        except PonderError as exc:
            self.error = user_message(exc)
            self._show()
            return
        self._restart()

    def _restart(self) -> None:
        async def restart() -> None:
            await self._stop()
            self.reconcile()

        asyncio.ensure_future(restart())

    def shutdown(self) -> None:
        """Stop now: running API turns are cancelled so the engine can close."""
        if self.server is not None:
            self.server.cancel_all()  # before the app closes the engine, which waits for them
            asyncio.ensure_future(self._stop())

    # --- showing it ---

    def status_text(self) -> str:
        if self.error:
            return f"Not running: {self.error}"
        if self.server is None:
            return "Off"
        activity: Activity = self.server.activity
        return f"Running · {activity.running} running, {activity.waiting} waiting, {activity.served} served"

    def _show(self) -> None:
        server = self.server
        if server is None:
            self.label.setVisible(bool(self.error))
            self.label.setText("API: not running" if self.error else "")
            self.label.setToolTip(self.error)
        else:
            activity = server.activity
            busy = activity.running + activity.waiting
            self.label.setText(f"API: {busy} request{'s' if busy != 1 else ''}" if busy
                               else f"API on · {activity.served} served")
            self.label.setToolTip(f"Local API at {self.url}")
            self.label.show()
        self.changed.emit()

