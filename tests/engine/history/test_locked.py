"""Key missing or wrong, keyring changed, file damaged: a typed error, recovery choices, and the
database file byte-identical (and no file created beside it)."""

from __future__ import annotations

import hashlib

import pytest

from engine.history.errors import HistoryLockedError, LockReason, RecoveryChoice
from engine.history.keys import KEYRING_SERVICE, Keyring
from engine.history.vault import HistoryVault


def _snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def saved(vault):
    """A store holding one conversation, closed."""
    with vault.open() as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "remember me")
    return vault


def _locked(vault, **kwargs) -> HistoryLockedError:
    before = _snapshot(vault.folder)
    with pytest.raises(HistoryLockedError) as info:
        vault.open(**kwargs)
    assert _snapshot(vault.folder) == before  # same files, same bytes
    assert info.value.user_message().startswith("Your conversation history cannot be opened")
    return info.value


def test_key_missing(saved, memory_keyring):
    memory_keyring.secrets.clear()
    error = _locked(saved)
    assert error.reason is LockReason.KEY_MISSING
    assert error.choices[0] is RecoveryChoice.RETRY_KEYRING
    assert RecoveryChoice.NEW_STORE in error.choices


def test_key_wrong(saved, memory_keyring):
    [name] = memory_keyring.secrets
    memory_keyring.secrets[name] = "00" * 32
    assert _locked(saved).reason is LockReason.KEY_WRONG


def test_retry_keyring_after_the_key_comes_back(saved, memory_keyring):
    kept = dict(memory_keyring.secrets)
    memory_keyring.secrets.clear()
    _locked(saved)
    memory_keyring.secrets.update(kept)
    with saved.open() as store:
        assert store.list_conversations()[0].title == "remember me"


def test_keyring_changed_to_an_insecure_one(saved):
    from keyring.backends.null import Keyring as NullKeyring

    saved.keyring = Keyring(lambda: NullKeyring())
    error = _locked(saved)
    assert error.reason is LockReason.KEYRING_CHANGED and "null" in error.detail


def test_damaged_file_offers_backup_and_new_store(saved):
    with saved.open():  # second open writes the daily backup (there is data now)
        pass
    assert saved.backups()
    path = saved.database_path()
    data = bytearray(path.read_bytes())
    data[:64] = b"\xff" * 64  # destroys the salt/first page
    path.write_bytes(bytes(data))
    error = _locked(saved)
    assert error.reason is LockReason.DAMAGED
    assert error.choices == (RecoveryChoice.RESTORE_BACKUP, RecoveryChoice.NEW_STORE)
    damaged = hashlib.sha256(path.read_bytes()).hexdigest()
    with saved.restore_backup(saved.backups()[0]) as store:
        assert store.list_conversations()[0].title == "remember me"
        assert store.path != path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == damaged
    with saved.open() as store:  # the record now points at the restored copy
        assert store.list_conversations()


def test_bit_flip_is_reported_by_the_integrity_check(saved):
    path = saved.database_path()
    with saved.open() as store:
        for i in range(200):  # enough pages that page 3 holds data
            conv = store.create_conversation(f"c{i}")
            store.add_message(conv.id, "user", "filler " * 50)
    data = bytearray(path.read_bytes())
    data[4096 * 2 + 100] ^= 0x01  # a byte inside page 3
    path.write_bytes(bytes(data))
    with saved.open() as store:
        report = store.check()
    assert not report.ok and 3 in report.damaged_pages


def test_new_store_leaves_the_old_file_alone(saved, memory_keyring):
    old_path = saved.database_path()
    old = old_path.read_bytes()
    memory_keyring.secrets.clear()
    _locked(saved)
    with saved.new_store() as store:
        assert store.list_conversations() == [] and store.path != old_path
    assert old_path.read_bytes() == old
    assert list(saved.folder.glob("store-*.json.old"))  # the old record is kept aside


def test_record_missing_never_creates_over_the_database(saved):
    saved.record_path.unlink()
    error = _locked(saved)
    assert error.reason is LockReason.RECORD_MISSING and error.choices == (RecoveryChoice.NEW_STORE,)


def test_the_key_is_never_the_record(saved, memory_keyring):
    [(service, name)] = memory_keyring.secrets
    assert service == KEYRING_SERVICE
    assert memory_keyring.secrets[(service, name)] not in saved.record_path.read_text()


def test_newer_schema_is_refused(saved):
    from engine.history import database
    from engine.history.keys import KeyRecord

    record = KeyRecord.load(saved.record_path)
    key = saved.keyring.fetch(record.backend, record.key_name)
    db = database.connect(saved.database_path(), key)
    db.execute("PRAGMA user_version = 99")
    db.close()
    assert _locked(saved).reason is LockReason.DAMAGED


def test_vault_reports_folder(ponder_home, keyring_for):
    assert HistoryVault.for_paths(ponder_home, keyring=keyring_for).folder == \
        ponder_home.data / "history"
