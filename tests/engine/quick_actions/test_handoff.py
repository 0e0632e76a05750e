"""The hand-over socket lives in a folder only this user can open, and talks only to this user."""

from __future__ import annotations

import os
import socket
import stat
import sys
import threading

import pytest

from engine.quick_actions import handoff
from engine.quick_actions.handoff import UnsafeRuntimeDirError, hand_over, instance_address
from engine.quick_actions.request import QuickRequest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


def test_the_socket_is_in_the_users_runtime_folder(ponder_home, runtime):
    address = instance_address(ponder_home)
    assert os.path.dirname(os.path.dirname(address)) == str(runtime)
    mode = os.stat(os.path.dirname(address)).st_mode
    assert stat.S_IMODE(mode) == 0o700


def test_without_a_runtime_folder_a_private_one_is_made(ponder_home, tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    address = instance_address(ponder_home)
    folder = os.path.dirname(address)
    assert folder == str(tmp_path / f"ponder-{os.getuid()}")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert len(address.encode()) < 104  # sun_path on macOS


def test_a_shared_runtime_folder_is_not_used(ponder_home, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert not instance_address(ponder_home).startswith(str(shared))


@pytest.mark.parametrize("planted_mode", [0o700, 0o777])
def test_a_folder_planted_by_someone_else_is_refused(ponder_home, tmp_path, monkeypatch, planted_mode):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    me = os.getuid()
    planted = tmp_path / f"ponder-{me}"
    planted.mkdir()
    planted.chmod(planted_mode)
    if planted_mode == 0o700:  # owned by "another user": pretend we run as someone else
        monkeypatch.setattr(os, "getuid", lambda: me + 1)
        (tmp_path / f"ponder-{me + 1}").symlink_to(planted)  # a link to their folder is not ours
    with pytest.raises(UnsafeRuntimeDirError):
        instance_address(ponder_home)
    assert hand_over(ponder_home, QuickRequest(source="stdin", text="secret")) is False


def _listen(address: str, received: list[bytes]) -> tuple[socket.socket, threading.Thread]:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(1)
    server.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(2)
            try:
                received.append(conn.recv(65536))
                conn.sendall(b"ok\n")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_the_same_users_listener_gets_the_request(ponder_home, runtime):
    received: list[bytes] = []
    server, thread = _listen(instance_address(ponder_home), received)
    with server:
        assert hand_over(ponder_home, QuickRequest(source="stdin", text="hello")) is True
        thread.join(10)
    assert b"hello" in received[0]


@pytest.mark.skipif(not hasattr(socket, "SO_PEERCRED"), reason="peer credentials are Linux's")
def test_a_listener_of_another_user_never_receives_the_text(ponder_home, runtime, monkeypatch):
    address = instance_address(ponder_home)
    received: list[bytes] = []
    server, thread = _listen(address, received)
    with server:
        # Seen from a process of another user: the folder and file checks are the outer guards,
        # the peer's credentials the last one; this test takes the outer ones away.
        other = os.getuid() + 1
        monkeypatch.setattr(handoff, "instance_address", lambda paths: address)
        monkeypatch.setattr(handoff, "socket_is_ours", lambda path: True)
        monkeypatch.setattr(os, "getuid", lambda: other)
        assert hand_over(ponder_home, QuickRequest(source="stdin", text="secret")) is False
        thread.join(10)
    assert not any(b"secret" in chunk for chunk in received)


def test_a_socket_file_of_another_user_is_not_connected_to(ponder_home, runtime, monkeypatch):
    address = instance_address(ponder_home)
    received: list[bytes] = []
    server, thread = _listen(address, received)
    with server:
        real = os.lstat(address)
        fake = os.stat_result((real.st_mode, real.st_ino, real.st_dev, real.st_nlink, real.st_uid + 1,
                               real.st_gid, real.st_size, 0, 0, 0))
        real_lstat = os.lstat
        monkeypatch.setattr(handoff.os, "lstat", lambda p, *a, **k: fake if str(p) == address
                            else real_lstat(p, *a, **k))
        assert hand_over(ponder_home, QuickRequest(source="stdin", text="secret")) is False
    thread.join(10)
    assert not received
