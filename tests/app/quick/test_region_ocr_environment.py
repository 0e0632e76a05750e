"""OCR of a screen region never changes the process environment from a worker thread.

OpenCV (imported by the OCR) writes os.environ on import; setenv() on one thread while Qt reads
the environment on another is undefined behaviour in C. Run in a fresh interpreter, where OpenCV
is not imported yet, with every environment write recorded with the thread that made it.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r"""
import asyncio, os, threading
from engine.environment import prepare_environment
prepare_environment()
writes = []
put, unset = os.putenv, os.unsetenv  # what os.environ's item assignment and deletion call
os.putenv = lambda k, v: (writes.append((threading.current_thread().name, k)), put(k, v))[1]
os.unsetenv = lambda k: (writes.append((threading.current_thread().name, k)), unset(k))[1]

from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter
qapp = QGuiApplication([])
from app.quick.controller import QuickController

image = QImage(360, 60, QImage.Format.Format_RGB32)
image.fill(QColor("white"))
painter = QPainter(image)
font = QFont("DejaVu Sans")
font.setPixelSize(20)
painter.setFont(font)
painter.setPen(QColor("black"))
painter.drawText(10, 40, "Hello from the screen")
painter.end()

controller = QuickController(None, renderer=lambda: None, model_ready=None)
async def pick(overlay=None):
    return image
controller.pick_region = pick
import qasync
loop = qasync.QEventLoop(qapp)  # the controller's ops deliver results through the Qt event loop
asyncio.set_event_loop(loop)
with loop:
    text = loop.run_until_complete(controller.capture("region"))
print("TEXT", text)
print("WRITES", [w for w in writes if w[0] != "MainThread"])
"""


def test_reading_a_region_changes_the_environment_only_on_the_main_thread(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PONDER_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                            timeout=240, cwd=os.getcwd())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "TEXT Hello from the screen" in result.stdout, result.stdout + result.stderr[-2000:]
    assert "WRITES []" in result.stdout, result.stdout
