"""File → Connections…: add, test and remove the remote servers Ponder may run on
(engine/remote/). The key typed here goes to the system keyring, never to a file.

A test (list the models, time one token) runs on the app's ops layer (app/ops), so the window
never waits on the network; closing the dialog stops it, and nothing reaches the closed dialog.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget,
)

from app.errors import user_text
from app.ops import Op, Ops, TaskState
from engine.errors import PonderError
from engine.remote.connections import SERVER_CHOICES, Connection, ConnectionStore
from engine.remote.endpoint import Endpoint

_ROLE = Qt.ItemDataRole.UserRole

Tester = Callable[[Endpoint, str, TaskState], Any]  # returns a ProbeResult, raises a PonderError

#: How often a running test looks at its cancel flag.
_CANCEL_POLL_S = 0.1


def default_tester(endpoint: Endpoint, server: str, state: TaskState):
    """List the server's models and time one token (blocking; call off the GUI thread). Stops
    within _CANCEL_POLL_S of a cancel, hanging up on the server (engine CancelledError)."""
    from engine.remote.probe import probe

    async def run():
        task = asyncio.ensure_future(probe(endpoint, server))
        while not task.done():
            if state.cancelled:
                task.cancel()
            await asyncio.wait({task}, timeout=_CANCEL_POLL_S)
        state.check()
        return task.result()

    return asyncio.run(run())


def _cancel_all(tests: list[Op[Any]], *_args: object) -> None:
    for op in list(tests):
        op.cancel()


class ConnectionsDialog(QDialog):
    """objectName connectionsDialog. The list of saved connections and a form for one."""

    def __init__(self, store: ConnectionStore, *, ops: Ops, tester: Tester = default_tester,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionsDialog")
        self.setWindowTitle("Connections")
        self.resize(640, 460)
        self.store, self.tester, self.ops = store, tester, ops
        self._tests: list[Op[Any]] = []  # the running test, if any
        # Deleted without being closed (its window went): no callback may reach it.
        self.destroyed.connect(functools.partial(_cancel_all, self._tests))

        intro = QLabel("Run Ponder on a model served by another machine: vLLM, llama.cpp's server, "
                       "Ollama, LM Studio or another Ponder (<i>ponder serve</i>). Your prompts go "
                       "only to the address given here.", self)
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("connectionList")
        self.list.currentItemChanged.connect(lambda item, _old: self._fill(item))

        self.name = QLineEdit(self, placeholderText="gpu-box")
        self.url = QLineEdit(self, placeholderText="https://gpu-box.example:8000/v1")
        self.model = QLineEdit(self, placeholderText="the served model, e.g. microsoft/Phi-4-reasoning-plus")
        self.key = QLineEdit(self, placeholderText="optional; kept in the system keyring")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_file = QLineEdit(self, placeholderText="optional; for a server with its own certificate authority")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(browse)
        self.private_http = QCheckBox("Allow plain http to this private-network address "
                                      "(prompts travel unencrypted on your network)", self)
        self.server = QComboBox(self)
        self.server.addItems(SERVER_CHOICES)
        for name, widget in (("name", self.name), ("url", self.url), ("model", self.model), ("key", self.key),
                             ("caFile", self.ca_file), ("privateHttp", self.private_http), ("server", self.server)):
            widget.setObjectName(f"connection_{name}")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Address", self.url)
        form.addRow("Model", self.model)
        form.addRow("API key", self.key)
        form.addRow("CA file", ca_row)
        form.addRow("", self.private_http)
        form.addRow("Server", self.server)

        self.status = QLabel(self)
        self.status.setObjectName("connectionStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_button = QPushButton("&Save", self)
        self.test_button = QPushButton("&Test", self)
        self.remove_button = QPushButton("&Remove", self)
        close = QPushButton("Close", self)
        for button, name in ((self.save_button, "saveConnection"), (self.test_button, "testConnection"),
                             (self.remove_button, "removeConnection")):
            button.setObjectName(name)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.remove_button.clicked.connect(self.remove)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.save_button, self.test_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self.list.clear()
        for connection in self.store.list():
            key = " · key in keyring" if connection.has_key else ""
            item = QListWidgetItem(f"{connection.name} — {connection.model} at {connection.base_url}{key}", self.list)
            item.setData(_ROLE, connection)
            if connection.name == select:
                self.list.setCurrentItem(item)
        self.remove_button.setEnabled(self.list.count() > 0)

    def _fill(self, item: QListWidgetItem | None) -> None:
        connection: Connection | None = item.data(_ROLE) if item is not None else None
        if connection is None:
            return
        self.name.setText(connection.name)
        self.url.setText(connection.base_url)
        self.model.setText(connection.model)
        self.key.clear()
        self.key.setPlaceholderText("unchanged (a key is saved)" if connection.has_key else
                                    "optional; kept in the system keyring")
        self.ca_file.setText(connection.ca_file or "")
        self.private_http.setChecked(connection.allow_private_http)
        self.server.setCurrentText(connection.server)

    def _form(self) -> Connection:
        name = self.name.text().strip()
        current = self.list.currentItem()
        saved = current.data(_ROLE) if current is not None else None
        keeps_key = saved is not None and saved.name == name and saved.has_key
        return Connection(name, self.url.text().strip(), self.model.text().strip(),
                          self.ca_file.text().strip() or None, self.private_http.isChecked(),
                          self.server.currentText(), has_key=keeps_key)

    def save(self) -> None:
        try:
            saved = self.store.add(self._form(), api_key=self.key.text().strip() or None)
        except PonderError as exc:
            self._show_result(user_text(exc), False)
            return
        self.key.clear()
        self.reload(select=saved.name)
        self._show_result(f"Saved {saved.name}.", True)

    def test(self) -> None:
        """Test what the form says (saved or not): list the models, time one token."""
        form = self._form()
        try:
            key = self.key.text().strip() or (self.store.api_key(form) if form.has_key else None)
        except PonderError as exc:
            self._show_result(user_text(exc), False)
            return
        endpoint = form.endpoint(key)
        self.test_button.setEnabled(False)
        self.status.setText(f"Testing {endpoint.base_url}…")
        op = self.ops.run(functools.partial(self.tester, endpoint, form.server), name="test a connection",
                          on_done=lambda result: self._tested(op, f"OK: {result.summary()}", True),
                          on_error=lambda failure: self._tested(op, failure.text, False),
                          on_cancelled=lambda: self._forget(op))
        if not op.done:  # refused when the app is quitting
            self._tests.append(op)

    def _tested(self, op: Op[Any], text: str, ok: bool) -> None:
        self._forget(op)
        self._show_result(text, ok)

    def _forget(self, op: Op[Any]) -> None:
        if op in self._tests:
            self._tests.remove(op)

    def done(self, result: int) -> None:
        """Closing (Close, Esc, the window's X) stops a running test; nothing of it arrives later."""
        if self._tests:
            _cancel_all(self._tests)
            self.test_button.setEnabled(True)
            self.status.clear()
        super().done(result)

    def _show_result(self, text: str, ok: bool) -> None:
        self.test_button.setEnabled(True)
        self.status.setProperty("ok", ok)
        self.status.setStyleSheet("" if ok else "color: #b3261e;")
        self.status.setText(text)

    def remove(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        name = item.data(_ROLE).name
        try:
            self.store.remove(name)
        except PonderError as exc:
            self._show_result(user_text(exc), False)
            return
        self.reload()
        self._show_result(f"Removed {name} and its key.", True)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "CA certificate", "", "Certificates (*.pem *.crt);;All files (*)")
        if path:
            self.ca_file.setText(path)


def attach_connections(app) -> None:
    """File → Connections… (the remote servers); the dialog is built when opened."""
    action = app.window.add_action("File", "&Connections…", QKeySequence("Ctrl+Shift+M"),
                                   lambda: open_connections(app))
    action.setObjectName("connectionsAction")


def open_connections(app) -> ConnectionsDialog:
    dialog = ConnectionsDialog(ConnectionStore.for_paths(app.paths), ops=app.ops, parent=app.window)
    app.window._connections_dialog = dialog  # keep it alive while shown
    dialog.show()
    return dialog
