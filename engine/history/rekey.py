"""Changing how the history is protected: a new passphrase, or moving it into the OS keyring.

The store is never rewritten in place. The data is exported (`sqlcipher_export`) into a new file
under the new key, fsynced and checked; then the key record, written atomically, switches to the
new file. That rename is the one commit point: a crash before it leaves the old file and record
untouched (the old file is the backup), a crash after it leaves the new, complete store.
Afterwards the old file and the backups made under the old key are deleted: a passphrase is
changed because the old one may be known, so copies that the old one opens must go.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from dataclasses import replace
from pathlib import Path

from engine.history import database
from engine.history.errors import HistorySetupNeededError, HistoryWriteError
from engine.history.files import fsync_dir, touch_private
from engine.history.keys import KEYRING_SERVICE, KeyRecord, backend_name, derive_key, key_id, new_key
from engine.history.vault import HistoryVault

log = logging.getLogger(__name__)


def change_passphrase(vault: HistoryVault, old: str | None, new: str) -> None:
    """Protect the history with the passphrase `new` (from a passphrase store, opened with
    `old`, or from an unencrypted one). Raises HistoryLockedError for a wrong `old`."""
    if not new:
        raise ValueError("a passphrase is required")
    record = _current(vault)
    salt = secrets.token_bytes(16)
    key = derive_key(new, salt, vault.scrypt)
    target = replace(record, mode="passphrase", key_id=key_id(key), salt=salt.hex(),
                     scrypt=vault.scrypt, backend="", key_name="")
    _rekey(vault, record, old, target, key)


def move_to_keyring(vault: HistoryVault, passphrase: str | None) -> None:
    """Protect the history with a new random key kept by the secure OS keyring (once one is
    available). Raises HistorySetupNeededError when there is still no secure keyring."""
    record = _current(vault)
    backend = vault.keyring.secure()
    if backend is None:
        raise HistorySetupNeededError(vault.keyring.describe())
    key = new_key()
    key_name = f"store-{uuid.uuid4().hex}"
    vault.keyring.store(backend, key_name, key)
    target = replace(record, mode="keyring", key_id=key_id(key), salt="", backend=backend_name(backend),
                     key_name=key_name)
    _rekey(vault, record, passphrase, target, key)


def _current(vault: HistoryVault) -> KeyRecord:
    record = vault.record()
    if record is None:
        raise HistoryWriteError("there is no history to protect yet")
    return record


def _rekey(vault: HistoryVault, record: KeyRecord, passphrase: str | None, target: KeyRecord,
           key: bytes) -> None:
    old_path = vault.folder / record.database
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime())
    new_name = f"history-{stamp}-{secrets.token_hex(3)}.db"
    new_path = vault.folder / new_name
    store = vault.open(passphrase=passphrase)  # checks the old key; raises when it is wrong
    try:
        touch_private(new_path)
        db = store._db
        db.execute("ATTACH DATABASE ? AS rekeyed KEY \"x'" + key.hex() + "'\"", (str(new_path),))
        try:
            db.execute("SELECT sqlcipher_export('rekeyed')")
            version = db.execute("PRAGMA main.user_version").fetchone()[0]
            db.execute(f"PRAGMA rekeyed.user_version = {int(version)}")
        finally:
            db.execute("DETACH DATABASE rekeyed")
    except BaseException:
        store.close()
        _remove_db(new_path)
        raise
    store.close()
    try:
        _check(new_path, key)
    except BaseException:
        _remove_db(new_path)
        raise
    fsync_dir(vault.folder)
    old_backups = vault.backups()
    replace(target, database=new_name).save(vault.record_path)  # the commit point
    _remove_db(old_path)
    for backup in old_backups:
        _remove_db(backup)
    if record.mode == "keyring" and record.key_name != target.key_name:
        _forget_key(vault, record)


def _check(path: Path, key: bytes) -> None:
    """The new file opens with the new key and passes both integrity checks."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    db = database.connect(path, key)
    try:
        report = database.check_integrity(db, encrypted=True)
        if not report.ok:
            raise HistoryWriteError("the re-encrypted copy failed its check: " + "; ".join(report.problems))
    finally:
        db.close()


def _remove_db(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + extra).unlink(missing_ok=True)


def _forget_key(vault: HistoryVault, record: KeyRecord) -> None:
    try:
        backend = vault.keyring.effective()
        if backend is not None and backend_name(backend) == record.backend:
            backend.delete_password(KEYRING_SERVICE, record.key_name)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - an old key left in the keyring opens nothing now
        log.info("could not delete the old history key: %s", type(exc).__name__)
