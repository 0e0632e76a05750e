"""Children started by Ponder (a download, a model build) end when Ponder does, however it ends."""

from __future__ import annotations

import os
import subprocess
import threading

from engine import parent_watch


def test_the_watch_fires_when_the_parent_end_of_the_pipe_closes():
    read_end, write_end = os.pipe()
    gone = threading.Event()
    try:
        parent_watch.watch_parent(read_end, gone.set)
        assert not gone.wait(0.2)  # the parent is still there: nothing happens
        os.close(write_end)
        assert gone.wait(10)
    finally:
        os.close(read_end)


def test_a_module_run_under_the_watch_gets_its_arguments_and_exit_status():
    code, out = _run_watched("calendar", "2026", "2")
    assert code == 0 and "February 2026" in out
    code, _out = _run_watched("calendar", "not-a-year")
    assert code == 2  # argparse's status comes through, not the watch's


def _run_watched(*args: str) -> tuple[int, str]:
    """Run under the watch with this test as a live parent (stdin held open until the end)."""
    child = subprocess.Popen(parent_watch.command(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    with child:
        out = child.stdout.read()
        return child.wait(timeout=60), out
