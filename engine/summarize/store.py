"""Progress of a long summary, kept on disk so that it resumes after a restart.

One journal per job, named by a hash of everything that decides the steps (the documents'
bytes, the options, the model, the chunk size); each finished step is appended as it ends, and
the journal is deleted when the summary is done. The journal holds the document's points, so
when the history is encrypted it is too: a SQLCipher file keyed with a key derived from the
history's (`journal_store()`); otherwise it is a 0600 JSON-lines file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.documents.model import Document
from engine.summarize.options import SummaryOptions
from engine.summarize.points import Point
from engine.summarize.sources import Source

log = logging.getLogger(__name__)
VERSION = 1


def job_key(documents: Sequence[Document], options: SummaryOptions, model: str, chunk_tokens: int) -> str:
    """Same key ⇔ same steps: a resumed job reuses only what is still valid."""
    parts = [str(VERSION), model, str(chunk_tokens), options.length.value, options.form.value, options.focus]
    parts += [d.sha256 for d in documents]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class ProgressStore:
    """Saved steps of summary jobs under one folder (the cache folder's summaries/).

    Each job is a JSON-lines journal: one line appended per finished step, so saving costs the
    same at step 500 as at step 1. A line torn by a crash is ignored (that step runs again).
    """

    def __init__(self, folder: Path, *, cipher_key: bytes | None = None) -> None:
        self.folder = folder
        self.cipher_key = cipher_key  # set: an encrypted journal (SQLCipher, raw key)

    def load(self, key: str) -> dict[str, Any]:
        """The saved steps of a job: {"map": {index: points}, "reduce": {prompt key: answer}}."""
        if self.cipher_key is not None:
            return self._load_encrypted(key)
        state: dict[str, Any] = {"version": VERSION, "map": {}, "reduce": {}}
        path = self._path(key)
        try:
            with open(path, encoding="utf-8") as file:
                lines = file.read().splitlines()
        except FileNotFoundError:
            return state
        except OSError as exc:
            log.warning("ignoring unreadable summary progress %s: %s", path.name, exc)
            return state
        for line in lines:
            try:
                entry = json.loads(line)
                if entry.get("version", VERSION) != VERSION:
                    return {"version": VERSION, "map": {}, "reduce": {}}
                if entry.get("kind") in ("map", "reduce"):
                    state[entry["kind"]][str(entry["key"])] = entry["value"]
            except (ValueError, TypeError, KeyError, AttributeError):
                continue  # a torn or damaged line: that step is simply done again
        return state

    def record(self, key: str, kind: str, step: str, value: Any) -> None:
        """Append one finished step to the job's journal (created private to the user)."""
        if self.cipher_key is not None:
            self._record_encrypted(key, kind, step, value)
            return
        path = self._path(key)
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.write(fd, (json.dumps({"version": VERSION}) + "\n").encode())
            os.close(fd)
        line = json.dumps({"kind": kind, "key": step, "value": value}, ensure_ascii=False) + "\n"
        with open(path, "a", encoding="utf-8") as file:
            file.write(line)

    def discard(self, key: str) -> None:
        """Delete the job's journal, in either form."""
        self._path(key).unlink(missing_ok=True)
        db = self._db_path(key)
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"),
                     db.with_name(db.name + "-journal")):
            path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file() or self._db_path(key).is_file()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.jsonl"

    def _db_path(self, key: str) -> Path:
        return self.folder / f"{key}.db"

    # --- the encrypted form ---

    def _connect(self, key: str, *, create: bool):
        from engine.history import database

        path = self._db_path(key)
        if create:
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
        db = database.connect(path, self.cipher_key, create=create)
        db.execute("CREATE TABLE IF NOT EXISTS steps (kind TEXT, step TEXT, value TEXT, "
                   "PRIMARY KEY (kind, step))")
        return db

    def _load_encrypted(self, key: str) -> dict[str, Any]:
        from engine.history.database import NotADatabase

        state: dict[str, Any] = {"version": VERSION, "map": {}, "reduce": {}}
        self._path(key).unlink(missing_ok=True)  # a plaintext journal from before: not trusted, not kept
        if not self._db_path(key).is_file():
            return state
        try:
            db = self._connect(key, create=False)
        except NotADatabase:
            log.warning("ignoring summary progress %s: another key wrote it", key)
            self.discard(key)
            return state
        try:
            for kind, step, value in db.execute("SELECT kind, step, value FROM steps"):
                if kind in ("map", "reduce"):
                    try:
                        state[kind][step] = json.loads(value)
                    except ValueError:
                        continue
        finally:
            db.close()
        return state

    def _record_encrypted(self, key: str, kind: str, step: str, value: Any) -> None:
        from engine.history.database import write

        db = self._connect(key, create=not self._db_path(key).exists())
        try:
            with write(db):
                db.execute("INSERT OR REPLACE INTO steps VALUES (?, ?, ?)",
                           (kind, step, json.dumps(value, ensure_ascii=False)))
        finally:
            db.close()


def journal_store(paths: Any, vault: Any = None) -> ProgressStore | None:
    """The summary journal for this user: encrypted with a key derived from the history's when
    the history is encrypted, plaintext when the user chose an unencrypted history (or has none
    yet), and None (no resuming) when the history's key cannot be had now (a passphrase store)."""
    from engine.history.errors import HistoryLockedError
    from engine.history.vault import HistoryVault

    folder = paths.cache / "summaries"
    try:
        key = (vault or HistoryVault.for_paths(paths)).derived_key(JOURNAL_PURPOSE)
    except HistoryLockedError as exc:
        log.info("summary progress is not saved: the history's key is not available (%s)", exc.reason)
        return None
    return ProgressStore(folder, cipher_key=key)


JOURNAL_PURPOSE = "summary journal"


def points_to_json(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{"text": p.text, "group": p.group, "sources": [s.as_dict() for s in p.sources]} for p in points]


def points_from_json(items: Sequence[dict[str, Any]]) -> list[Point]:
    return [Point(i["text"], tuple(Source(**s) for s in i["sources"]), i.get("group", "")) for i in items]
