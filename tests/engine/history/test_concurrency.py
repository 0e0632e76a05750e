"""Two processes writing to the store at once never see "database is locked"."""

from __future__ import annotations

import pytest

from engine.history import database
from engine.history.keys import new_key
from engine.history.store import HistoryStore

from .test_crash import start_plain

PER_PROCESS = 150


@pytest.mark.slow
def test_two_writers_at_once(tmp_path):
    path = tmp_path / "history.db"
    key = new_key()
    # Created first so both children open an existing store (creation races are covered too by
    # the crash test's first start).
    HistoryStore(database.connect(path, key, create=True), path, encrypted=True).close()
    children = [start_plain(path, key, PER_PROCESS) for _ in range(2)]
    outputs = [child.communicate(timeout=240) for child in children]
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
        assert "locked" not in err and "busy" not in err
        assert out.count("\ndone ") + out.startswith("done ") == PER_PROCESS
    with HistoryStore(database.connect(path, key), path, encrypted=True) as store:
        counts = [s.message_count for s in store.list_conversations()]
        assert sorted(counts) == [2 * PER_PROCESS, 2 * PER_PROCESS]
        assert store.check().ok
