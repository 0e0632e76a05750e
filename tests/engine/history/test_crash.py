"""Crash safety: a writing process SIGKILLed at random moments loses nothing it acknowledged."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.history import database
from engine.history.keys import new_key
from engine.history.records import MessageStatus
from engine.history.store import HistoryStore

CHILD = Path(__file__).with_name("writer_child.py")
KILLS = 200


def start_plain(path: Path, key: bytes, count: int) -> subprocess.Popen:
    """The writer as an ordinary process (key on stdin)."""
    child = subprocess.Popen([sys.executable, str(CHILD), str(path), str(count)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stdin.write(key.hex() + "\n")
    child.stdin.close()
    child.stdin = None  # so communicate() does not write to it
    return child


@pytest.fixture
def forkserver():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.engine.history.writer_child"])
    return context


@pytest.mark.slow
def test_random_sigkills_lose_no_acknowledged_message(tmp_path, forkserver):
    from tests.engine.history.writer_child import write_to_pipe

    rng = random.Random(20240601)
    path = tmp_path / "history.db"
    key = new_key()
    acked: dict[int, tuple[str, str]] = {}  # message id -> (text, kind of acknowledgement)
    for iteration in range(KILLS):
        receive, send = forkserver.Pipe(duplex=False)
        child = forkserver.Process(target=write_to_pipe, args=(path, key, 1000, send))
        child.start()
        send.close()
        # Kill after a random number of acknowledgements (0 = while opening or migrating), the
        # child being somewhere inside its next write.
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8, 13])):
            try:
                kind, message_id, text = receive.recv()
            except EOFError:
                break
            acked[message_id] = (text, kind)
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        receive.close()
        assert child.exitcode == -signal.SIGKILL, iteration
        if not path.exists():  # killed before it created the file
            assert not acked
            continue
        with HistoryStore(database.connect(path, key), path, encrypted=True) as store:
            if iteration % 10 == 0:
                report = store.check()
                assert report.ok, (iteration, report.problems)
            for message_id, (text, kind) in acked.items():
                saved = store.message(message_id)
                if kind == "done":
                    assert saved.status is MessageStatus.COMPLETE and saved.content == text
                else:  # a partial answer may have grown since; a question is whole
                    assert saved.content.startswith(text), (iteration, message_id)
    assert len(acked) > KILLS  # the kills really landed in the middle of writing
    with HistoryStore(database.connect(path, key), path, encrypted=True) as store:
        assert store.check().ok
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
