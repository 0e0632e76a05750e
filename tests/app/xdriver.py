"""Drive a real Qt window on a private Xvfb screen with xdotool, where Qt's test API cannot reach
(a real mouse wheel: Qt passes an ignored wheel event on to the parent only when it came from the
window system).

`run_on_x(script)` runs `script` in a fresh Python on the xcb platform; the script shows its
window, calls `xdo(...)` to press, move or wheel, and prints what it found on its last line as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.engine.capture.xserver import xvfb

ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = '''
import json, os, subprocess, sys
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QEventLoop, QTimer


def settle(ms=300):
    """Let the window system and Qt deliver what xdotool sent."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=10)
    settle()


def wait_for(condition, timeout_ms=5000):
    """Let events run until condition() holds (a loaded machine delivers X events late)."""
    waited = 0
    while not condition() and waited < timeout_ms:
        settle(100)
        waited += 100
    return condition()


def at(widget):
    """xdotool mousemove arguments for the centre of a widget."""
    point = widget.mapToGlobal(widget.rect().center())
    return ("mousemove", point.x(), point.y())


def done(result):
    print(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)


app = QApplication([])
'''


def run_on_x(script: str, *, timeout: float = 60) -> dict:
    """Run the script on a private X screen; its last stdout line, parsed as JSON."""
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (tools/test.sh installs it)")
    with xvfb() as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(script)], env=env,
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1])
