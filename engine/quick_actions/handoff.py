"""The single-instance hand-over, client side: give a request to the Ponder that is running.

The running app listens with QLocalServer on `instance_address()`; this side needs no Qt (it is
used by `ponder act` before any window exists). On Unix the address is a socket path, on
Windows a named pipe. One JSON line goes in, "ok" comes back.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import socket
import sys
import tempfile

from engine.paths import Paths
from engine.quick_actions.request import QuickRequest

log = logging.getLogger(__name__)

TIMEOUT_S = 3.0


def instance_name(paths: Paths) -> str:
    """One name per user and data folder, so separate PONDER_HOMEs (tests) never meet."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not a reason to fail
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{user}\0{paths.data}".encode()).hexdigest()[:16]
    return f"ponder-{digest}"


def instance_address(paths: Paths) -> str:
    """What QLocalServer.listen() and this client use: a full socket path on Unix (short enough
    for sun_path), the pipe name on Windows."""
    name = instance_name(paths)
    if sys.platform == "win32":
        return name
    return os.path.join(tempfile.gettempdir(), name + ".sock")


def hand_over(paths: Paths, request: QuickRequest, *, timeout: float = TIMEOUT_S) -> bool:
    """True if a running Ponder took the request; False if none is running (or it did not answer)."""
    line = (request.to_json() + "\n").encode("utf-8")
    address = instance_address(paths)
    try:
        if sys.platform == "win32":
            with open(r"\\.\pipe\\" + address, "r+b", buffering=0) as pipe:  # pragma: no cover - Windows
                pipe.write(line)
                return pipe.read(3).startswith(b"ok")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(line)
            return _read_reply(sock).startswith(b"ok")
    except OSError as exc:
        log.debug("no running instance at %s: %s", address, exc)
        return False


def _read_reply(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < 64:
        chunk = sock.recv(64)
        if not chunk:
            break
        data += chunk
    return data
