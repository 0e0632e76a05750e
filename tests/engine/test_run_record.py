"""A run that never removed its record is reported as unclean, once; a live one never is."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from engine.run_record import RunRecord


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_clean_run_leaves_nothing_and_the_next_run_is_clean(tmp_path):
    with RunRecord(tmp_path) as first:
        assert first.unclean == []
        assert (tmp_path / f"{os.getpid()}.json").is_file()
    assert list(tmp_path.iterdir()) == []
    with RunRecord(tmp_path) as second:
        assert second.unclean == []


def test_a_record_left_by_a_dead_process_is_reported_once(tmp_path):
    pid = _dead_pid()
    (tmp_path / f"{pid}.json").write_text(json.dumps({"pid": pid, "started": 1.0}))
    with RunRecord(tmp_path) as run:
        assert run.unclean == [pid]
    with RunRecord(tmp_path) as again:
        assert again.unclean == []


def test_a_reused_pid_does_not_make_a_dead_run_look_alive(tmp_path):
    # The record names a live process (our parent) but with another start time: after a reboot
    # the old pid can belong to anything.
    parent = os.getppid()
    (tmp_path / f"{parent}.json").write_text(json.dumps({"pid": parent, "started": 12345.0}))
    with RunRecord(tmp_path) as run:
        assert run.unclean == [parent]


def test_another_running_ponder_is_not_unclean(tmp_path):
    code = ("import pathlib, sys; from engine.run_record import RunRecord; "
            f"RunRecord(pathlib.Path({str(tmp_path)!r})).start(); print('ready', flush=True); sys.stdin.read()")
    other = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with other:
        assert other.stdout.readline().strip() == "ready"
        with RunRecord(tmp_path) as run:
            assert run.unclean == []
        assert (tmp_path / f"{other.pid}.json").is_file()
        other.stdin.close()
        other.wait(timeout=30)


def test_an_unwritable_folder_costs_only_the_check(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with RunRecord(blocker / "running") as run:
        assert run.unclean == []
