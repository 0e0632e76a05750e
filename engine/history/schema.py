"""The store's schema, versioned with PRAGMA user_version; one function per upgrade.

Each migration runs in its own IMMEDIATE transaction together with the version bump, so a crash
leaves the store at the old version or the new one, never between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from engine.history.errors import HistoryLockedError, LockReason, RecoveryChoice


def _v1_tables(db) -> None:
    """Conversations and messages."""
    db.executescript("""
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            pinned INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            deleted REAL
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            content TEXT NOT NULL DEFAULT '',
            thinking TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'complete',
            model TEXT NOT NULL DEFAULT '',
            provider TEXT NOT NULL DEFAULT '',
            finish_reason TEXT NOT NULL DEFAULT '',
            stats TEXT NOT NULL DEFAULT '{}',
            created REAL NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    """)


def _v2_search(db) -> None:
    """Full-text search (FTS5) over titles, messages and thinking, kept in step by triggers."""
    db.executescript("""
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, thinking, content='messages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2');
        CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content, thinking)
            VALUES (new.id, new.content, new.thinking);
        END;
        CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
            VALUES ('delete', old.id, old.content, old.thinking);
        END;
        CREATE TRIGGER messages_au AFTER UPDATE OF content, thinking ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
            VALUES ('delete', old.id, old.content, old.thinking);
            INSERT INTO messages_fts(rowid, content, thinking)
            VALUES (new.id, new.content, new.thinking);
        END;
        CREATE VIRTUAL TABLE titles_fts USING fts5(
            title, content='conversations', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2');
        CREATE TRIGGER conversations_ai AFTER INSERT ON conversations BEGIN
            INSERT INTO titles_fts(rowid, title) VALUES (new.id, new.title);
        END;
        CREATE TRIGGER conversations_ad AFTER DELETE ON conversations BEGIN
            INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
        END;
        CREATE TRIGGER conversations_au AFTER UPDATE OF title ON conversations BEGIN
            INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
            INSERT INTO titles_fts(rowid, title) VALUES (new.id, new.title);
        END;
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
        INSERT INTO titles_fts(titles_fts) VALUES ('rebuild');
    """)


def _v3_chat_settings(db) -> None:
    """Each chat's own settings (instructions, sampling, effort) as JSON, encrypted with the rest."""
    db.execute("ALTER TABLE conversations ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'")


#: MIGRATIONS[n] upgrades a store from version n to n + 1.
MIGRATIONS: tuple[Callable[[object], None], ...] = (_v1_tables, _v2_search, _v3_chat_settings)
LATEST = len(MIGRATIONS)


def version(db) -> int:
    """The schema version stored in the file."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db, database_path, *, target: int = LATEST) -> int:
    """Bring the store up to `target`; returns the version it was at.

    A store written by a newer Ponder is refused rather than guessed at.
    """
    start = version(db)
    if start > LATEST:
        raise HistoryLockedError(LockReason.DAMAGED, database_path, (RecoveryChoice.NEW_STORE,),
                                 detail=f"it was written by a newer Ponder (schema {start})")
    for step in range(start, target):
        # executescript() commits first, so each step opens its own write transaction.
        db.execute("BEGIN IMMEDIATE")
        try:
            if version(db) != step:  # another process migrated it meanwhile
                db.execute("ROLLBACK")
                continue
            _run_in_transaction(db, MIGRATIONS[step])
            db.execute(f"PRAGMA user_version = {step + 1}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    return start


def _run_in_transaction(db, migration) -> None:
    """Run a migration's statements inside the open transaction (executescript would commit)."""
    class _Inline:
        def executescript(self, script: str) -> None:
            for statement in _split(script):
                db.execute(statement)

        def execute(self, *args):
            return db.execute(*args)

    migration(_Inline())


def _split(script: str) -> list[str]:
    """Split on ';' at the end of a statement, keeping trigger bodies (BEGIN…END;) whole."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
