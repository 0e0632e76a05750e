"""The single-instance hand-over, client side: give a request to the Ponder that is running.

The running app listens with QLocalServer on `instance_address()`; this side needs no Qt (it is
used by `ponder act` before any window exists). On Unix the address is a socket path, on
Windows a named pipe. One JSON line goes in, "ok" comes back.

On Unix the socket lives in a folder only this user can enter (XDG_RUNTIME_DIR, else a 0700
folder of our own under the temp folder), and both ends check that the other runs as the same
user: a socket in /tmp could be created first by another local user, who would then receive the
selected text and could make `ponder` exit as if it had handed over. On Windows pipe names are
global, so the client checks the pipe server's user before writing and the app claims the name
first (engine/quick_actions/pipe_windows.py).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import socket
import stat
import struct
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import PonderError
from engine.paths import Paths
from engine.quick_actions.request import QuickRequest

if TYPE_CHECKING:
    from engine.quick_actions.pipe_windows import WinApi

log = logging.getLogger(__name__)

TIMEOUT_S = 3.0


class UnsafeRuntimeDirError(PonderError):
    """The folder for the hand-over socket belongs to someone else or others can enter it."""


def instance_name(paths: Paths) -> str:
    """One name per user and data folder, so separate PONDER_HOMEs (tests) never meet."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not a reason to fail
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    digest = hashlib.sha256(f"{user}\0{paths.data}".encode()).hexdigest()[:16]
    return f"ponder-{digest}"


def runtime_dir(environ: dict[str, str] | None = None) -> Path:
    """The per-user folder for the socket, created 0700; raises UnsafeRuntimeDirError when the
    folder is not ours alone (so nothing is sent to, or taken over from, another user)."""
    env = os.environ if environ is None else environ
    uid = os.getuid()
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg) and _is_private_dir(Path(xdg), uid):
        folder = Path(xdg) / "ponder"
    else:
        folder = Path(tempfile.gettempdir()) / f"ponder-{uid}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UnsafeRuntimeDirError(f"Cannot create {folder}: {exc.strerror}.") from None
    if not _is_private_dir(folder, uid):
        raise UnsafeRuntimeDirError(
            f"{folder} belongs to another user or others can open it; Ponder will not use it. "
            "Remove it, or set XDG_RUNTIME_DIR to a folder only you can open.")
    return folder


def _is_private_dir(folder: Path, uid: int) -> bool:
    try:
        info = folder.lstat()  # a symlink is refused: it could point anywhere
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077


def instance_address(paths: Paths) -> str:
    """What QLocalServer.listen() and this client use: a full socket path on Unix (short enough
    for sun_path), the pipe name on Windows."""
    name = instance_name(paths)
    if sys.platform == "win32":
        return name
    return str(runtime_dir() / (name + ".sock"))


def socket_is_ours(address: str) -> bool:
    """True if address is a socket owned by this user (or nothing is there)."""
    try:
        info = os.lstat(address)
    except FileNotFoundError:
        return True
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket; None where the platform
    has no way to ask (then the private folder is the only guard)."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1]
    getpeereid = getattr(sock, "getpeereid", None)  # not in CPython today; BSD/macOS if added
    return getpeereid()[0] if getpeereid else None


def peer_uid_of_fd(fd: int) -> int | None:
    """peer_uid() for a descriptor owned by someone else (Qt's socket): works on a duplicate."""
    with socket.socket(fileno=os.dup(fd)) as sock:
        return peer_uid(sock)


def hand_over(paths: Paths, request: QuickRequest, *, timeout: float = TIMEOUT_S) -> bool:
    """True if a running Ponder took the request; False if none is running (or it did not answer,
    or what listens is not this user's)."""
    line = (request.to_json() + "\n").encode("utf-8")
    try:
        address = instance_address(paths)
    except UnsafeRuntimeDirError as exc:
        log.warning("no hand-over: %s", exc)
        return False
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows (hand_over_pipe is tested with fakes)
            from engine.quick_actions.pipe_windows import WinApi

            return hand_over_pipe(WinApi.load(), address, line, timeout=timeout)
        if not socket_is_ours(address):
            log.warning("no hand-over: %s is not a socket of this user", address)
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            uid = peer_uid(sock)
            if uid is not None and uid != os.getuid():
                log.warning("no hand-over: %s is served by user %s", address, uid)
                return False
            sock.sendall(line)
            return _read_reply(sock).startswith(b"ok")
    except OSError as exc:
        log.debug("no running instance at %s: %s", address, exc)
        return False


def hand_over_pipe(api: WinApi, name: str, line: bytes, *, timeout: float = TIMEOUT_S) -> bool:
    """hand_over() on Windows: True if this user's Ponder on pipe `name` took the line; a pipe
    of another user is refused (and said so in the log) before anything is written to it."""
    from engine.quick_actions.pipe_windows import ForeignPipeError, exchange

    try:
        return exchange(api, name, line, timeout=timeout).startswith(b"ok")
    except ForeignPipeError as exc:
        log.warning("no hand-over: %s", exc.user_message())
    except OSError as exc:  # nothing listens, no answer in time, a broken pipe
        log.debug("no running instance at %s: %s", name, exc)
    return False


def _read_reply(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < 64:
        chunk = sock.recv(64)
        if not chunk:
            break
        data += chunk
    return data
