"""Changing the passphrase, and moving a passphrase history into the keyring once one appears."""

from __future__ import annotations

import pytest

from engine.history import database, rekey
from engine.history.keys import derive_key
from engine.history.errors import HistoryLockedError, HistorySetupNeededError, LockReason, SetupChoice
from engine.history.keys import Keyring
from engine.history.vault import HistoryVault
from tests.engine.history.conftest import FAST_SCRYPT

CANARY = "the launch code is 0000"


@pytest.fixture
def no_keyring():
    return Keyring(lambda: None)


def _passphrase_vault(ponder_home, keyring, passphrase="old secret") -> HistoryVault:
    vault = HistoryVault.for_paths(ponder_home, keyring=keyring, scrypt=FAST_SCRYPT)
    with vault.setup(SetupChoice.PASSPHRASE, passphrase=passphrase) as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", CANARY)
    return vault


def _texts(store) -> list[str]:
    return [m.content for s in store.list_conversations() for m in store.conversation(s.id).messages]


def test_a_new_passphrase_opens_the_history_and_the_old_one_no_longer_does(ponder_home, no_keyring):
    vault = _passphrase_vault(ponder_home, no_keyring)
    vault.open(passphrase="old secret").close()  # the daily backup, under the old key
    record = vault.record()
    old_key = derive_key("old secret", bytes.fromhex(record.salt), record.scrypt)
    old_file = vault.database_path()
    assert vault.backups()
    rekey.change_passphrase(vault, "old secret", "new secret")
    with vault.open(passphrase="new secret") as store:
        assert _texts(store) == [CANARY]
    with pytest.raises(HistoryLockedError) as info:
        vault.open(passphrase="old secret")
    assert info.value.reason is LockReason.PASSPHRASE_WRONG
    assert not old_file.exists()
    for path in vault.folder.rglob("*.db"):  # no copy the old passphrase opens is left
        with pytest.raises(database.NotADatabase):
            database.connect(path, old_key).close()


def test_a_wrong_old_passphrase_changes_nothing(ponder_home, no_keyring):
    vault = _passphrase_vault(ponder_home, no_keyring)
    before = sorted(p.name for p in vault.folder.iterdir())
    with pytest.raises(HistoryLockedError):
        rekey.change_passphrase(vault, "guess", "new secret")
    assert sorted(p.name for p in vault.folder.iterdir()) == before
    with vault.open(passphrase="old secret") as store:
        assert _texts(store) == [CANARY]


@pytest.mark.parametrize("crash_at", ["before the record", "after the record"])
def test_a_crash_in_the_middle_leaves_a_readable_history(ponder_home, no_keyring, monkeypatch, crash_at):
    vault = _passphrase_vault(ponder_home, no_keyring)

    class Crash(BaseException):
        pass

    def crash(*args, **kwargs):
        raise Crash

    if crash_at == "before the record":
        monkeypatch.setattr("engine.history.keys.KeyRecord.save", crash)
    else:
        monkeypatch.setattr(rekey, "_remove_db", crash)
    with pytest.raises(Crash):
        rekey.change_passphrase(vault, "old secret", "new secret")
    monkeypatch.undo()
    works = "old secret" if crash_at == "before the record" else "new secret"
    with HistoryVault.for_paths(ponder_home, keyring=no_keyring, scrypt=FAST_SCRYPT).open(passphrase=works) as store:
        assert _texts(store) == [CANARY]
        assert store.check().ok


def test_a_passphrase_history_moves_into_a_keyring_that_appeared(ponder_home, no_keyring, keyring_for,
                                                                   memory_keyring):
    vault = _passphrase_vault(ponder_home, no_keyring)
    with pytest.raises(HistorySetupNeededError):
        rekey.move_to_keyring(vault, "old secret")  # still no secure keyring
    moved = HistoryVault.for_paths(ponder_home, keyring=keyring_for, scrypt=FAST_SCRYPT)
    rekey.move_to_keyring(moved, "old secret")
    assert moved.record().mode == "keyring" and len(memory_keyring.secrets) == 1
    with moved.open() as store:  # no passphrase needed any more
        assert _texts(store) == [CANARY]


def test_an_unencrypted_history_can_be_given_a_passphrase(ponder_home, no_keyring):
    vault = HistoryVault.for_paths(ponder_home, keyring=no_keyring, scrypt=FAST_SCRYPT)
    with vault.setup(SetupChoice.UNENCRYPTED) as store:
        store.add_message(store.create_conversation().id, "user", CANARY)
    rekey.change_passphrase(vault, None, "new secret")
    data = b"".join(p.read_bytes() for p in vault.folder.rglob("*.db*"))
    assert CANARY.encode() not in data
    with vault.open(passphrase="new secret") as store:
        assert _texts(store) == [CANARY]
