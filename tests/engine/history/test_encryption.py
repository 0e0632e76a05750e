"""Disk theft: no message text in any file of the data folder, open or closed."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from engine.history.records import MessageMeta

CANARY = "CANARY-7f3a9e-zebra-quartz"


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def _leaks(root) -> list[str]:
    needles = [CANARY.encode("utf-8"), CANARY.encode("utf-16-le"), b"zebra-quartz"]
    return [str(p) for p in _files(root) if any(n in p.read_bytes() for n in needles)]


def test_canary_in_50_messages_is_in_no_file(ponder_home, vault, caplog):
    caplog.set_level(logging.DEBUG)
    store = vault.open()
    conv = store.create_conversation(f"title {CANARY}")
    for i in range(25):
        store.add_message(conv.id, "user", f"question {i} {CANARY}")
        writer = store.start_message(conv.id, MessageMeta(model="demo"))
        writer.add_thinking(f"thinking {CANARY}")
        writer.flush()
        writer.add_answer(f"answer {CANARY}")
        writer.finish(MessageMeta(model="demo"))
    assert len(store.search(CANARY.split("-")[1])) >= 50  # the data really is there
    root = ponder_home.data.parent
    assert any(p.name.endswith("-wal") for p in _files(root))  # checked while the WAL holds data
    assert _leaks(root) == []
    store.close()
    reopened = vault.open()  # the daily backup is written on open: check it too
    reopened.close()
    assert vault.backups()
    assert _leaks(root) == []
    assert CANARY not in caplog.text


def test_file_is_not_plain_sqlite(vault):
    with vault.open() as store:
        store.create_conversation("x")
        path = store.path
    assert path.read_bytes()[:16] != b"SQLite format 3\0"
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()
