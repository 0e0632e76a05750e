"""A download's transfer process never outlives the app that started it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.engine.download.conftest import REPO, SUBFOLDER
from tests.engine.download.fake_hub import Fault

# A Ponder stand-in: starts a download on a slow server, prints the transfer process's pid, and
# waits for the download (which will take minutes) until it is killed.
PARENT = """
import sys, threading, time
from engine.download.job import Download, DownloadRequest
from engine.download.store import ModelStore
from engine.paths import resolve_paths

request = DownloadRequest(name="orphan", model="m", variant="v", repo=sys.argv[2], subfolder=sys.argv[3],
                          revision="main", estimated_size=3_000_000, chunk_size=16384)
download = Download(request, ModelStore(resolve_paths()), endpoint=sys.argv[1], poll_s=0.05)
def report(progress):
    if progress.done > 0 and not report.said:
        report.said = True
        print(download._proc.pid, flush=True)
report.said = False
download.run(report)
"""



@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_download_stops_when_the_app_that_started_it_is_killed(hub, ponder_home):
    hub.faults[f"{SUBFOLDER}/model.onnx.data"] = Fault(delay_s=0.5)  # about 90 s for the whole file
    app = subprocess.Popen([sys.executable, "-c", PARENT, hub.url, REPO, SUBFOLDER],
                           stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        worker = psutil.Process(int(app.stdout.readline()))
        assert worker.is_running() and worker.ppid() == app.pid
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=30)
        assert _ends_within(worker, 30)
    finally:
        if worker is not None and worker.is_running():
            worker.kill()  # only when the test failed: leave no orphan behind
        app.kill()
        app.wait()
        app.stdout.close()
    fetched = ponder_home.models / ".staging" / "orphan" / "files"
    assert sum(f.stat().st_size for f in fetched.rglob("*") if f.is_file()) > 0  # kept for resuming


def _ends_within(proc: psutil.Process, seconds: float) -> bool:
    """True once proc has exited (a zombie counts: an orphan's new parent may not reap it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
            proc.wait(timeout=0.1)
            return True
        except psutil.TimeoutExpired:
            continue
        except psutil.NoSuchProcess:
            return True
    return False
