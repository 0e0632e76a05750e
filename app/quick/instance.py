"""Single instance: the first Ponder listens; a later `ponder …` hands its request over (Vorta's way)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from engine.errors import PonderError
from engine.paths import Paths
from engine.quick_actions.handoff import (
    UnsafeRuntimeDirError, hand_over, hand_over_pipe, instance_address, peer_uid_of_fd, socket_is_ours,
)
from engine.quick_actions.request import QuickRequest

if TYPE_CHECKING:
    from engine.quick_actions.pipe_windows import WinApi

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
        """Become the single instance. False if another live Ponder already is, or if the
        socket's folder is not private to this user (then nothing listens: hand-overs stay off)."""
        try:
            address = instance_address(self._paths)
        except UnsafeRuntimeDirError as exc:
            log.warning("hand-overs are off: %s", exc.user_message())
            return False
        if sys.platform == "win32":  # pragma: no cover - Windows (listen_pipe is tested with fakes)
            from engine.quick_actions.pipe_windows import WinApi

            return self.listen_pipe(WinApi.load(), address)
        if self._server.listen(address):
            return True
        if hand_over(self._paths, QuickRequest(source="clipboard", action="__ping__"), timeout=1.0):
            return False
        if sys.platform != "win32" and not socket_is_ours(address):
            log.warning("hand-overs are off: %s is not this user's socket", address)
            return False
        # A stale socket from a crashed Ponder: nobody answered, so take it over.
        QLocalServer.removeServer(address)
        if sys.platform != "win32" and os.path.lexists(address):
            os.unlink(address)
        return self._server.listen(address)

    def listen_pipe(self, api: WinApi, name: str) -> bool:
        """listen() on Windows: claim the pipe name first (engine/quick_actions/pipe_windows.py),
        so QLocalServer never adds its instances to a pipe someone else made."""
        from engine.quick_actions.pipe_windows import claim_pipe

        try:
            claim = claim_pipe(api, name)
        except OSError as exc:
            log.warning("hand-overs are off: the pipe could not be created: %s", exc)
            return False
        if claim is None:  # the name is taken: a Ponder of ours answers, anyone else is refused
            if not hand_over_pipe(api, name, QuickRequest(source="clipboard", action="__ping__").to_json().encode()
                                  + b"\n", timeout=1.0):
                log.warning("hand-overs are off: the pipe %s is held by a program that is not this "
                            "user's Ponder", name)
            return False
        try:
            return self._server.listen(name)
        finally:
            claim.close()  # QLocalServer's instances now keep the pipe, with our security

    def close(self) -> None:
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if not self._same_user(socket):
                log.warning("refused a hand-over from another user")
                socket.abort()
                socket.deleteLater()
                continue
            buffer = bytearray()

            def on_ready(sock: QLocalSocket = socket, buf: bytearray = buffer) -> None:
                buf.extend(sock.readAll().data())
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

    @staticmethod
    def _same_user(socket: QLocalSocket) -> bool:
        """Refuse another user's process even where the private folder could not keep it out."""
        if sys.platform == "win32":
            return True  # the pipe admits this user only (claim_pipe's DACL, and UserAccessOption)
        uid = peer_uid_of_fd(int(socket.socketDescriptor()))
        return uid is None or uid == os.getuid()
