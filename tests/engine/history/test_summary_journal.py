"""The summary's resume journal is as private as the history: encrypted when the history is."""

from __future__ import annotations

from engine.history.errors import SetupChoice
from engine.history.vault import HistoryVault
from engine.summarize.store import journal_store
from tests.engine.history.conftest import FAST_SCRYPT

CANARY = "Quarterly revenue of the secret project Bluebird rose 14 percent"


def _all_bytes(folder) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_with_an_encrypted_history_the_journal_is_encrypted(ponder_home, vault, store):
    journal = journal_store(ponder_home, vault)
    assert journal is not None and journal.cipher_key is not None
    journal.record("job", "map", "0", [{"text": CANARY, "group": "", "sources": []}])
    journal.record("job", "reduce", "r1", CANARY)
    folder = ponder_home.cache / "summaries"
    data = _all_bytes(folder)
    assert data and CANARY.encode() not in data and CANARY.encode("utf-16-le") not in data
    assert not data.startswith(b"SQLite format 3\0")
    # Resuming (a new process: a new store object, the same history key) reads it back.
    again = journal_store(ponder_home, vault)
    assert again.load("job")["map"]["0"][0]["text"] == CANARY
    assert again.load("job")["reduce"] == {"r1": CANARY}
    again.discard("job")  # the summary is done
    assert not any(p.is_file() for p in folder.rglob("*"))


def test_another_history_key_cannot_read_an_old_journal(ponder_home, vault, store, keyring_for):
    journal_store(ponder_home, vault).record("job", "reduce", "r1", CANARY)
    other = HistoryVault(ponder_home.data / "other-history", keyring=keyring_for, scrypt=FAST_SCRYPT)
    other.open().close()
    assert journal_store(ponder_home, other).load("job") == {"version": 1, "map": {}, "reduce": {}}


def test_a_passphrase_history_that_is_not_unlocked_keeps_no_journal(ponder_home, tmp_path, keyring_for):
    vault = HistoryVault(ponder_home.data / "history", keyring=keyring_for, scrypt=FAST_SCRYPT)
    vault.setup(SetupChoice.PASSPHRASE, passphrase="correct horse").close()
    assert journal_store(ponder_home, vault) is None


def test_an_unencrypted_history_keeps_a_private_plaintext_journal(ponder_home, keyring_for):
    vault = HistoryVault(ponder_home.data / "history", keyring=keyring_for, scrypt=FAST_SCRYPT)
    vault.setup(SetupChoice.UNENCRYPTED).close()
    journal = journal_store(ponder_home, vault)
    assert journal is not None and journal.cipher_key is None
    journal.record("job", "reduce", "r1", "x")
    assert (ponder_home.cache / "summaries" / "job.jsonl").stat().st_mode & 0o077 == 0
