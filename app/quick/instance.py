"""Single instance: the first Ponder listens; a later `ponder …` hands its request over (Vorta's way)."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from engine.errors import PonderError
from engine.paths import Paths
from engine.quick_actions.handoff import hand_over, instance_address
from engine.quick_actions.request import QuickRequest

log = logging.getLogger(__name__)

MAX_LINE = 16 * 1024 * 1024

#: The action a plain second `ponder` hands over: show the running window instead of a second one.
OPEN_CHAT = "__open_chat__"


class InstanceServer(QObject):
    """Listens for hand-overs.

    Signals:
        request_received(object): a QuickRequest from another `ponder` process.
    """

    request_received = Signal(object)

    def __init__(self, paths: Paths, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._paths = paths
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        """Become the single instance. False if another live Ponder already is."""
        address = instance_address(self._paths)
        if self._server.listen(address):
            return True
        if hand_over(self._paths, QuickRequest(source="clipboard", action="__ping__"), timeout=1.0):
            return False
        # A stale socket from a crashed Ponder: nobody answered, so take it over.
        QLocalServer.removeServer(address)
        if sys.platform != "win32" and os.path.exists(address):
            os.unlink(address)
        return self._server.listen(address)

    def close(self) -> None:
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            buffer = bytearray()

            def on_ready(sock: QLocalSocket = socket, buf: bytearray = buffer) -> None:
                buf.extend(bytes(sock.readAll()))
                if b"\n" not in buf and len(buf) < MAX_LINE:
                    return
                line = bytes(buf).split(b"\n", 1)[0]
                sock.write(b"ok\n")
                sock.flush()
                sock.disconnectFromServer()
                try:
                    request = QuickRequest.from_json(line)
                except PonderError as exc:
                    log.warning("ignored a hand-over: %s", exc.user_message())
                    return
                if request.action != "__ping__":
                    self.request_received.emit(request)

            socket.readyRead.connect(on_ready)
            socket.disconnected.connect(socket.deleteLater)
