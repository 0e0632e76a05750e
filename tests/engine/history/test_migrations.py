"""One test per schema migration: a store at version n-1, with data, upgraded to n."""

from __future__ import annotations

import pytest

from engine.history import database, schema
from engine.history.keys import new_key
from engine.history.records import ChatSettings
from engine.history.store import HistoryStore


@pytest.fixture
def db(tmp_path):
    connection = database.connect(tmp_path / "history.db", new_key(), create=True)
    yield connection
    connection.close()


def _tables(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master")}


def test_latest_is_the_number_of_migrations():
    assert schema.LATEST == len(schema.MIGRATIONS) == 3


def test_migration_1_creates_conversations_and_messages(db, tmp_path):
    assert schema.version(db) == 0
    schema.migrate(db, tmp_path, target=1)
    assert schema.version(db) == 1
    assert {"conversations", "messages"} <= _tables(db)
    db.execute("INSERT INTO conversations(uid, title, created, updated) VALUES ('u', 't', 1, 1)")
    db.execute("INSERT INTO messages(conversation_id, role, content, created) "
               "VALUES (1, 'user', 'hi', 1)")
    db.execute("DELETE FROM conversations")  # messages go with their conversation
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


def test_migration_2_indexes_existing_messages_for_search(db, tmp_path):
    schema.migrate(db, tmp_path, target=1)
    db.execute("INSERT INTO conversations(uid, title, created, updated) "
               "VALUES ('u', 'Old astronomy chat', 1, 1)")
    db.execute("INSERT INTO messages(conversation_id, role, content, thinking, created) "
               "VALUES (1, 'assistant', 'Saturn has rings', 'recall the planets', 1)")
    schema.migrate(db, tmp_path, target=2)
    assert schema.version(db) == 2
    store = HistoryStore(db, tmp_path / "history.db", encrypted=True)
    assert [hit.field for hit in store.search("saturn")] == ["content"]
    assert [hit.field for hit in store.search("planets")] == ["thinking"]
    assert [hit.field for hit in store.search("astronomy")] == ["title"]


def test_migration_3_gives_existing_chats_default_settings(db, tmp_path):
    schema.migrate(db, tmp_path, target=2)
    db.execute("INSERT INTO conversations(uid, title, created, updated) VALUES ('u', 'Old chat', 1, 1)")
    schema.migrate(db, tmp_path)
    assert schema.version(db) == 3
    store = HistoryStore(db, tmp_path / "history.db", encrypted=True)
    assert store.chat_settings(1) == ChatSettings()
    store.set_chat_settings(1, ChatSettings(system_prompt="Be brief.", effort="high"))
    assert store.conversation(1).settings == ChatSettings(system_prompt="Be brief.", effort="high")
    assert [hit.field for hit in store.search("old")] == ["title"]  # the title index still follows


def test_migrating_twice_is_a_no_op(db, tmp_path):
    schema.migrate(db, tmp_path)
    assert schema.migrate(db, tmp_path) == schema.LATEST
