"""Quitting the window by a signal (a logout, `kill`) is a clean exit, not a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from engine.paths import resolve_paths
from engine.quick_actions.handoff import instance_address
from engine.run_record import FOLDER


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_quit_signal_closes_the_window_cleanly(qtbot, ponder_home, number):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PONDER_HOME=str(ponder_home.data.parent))
    window = subprocess.Popen([sys.executable, "-m", "app", "--model", "demo"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with window:
        # The single-instance socket is opened once the window's loop runs, signal handling in place.
        address = instance_address(resolve_paths(environ=env))
        qtbot.waitUntil(lambda: os.path.exists(address) or window.poll() is not None, timeout=90_000)
        assert window.poll() is None, window.stderr.read()
        window.send_signal(number)
        assert window.wait(timeout=60) == 0
        err = window.stderr.read()
        assert "Traceback" not in err, err
    assert list((ponder_home.data / FOLDER).iterdir()) == []  # the next start will not re-hash
