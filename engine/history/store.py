"""HistoryStore: conversations and messages in the (already unlocked) SQLCipher database.

Every write is its own short transaction, committed with synchronous=FULL before the call
returns: once a method returns, the data survives a crash or a kill.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from engine.history import database
from engine.history.errors import ConversationNotFoundError, HistoryWriteError
from engine.history.records import (
    HIT_END,
    HIT_START,
    Conversation,
    ChatSettings,
    ConversationSummary,
    MessageMeta,
    MessageStatus,
    SearchHit,
    StoredMessage,
)
from engine.history.schema import migrate
from engine.history.writer import MessageWriter

TITLE_LENGTH = 60
#: Deleted conversations stay restorable (undo) this long, then their rows are erased.
UNDO_WINDOW_S = 600.0

_SUMMARY = """
    SELECT c.id, c.uid, c.title, c.pinned, c.created, c.updated,
           (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)
    FROM conversations c
"""
_MESSAGE = """
    SELECT id, conversation_id, role, content, thinking, status, created,
           model, provider, finish_reason, stats
    FROM messages
"""


class HistoryStore:
    """The open store. Use from one thread; open one per process (they coordinate via SQLite)."""

    def __init__(self, db, path: Path, *, encrypted: bool,
                 clock: Callable[[], float] = time.time) -> None:
        self._conn = db
        self.path = path
        self.encrypted = encrypted
        self._clock = clock
        migrate(db, path)
        self.purge_deleted()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def _db(self):
        """The connection; a typed error (not AttributeError) once the store is closed."""
        if self._conn is None:
            raise HistoryWriteError("the history was closed")
        return self._conn

    @property
    def closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        """Close the connection (idempotent); the WAL is checkpointed by SQLite."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> database.IntegrityReport:
        """Run SQLCipher's page check and SQLite's integrity check."""
        return database.check_integrity(self._db, encrypted=self.encrypted)

    def backup_to(self, target_db) -> None:
        """Copy the whole store into another (already keyed) connection, online."""
        self._db.backup(target_db)

    def data_version(self) -> int:
        """Changes when another connection commits (for refreshing a view)."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    # -- conversations ---------------------------------------------------------------------

    def create_conversation(self, title: str = "", *, uid: str | None = None,
                            created: float | None = None) -> ConversationSummary:
        """A new, empty conversation (the title comes from the first question if empty)."""
        now = self._clock() if created is None else created
        with database.write(self._db):
            cursor = self._db.execute(
                "INSERT INTO conversations(uid, title, created, updated) VALUES (?, ?, ?, ?)",
                (uid or uuid.uuid4().hex, _clean_title(title), now, now))
        return self.summary(cursor.lastrowid)

    def summary(self, conversation_id: int) -> ConversationSummary:
        """One conversation's row; raises ConversationNotFoundError."""
        row = self._db.execute(_SUMMARY + " WHERE c.id = ? AND c.deleted IS NULL",
                               (conversation_id,)).fetchone()
        if row is None:
            raise ConversationNotFoundError(conversation_id)
        return _summary(row)

    def find_uid(self, uid: str) -> int | None:
        """The id of the conversation with this export uid, if any."""
        row = self._db.execute("SELECT id FROM conversations WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else int(row[0])

    def list_conversations(self) -> list[ConversationSummary]:
        """Pinned first, then most recently active first."""
        rows = self._db.execute(_SUMMARY + " WHERE c.deleted IS NULL "
                                "ORDER BY c.pinned DESC, c.updated DESC, c.id DESC").fetchall()
        return [_summary(row) for row in rows]

    def conversation(self, conversation_id: int) -> Conversation:
        """A conversation with its messages, oldest first."""
        summary = self.summary(conversation_id)
        rows = self._db.execute(_MESSAGE + " WHERE conversation_id = ? ORDER BY id",
                                (conversation_id,)).fetchall()
        return Conversation(summary, tuple(_message(row) for row in rows),
                            self.chat_settings(conversation_id))

    def chat_settings(self, conversation_id: int) -> ChatSettings:
        """The chat's own settings (defaults where it has none)."""
        row = self._db.execute("SELECT settings FROM conversations WHERE id = ? AND deleted IS NULL",
                               (conversation_id,)).fetchone()
        if row is None:
            raise ConversationNotFoundError(conversation_id)
        return ChatSettings.from_json(row[0])

    def set_chat_settings(self, conversation_id: int, settings: ChatSettings) -> None:
        """Save the chat's own settings (they do not count as activity: the order stays)."""
        self._update(conversation_id, "settings = ?", (settings.to_json(),))

    def rename_if_untouched(self, conversation_id: int, title: str) -> bool:
        """Give a chat a made-up title unless someone named it already: only while its title is
        still the one taken from its first question. True when renamed."""
        with database.write(self._db):
            row = self._db.execute(
                "SELECT c.title, (SELECT content FROM messages m WHERE m.conversation_id = c.id"
                " AND m.role = 'user' ORDER BY m.id LIMIT 1) FROM conversations c"
                " WHERE c.id = ? AND c.deleted IS NULL", (conversation_id,)).fetchone()
            if row is None or row[1] is None or row[0] != _title_from(row[1]):
                return False
            self._db.execute("UPDATE conversations SET title = ? WHERE id = ?",
                             (_clean_title(title), conversation_id))
        return True

    def rename(self, conversation_id: int, title: str) -> None:
        """Set a conversation's title."""
        self._update(conversation_id, "title = ?", (_clean_title(title),))

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Pinned conversations stay at the top."""
        self._update(conversation_id, "pinned = ?", (int(pinned),))

    def delete(self, conversation_id: int) -> None:
        """Hide a conversation; undelete() brings it back within the undo window."""
        self._update(conversation_id, "deleted = ?", (self._clock(),))

    def undelete(self, conversation_id: int) -> None:
        """Undo delete()."""
        with database.write(self._db):
            self._db.execute("UPDATE conversations SET deleted = NULL WHERE id = ?",
                             (conversation_id,))

    def purge_deleted(self, older_than_s: float = UNDO_WINDOW_S) -> int:
        """Erase conversations deleted more than `older_than_s` ago (secure_delete zeroes them)."""
        cutoff = self._clock() - older_than_s
        due = "FROM conversations WHERE deleted IS NOT NULL AND deleted <= ?"
        if self._db.execute(f"SELECT count(*) {due}", (cutoff,)).fetchone()[0] == 0:
            return 0  # opening the store for reading needs no write transaction
        with database.write(self._db):
            cursor = self._db.execute(f"DELETE {due}", (cutoff,))
        return cursor.rowcount

    def _update(self, conversation_id: int, assignment: str, values: tuple) -> None:
        with database.write(self._db):
            cursor = self._db.execute(
                f"UPDATE conversations SET {assignment} WHERE id = ? AND deleted IS NULL",
                (*values, conversation_id))
        if cursor.rowcount == 0:
            raise ConversationNotFoundError(conversation_id)

    # -- messages --------------------------------------------------------------------------

    def add_message(self, conversation_id: int, role: str, content: str, *, thinking: str = "",
                    meta: MessageMeta | None = None,
                    status: MessageStatus = MessageStatus.COMPLETE,
                    created: float | None = None) -> StoredMessage:
        """Save a whole message now (a question, or an imported answer)."""
        meta = meta or MessageMeta()
        now = self._clock() if created is None else created
        with database.write(self._db):
            row = self._db.execute("SELECT title FROM conversations WHERE id = ? AND deleted IS NULL",
                                   (conversation_id,)).fetchone()
            if row is None:
                raise ConversationNotFoundError(conversation_id)
            cursor = self._db.execute(
                "INSERT INTO messages(conversation_id, role, content, thinking, status, created,"
                " model, provider, finish_reason, stats) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, thinking, status.value, now, meta.model,
                 meta.provider, meta.finish_reason, json.dumps(meta.stats)))
            title = row[0] or (_title_from(content) if role == "user" else "")
            self._db.execute("UPDATE conversations SET updated = ?, title = ? WHERE id = ?",
                             (max(now, self._clock()), title, conversation_id))
        return self.message(cursor.lastrowid)

    def truncate_from(self, message_id: int) -> None:
        """Remove a message and every later one in its conversation (an edited last question
        replaces the exchange it started, as the window shows it)."""
        with database.write(self._db):
            self._db.execute(
                "DELETE FROM messages WHERE conversation_id = "
                "(SELECT conversation_id FROM messages WHERE id = ?) AND id >= ?",
                (message_id, message_id))

    def message(self, message_id: int) -> StoredMessage:
        """One message by id."""
        row = self._db.execute(_MESSAGE + " WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise ConversationNotFoundError(f"message {message_id}")
        return _message(row)

    def start_message(self, conversation_id: int, meta: MessageMeta | None = None, *,
                      interval_s: float = 0.5) -> MessageWriter:
        """Create an empty assistant message now and return the writer that streams into it."""
        stored = self.add_message(conversation_id, "assistant", "", meta=meta,
                                  status=MessageStatus.STREAMING)
        return MessageWriter(self, stored.id, interval_s=interval_s)

    def _save_stream(self, message_id: int, content: str, thinking: str,
                     meta: MessageMeta | None, status: MessageStatus) -> None:
        """The writer's commit: the message's text so far (and its metadata when finished)."""
        with database.write(self._db):
            if meta is None:
                self._db.execute("UPDATE messages SET content = ?, thinking = ?, status = ? "
                                 "WHERE id = ?", (content, thinking, status.value, message_id))
            else:
                self._db.execute(
                    "UPDATE messages SET content = ?, thinking = ?, status = ?, model = ?,"
                    " provider = ?, finish_reason = ?, stats = ? WHERE id = ?",
                    (content, thinking, status.value, meta.model, meta.provider,
                     meta.finish_reason, json.dumps(meta.stats), message_id))
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = "
                             "(SELECT conversation_id FROM messages WHERE id = ?)",
                             (self._clock(), message_id))

    # -- search ----------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 50) -> list[SearchHit]:
        """Full-text search over titles, messages and thinking; best matches first."""
        query = fts_query(text)
        if not query:
            return []
        hits = [
            SearchHit(int(row[0]), row[1], None, "title", row[2])
            for row in self._db.execute(
                "SELECT c.id, c.title, highlight(titles_fts, 0, ?, ?) FROM titles_fts "
                "JOIN conversations c ON c.id = titles_fts.rowid "
                "WHERE titles_fts MATCH ? AND c.deleted IS NULL ORDER BY rank LIMIT ?",
                (HIT_START, HIT_END, query, limit))
        ]
        for row in self._db.execute(
                "SELECT c.id, c.title, m.id, snippet(messages_fts, 0, ?, ?, '…', 16),"
                " snippet(messages_fts, 1, ?, ?, '…', 16) FROM messages_fts "
                "JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? AND c.deleted IS NULL ORDER BY rank LIMIT ?",
                (HIT_START, HIT_END, HIT_START, HIT_END, query, limit)):
            in_content = HIT_START in row[3]
            hits.append(SearchHit(int(row[0]), row[1], int(row[2]),
                                  "content" if in_content else "thinking",
                                  row[3] if in_content else row[4]))
        # A title made from the first question would repeat that question's hit.
        said = {(h.conversation_id, h.plain) for h in hits if h.message_id is not None}
        hits = [h for h in hits if h.message_id is not None
                or (h.conversation_id, h.plain) not in said]
        return hits[:limit]


def fts_query(text: str) -> str:
    """User text → an FTS5 query: every word must appear, the last one as a prefix.

    Each word is quoted, so FTS5 syntax (quotes, AND, NEAR, *, :) in the text is just text.
    """
    words = [word.replace('"', '""') for word in text.split()]
    words = [w for w in words if any(ch.isalnum() for ch in w)]
    if not words:
        return ""
    return " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + \
        f'"{words[-1]}"*'


def _title_from(question: str) -> str:
    line = " ".join(question.split())
    return line if len(line) <= TITLE_LENGTH else line[:TITLE_LENGTH - 1].rstrip() + "…"


def _clean_title(title: str) -> str:
    return " ".join(title.split())[:200]


def _summary(row) -> ConversationSummary:
    return ConversationSummary(int(row[0]), row[1], row[2], bool(row[3]), row[4], row[5],
                               int(row[6]))


def _message(row) -> StoredMessage:
    try:
        stats = json.loads(row[10])
    except ValueError:
        stats = {}
    return StoredMessage(
        id=int(row[0]), conversation_id=int(row[1]), role=row[2], content=row[3],
        thinking=row[4], status=MessageStatus(row[5]), created=row[6],
        meta=MessageMeta(model=row[7], provider=row[8], finish_reason=row[9],
                         stats=stats if isinstance(stats, dict) else {}))
