"""Unlocking the history: which key, from where, and what to do when it cannot be had.

The rule that matters: an existing database file is never created over, rewritten, renamed or
deleted by anything here. When it cannot be opened the user gets a HistoryLockedError with
recovery choices; "new store" and "restore backup" write a *new* file and point the record at it.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from engine.history import database
from engine.history.errors import (
    HistoryLockedError,
    HistorySetupNeededError,
    LockReason,
    RecoveryChoice,
    SetupChoice,
)
from engine.history.files import private_dir, touch_private
from engine.history.keys import (
    KeyRecord,
    Keyring,
    ScryptParams,
    backend_name,
    derive_key,
    key_id,
    new_key,
    purpose_key,
)
from engine.history.store import HistoryStore

log = logging.getLogger(__name__)

RECORD_FILE = "store.json"
BACKUPS_KEPT = 3
BACKUP_EVERY_S = 24 * 3600.0


class HistoryVault:
    """The history folder: its key record, database files and backups."""

    def __init__(self, folder: Path, *, keyring: Keyring | None = None,
                 scrypt: ScryptParams = ScryptParams(),
                 clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.keyring = keyring or Keyring()
        self.scrypt = scrypt
        self._clock = clock

    @classmethod
    def for_paths(cls, paths, **options) -> HistoryVault:
        """The vault under Ponder's data folder."""
        return cls(paths.data / "history", **options)

    @property
    def record_path(self) -> Path:
        return self.folder / RECORD_FILE

    @property
    def backups_dir(self) -> Path:
        return self.folder / "backups"

    def record(self) -> KeyRecord | None:
        """The saved key record, if readable."""
        return KeyRecord.load(self.record_path)

    def database_path(self) -> Path:
        """The database the record points at (or the default name for a new store)."""
        record = self.record()
        return self.folder / (record.database if record else "history.db")

    # -- opening ---------------------------------------------------------------------------

    def open(self, *, passphrase: str | None = None) -> HistoryStore:
        """Open the store, creating it on first use when a secure keyring can hold the key.

        Raises HistorySetupNeededError (first use, no secure keyring) or HistoryLockedError.
        """
        record = self.record()
        if record is None:
            existing = sorted(self.folder.glob("*.db")) if self.folder.exists() else []
            if existing:
                raise HistoryLockedError(LockReason.RECORD_MISSING, existing[0],
                                         (RecoveryChoice.NEW_STORE,))
            backend = self.keyring.secure()
            if backend is None:
                raise HistorySetupNeededError(self.keyring.describe())
            return self._create_keyring_store("history.db", backend)
        path = self.folder / record.database
        key = self._key_for(record, path, passphrase)
        return self._open_file(record, path, key)

    def setup(self, choice: SetupChoice, *, passphrase: str = "") -> HistoryStore:
        """First use without a secure keyring: the user's explicit choice."""
        if self.record() is not None or (self.folder.exists() and any(self.folder.glob("*.db"))):
            raise FileExistsError(self.folder)
        return self._create_without_keyring("history.db", choice, passphrase)

    def _key_for(self, record: KeyRecord, path: Path, passphrase: str | None) -> bytes | None:
        retry = (RecoveryChoice.RETRY_KEYRING, *self._fallbacks())
        if record.mode == "unencrypted":
            return None
        if record.mode == "passphrase":
            if not passphrase:
                raise HistoryLockedError(LockReason.PASSPHRASE_NEEDED, path,
                                         (RecoveryChoice.ENTER_PASSPHRASE, *self._fallbacks()))
            key = derive_key(passphrase, bytes.fromhex(record.salt), record.scrypt)
            if key_id(key) != record.key_id:
                raise HistoryLockedError(LockReason.PASSPHRASE_WRONG, path,
                                         (RecoveryChoice.ENTER_PASSPHRASE, *self._fallbacks()))
            return key
        try:
            fetched = self.keyring.fetch(record.backend, record.key_name)
        except LookupError as exc:
            raise HistoryLockedError(LockReason.KEYRING_CHANGED, path, retry,
                                     detail=f"expected {record.backend}, found {exc}") from None
        except OSError as exc:
            raise HistoryLockedError(LockReason.KEYRING_UNAVAILABLE, path, retry,
                                     detail=str(exc)) from None
        if fetched is None:
            raise HistoryLockedError(LockReason.KEY_MISSING, path, retry)
        if key_id(fetched) != record.key_id:
            raise HistoryLockedError(LockReason.KEY_WRONG, path, retry)
        return fetched

    def derived_key(self, purpose: str, *, passphrase: str | None = None) -> bytes | None:
        """A key for another private file, derived from the history key (keys.purpose_key).

        None when the history is unencrypted by the user's choice or not set up yet; raises
        HistoryLockedError when its key cannot be had now (a passphrase not given, the keyring away).
        """
        record = self.record()
        if record is None or record.mode == "unencrypted":
            return None
        key = self._key_for(record, self.folder / record.database, passphrase)
        assert key is not None
        return purpose_key(key, purpose)

    def _fallbacks(self) -> tuple[RecoveryChoice, ...]:
        restore = (RecoveryChoice.RESTORE_BACKUP,) if self.backups() else ()
        return (*restore, RecoveryChoice.NEW_STORE)

    def _open_file(self, record: KeyRecord, path: Path, key: bytes | None) -> HistoryStore:
        private_dir(self.folder)
        create = not path.exists()  # record written, crashed before the file: nothing to lose
        try:
            db = database.connect(path, key, create=create)
        except database.NotADatabase:
            log.warning("history database %s cannot be decrypted", path)
            raise HistoryLockedError(LockReason.DAMAGED, path, self._fallbacks(),
                                     detail="it cannot be decrypted with its key") from None
        try:
            store = HistoryStore(db, path, encrypted=key is not None, clock=self._clock)
        except BaseException:
            db.close()
            raise
        self._backup_if_due(store, key)
        return store

    # -- creating --------------------------------------------------------------------------

    def _create_keyring_store(self, name: str, backend: object) -> HistoryStore:
        private_dir(self.folder)
        key = new_key()
        key_name = f"store-{uuid.uuid4().hex}"
        try:
            self.keyring.store(backend, key_name, key)
        except Exception as exc:  # noqa: BLE001 - a keyring that refuses (locked, dbus gone): ask the user
            log.warning("keyring refused the history key: %s", type(exc).__name__)
            raise HistorySetupNeededError(self.keyring.describe()) from None
        record = KeyRecord(mode="keyring", database=name, created=self._clock(),
                           backend=backend_name(backend), key_name=key_name, key_id=key_id(key))
        record.save(self.record_path)
        return self._open_file(record, self.folder / name, key)

    def _create_without_keyring(self, name: str, choice: SetupChoice,
                                passphrase: str) -> HistoryStore:
        private_dir(self.folder)
        if choice is SetupChoice.PASSPHRASE:
            if not passphrase:
                raise ValueError("a passphrase is required")
            salt = secrets.token_bytes(16)
            derived = derive_key(passphrase, salt, self.scrypt)
            key: bytes | None = derived
            record = KeyRecord(mode="passphrase", database=name, created=self._clock(),
                               key_id=key_id(derived), salt=salt.hex(), scrypt=self.scrypt)
        else:
            key = None
            record = KeyRecord(mode="unencrypted", database=name, created=self._clock())
        record.save(self.record_path)
        return self._open_file(record, self.folder / name, key)

    # -- recovery --------------------------------------------------------------------------

    def new_store(self, *, choice: SetupChoice | None = None,
                  passphrase: str = "") -> HistoryStore:
        """Start an empty store in a new file; the old file and its record are kept aside."""
        private_dir(self.folder)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._clock()))
        name = f"history-{stamp}-{secrets.token_hex(2)}.db"
        backend = self.keyring.secure() if choice is None else None
        if choice is None and backend is None:
            raise HistorySetupNeededError(self.keyring.describe())
        if choice is SetupChoice.PASSPHRASE and not passphrase:
            raise ValueError("a passphrase is required")
        if self.record_path.exists():
            # Keep the old record: if the key comes back, the old file can still be opened.
            self.record_path.replace(self.folder / f"store-{stamp}.json.old")
        if backend is not None:
            return self._create_keyring_store(name, backend)
        assert choice is not None  # no choice means the keyring, which was checked above
        return self._create_without_keyring(name, choice, passphrase)

    def needs_new_file(self) -> bool:
        """True when setting up must go through new_store() (an old file or record exists)."""
        return self.record() is not None or (self.folder.exists()
                                              and any(self.folder.glob("*.db")))

    def backups(self) -> list[Path]:
        """Backups, newest first."""
        if not self.backups_dir.exists():
            return []
        return sorted(self.backups_dir.glob("history-*.db"), reverse=True)

    def restore_backup(self, backup: Path, *, passphrase: str | None = None) -> HistoryStore:
        """Copy a backup to a new database file and use it (same key as the store)."""
        record = self.record()
        if record is None:
            raise HistoryLockedError(LockReason.RECORD_MISSING, backup, (RecoveryChoice.NEW_STORE,))
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._clock()))
        name = f"history-restored-{stamp}-{secrets.token_hex(2)}.db"
        key = self._key_for(record, backup, passphrase)
        target = self.folder / name
        touch_private(target)
        with backup.open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        new_record = replace(record, database=name)
        store = self._open_file(new_record, target, key)
        new_record.save(self.record_path)
        return store

    def _backup_if_due(self, store: HistoryStore, key: bytes | None) -> None:
        """A daily copy (same key) made with SQLite's online backup; keeps the newest few."""
        newest = self.backups()
        if newest and self._clock() - newest[0].stat().st_mtime < BACKUP_EVERY_S:
            return
        if not store.list_conversations():
            return
        private_dir(self.backups_dir)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._clock()))
        target = self.backups_dir / f"history-{stamp}.db"
        try:
            copy = database.connect(target, key, create=True)
            try:
                store.backup_to(copy)
            finally:
                copy.close()
        except Exception as exc:  # noqa: BLE001 - a failed backup must not stop the store from opening
            log.warning("history backup failed: %s", type(exc).__name__)
            target.unlink(missing_ok=True)
            return
        for old in self.backups()[BACKUPS_KEPT:]:
            old.unlink(missing_ok=True)
