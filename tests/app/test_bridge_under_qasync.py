"""≥1,000 cross-thread deliveries through the engine's real EventBridge on a qasync loop.

PySide6 6.12.0 aborted the process on this pattern (a corrupted refcount of True/False, usually
at exit), and a short generation does not show it; hence a child process and its exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, sys, threading
from PySide6.QtWidgets import QApplication
import qasync
from engine.bridge import EventBridge
from engine.events import AnswerDelta, Finished, FinishReason

N = 1200
app = QApplication([])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)

async def main():
    bridge = EventBridge(asyncio.get_running_loop(), frame_s=0.0)
    delivered = threading.Semaphore(0)

    def worker():
        for i in range(N):
            bridge.put(AnswerDelta("x"))
            delivered.acquire()  # one delivery per event: N separate cross-thread calls
        bridge.put(Finished(FinishReason.STOP, "", "x" * N))

    thread = threading.Thread(target=worker)
    thread.start()
    batches = text = 0
    async for batch in bridge:
        for event in batch:
            if isinstance(event, AnswerDelta):
                text += len(event.text)
                delivered.release()
        batches += 1
    thread.join()
    return batches, text

with loop:
    batches, text = loop.run_until_complete(main())
print(batches, text)
sys.exit(0 if batches >= 1000 and text == N else 3)
"""


@pytest.mark.slow
def test_a_thousand_cross_thread_deliveries_exit_cleanly():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    batches, text = map(int, result.stdout.split())
    assert batches >= 1000 and text == 1200
