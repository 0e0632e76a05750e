"""Single instance: a second `ponder act` hands its request to the running Ponder and exits."""

from __future__ import annotations

import os
import subprocess
import sys

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


def test_a_stale_socket_is_taken_over(ponder_home, qapp):
    from engine.quick_actions.handoff import instance_address

    address = instance_address(ponder_home)
    if sys.platform != "win32":
        with open(address, "w"):
            pass  # left behind by a crashed Ponder
    server = InstanceServer(ponder_home)
    try:
        assert server.listen()
    finally:
        server.close()
