"""Opening the SQLCipher file: key, pragmas, write transactions and integrity checks.

Everything that knows SQL pragmas lives here. The connection runs in autocommit mode and every
write is a short `BEGIN IMMEDIATE` transaction: taking the write lock up front means a reader
never has to upgrade (which fails at once in WAL mode instead of waiting), so with the busy
timeout two processes simply take turns.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.history.errors import HistoryWriteError
from engine.history.files import touch_private

BUSY_TIMEOUT_MS = 15_000
_PAGE = re.compile(r"page (\d+)")


class NotADatabase(Exception):
    """The file could not be read with this key: wrong key, or damaged beyond page 1."""


@dataclass(frozen=True)
class IntegrityReport:
    """The result of SQLCipher's page HMAC check plus SQLite's own structure check."""

    ok: bool
    problems: tuple[str, ...] = ()

    @property
    def damaged_pages(self) -> tuple[int, ...]:
        """Page numbers named by the HMAC check."""
        return tuple(sorted({int(m) for p in self.problems for m in _PAGE.findall(p)}))


def connect(path: Path, key: bytes | None, *, create: bool = False):
    """A configured connection; raises NotADatabase when the key does not open the file.

    Never creates a file unless `create` is set, so a failed unlock cannot leave an empty store
    where the user's history was. key=None is the user's explicit unencrypted opt-in.
    """
    import sqlcipher3

    if create:
        touch_private(path)
    # The window opens the store on a worker thread (a keyring prompt must not freeze it) and
    # then uses it on its own thread only: one thread at a time, handed over once.
    db = sqlcipher3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, isolation_level=None,
                            timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    try:
        # SQLCipher reports HMAC failures on stderr by default; those belong to no user log.
        db.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            db.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise
            raise NotADatabase(str(exc)) from None
        _retry_busy(lambda: db.execute("PRAGMA journal_mode = WAL").fetchone())
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA secure_delete = ON")
        db.execute("PRAGMA foreign_keys = ON")
        return db
    except BaseException:
        db.close()
        raise


def _retry_busy(action, attempts: int = 3):
    """Run `action`, retrying if SQLite says busy even after its own timeout (WAL recovery)."""
    import sqlcipher3

    for attempt in range(attempts):
        try:
            return action()
        except sqlcipher3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


@contextlib.contextmanager
def write(db) -> Iterator[None]:
    """One short write transaction; a failure rolls back and becomes HistoryWriteError."""
    import sqlcipher3

    try:
        _retry_busy(lambda: db.execute("BEGIN IMMEDIATE"))
    except sqlcipher3.Error as exc:
        raise HistoryWriteError(_describe(exc)) from exc
    try:
        yield
        db.execute("COMMIT")
    except sqlcipher3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise HistoryWriteError(_describe(exc)) from exc
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _describe(exc: Exception) -> str:
    text = str(exc)
    if "full" in text:
        return "the disk is full"
    return text or type(exc).__name__


def check_integrity(db, *, encrypted: bool) -> IntegrityReport:
    """Page HMACs (encrypted stores) and SQLite's integrity_check; never raises on damage."""
    import sqlcipher3

    problems: list[str] = []
    try:
        if encrypted:
            problems += [str(row[0]) for row in db.execute("PRAGMA cipher_integrity_check")]
        rows = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
        problems += [row for row in rows if row != "ok"]
    except sqlcipher3.DatabaseError as exc:
        problems.append(str(exc))
    return IntegrityReport(ok=not problems, problems=tuple(problems))
