"""Single instance: a second `ponder act` hands its request to the running Ponder and exits."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import pytest

from app.quick.instance import InstanceServer
from engine.quick_actions.request import QuickRequest


def test_second_ponder_act_hands_over_its_request(qtbot, ponder_home):
    server = InstanceServer(ponder_home)
    assert server.listen()
    try:
        env = dict(os.environ, PONDER_HOME=str(ponder_home.data.parent))
        with qtbot.waitSignal(server.request_received, timeout=30_000) as received:
            child = subprocess.Popen(
                [sys.executable, "-m", "app", "act", "--source", "stdin", "--question", "unused"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            child.stdin.write("What is 2 plus 3? <|end|>".encode())
            child.stdin.close()
        request = received.args[0]
        assert isinstance(request, QuickRequest)
        assert request.source == "stdin" and request.action == ""
        assert request.text == "What is 2 plus 3? <|end|>"
        qtbot.waitUntil(lambda: child.poll() is not None, timeout=30_000)
        err = child.stderr.read()
        child.stderr.close()
        assert child.returncode == 0, err.decode()
    finally:
        server.close()


def test_a_second_server_does_not_steal_the_instance(qtbot, ponder_home):
    first = InstanceServer(ponder_home)
    assert first.listen()
    try:
        # The probe hands over a ping, which needs the first server's loop to answer: run it in a thread.
        import threading

        result = {}
        second = InstanceServer(ponder_home)
        thread = threading.Thread(target=lambda: result.setdefault("hand", __import__(
            "engine.quick_actions.handoff", fromlist=["hand_over"]).hand_over(
                ponder_home, QuickRequest(source="clipboard", action="__ping__"))))
        thread.start()
        qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10_000)
        assert result["hand"] is True
        second.close()
    finally:
        first.close()


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")
def test_a_stale_socket_is_taken_over(ponder_home, qapp):
    from engine.quick_actions.handoff import instance_address

    address = instance_address(ponder_home)
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(address)  # left behind by a crashed Ponder: a socket file nobody listens on
    crashed.close()
    assert stat.S_ISSOCK(os.lstat(address).st_mode)
    server = InstanceServer(ponder_home)
    try:
        assert server.listen()
    finally:
        server.close()


@pytest.mark.skipif(not hasattr(socket, "SO_PEERCRED"), reason="peer credentials are Linux's")
def test_the_server_ignores_a_connection_from_another_user(qtbot, ponder_home, monkeypatch):
    from engine.quick_actions.handoff import instance_address

    server = InstanceServer(ponder_home)
    assert server.listen()
    try:
        address = instance_address(ponder_home)
        me = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: me + 1)  # the client now looks like someone else
        received = []
        server.request_received.connect(received.append)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(address)
        client.sendall((QuickRequest(source="stdin", text="from a stranger").to_json() + "\n").encode())
        client.settimeout(0.05)
        closed = []

        def peer_closed() -> bool:
            try:
                closed.append(client.recv(16))
            except (TimeoutError, BlockingIOError):
                return False
            except ConnectionResetError:
                closed.append(b"")
            return True

        qtbot.waitUntil(peer_closed, timeout=10_000)
        client.close()
        assert closed[-1] == b""  # dropped without the "ok" a served hand-over gets
        assert received == []
    finally:
        server.close()

