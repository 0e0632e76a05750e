"""Only allowlisted keyrings may hold the key; otherwise the user chooses, never a silent
plaintext fallback."""

from __future__ import annotations

import base64

import pytest
from keyring.backends import chainer, fail, null

from engine.history.errors import (
    HistoryLockedError,
    HistorySetupNeededError,
    LockReason,
    SetupChoice,
)
from engine.history.keys import Keyring
from engine.history.vault import HistoryVault

from .conftest import FAST_SCRYPT


@pytest.fixture
def plaintext(tmp_path, monkeypatch):
    """keyrings.alt's PlaintextKeyring, writing under a temporary data root."""
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "xdg" / "python_keyring" / "keyring_pass.cfg")
    return backend


def _no_key_anywhere(folder, tmp_path):
    """No stored secret for Ponder in any file keyrings.alt could have written."""
    cfgs = list(tmp_path.rglob("*.cfg"))
    return all(b"Ponder" not in p.read_bytes() for p in cfgs)


@pytest.mark.parametrize("make", ["plaintext", "null", "fail", "chainer_plaintext_first"])
def test_insecure_backends_never_receive_the_key(make, plaintext, ponder_home, tmp_path,
                                                  monkeypatch):
    received = []
    backends = {"plaintext": plaintext, "null": null.Keyring(), "fail": fail.Keyring()}
    for candidate in (plaintext, backends["null"]):
        original_set = candidate.set_password
        candidate.set_password = lambda *a, _s=original_set: (received.append(a), _s(*a))
    if make == "chainer_plaintext_first":
        # What keyring builds when keyrings.alt is the only viable backend.
        monkeypatch.setattr(chainer.ChainerBackend, "backends", [plaintext, backends["null"]])
        backend = chainer.ChainerBackend()
    else:
        backend = backends[make]
    vault = HistoryVault.for_paths(ponder_home, keyring=Keyring(lambda: backend))
    with pytest.raises(HistorySetupNeededError) as info:
        vault.open()
    assert received == []
    assert _no_key_anywhere(vault.folder, tmp_path)
    assert not vault.folder.exists() or not list(vault.folder.glob("*.db"))
    assert info.value.choices == (SetupChoice.PASSPHRASE, SetupChoice.UNENCRYPTED)
    assert "No secure system keyring" in info.value.user_message()


def test_environment_override_to_plaintext_is_refused(ponder_home, tmp_path, monkeypatch):
    # The default provider honours PYTHON_KEYRING_BACKEND: the effective backend is checked.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    vault = HistoryVault.for_paths(ponder_home)
    assert vault.keyring.describe() == "keyrings.alt.file.PlaintextKeyring"
    with pytest.raises(HistorySetupNeededError):
        vault.open()
    assert list((tmp_path / "xdg").rglob("*")) == [] or _no_key_anywhere(None, tmp_path)


def test_passphrase_store(ponder_home, tmp_path):
    vault = HistoryVault.for_paths(ponder_home, keyring=Keyring(lambda: null.Keyring()),
                                   scrypt=FAST_SCRYPT)
    passphrase = "correct horse battery staple"
    with vault.setup(SetupChoice.PASSPHRASE, passphrase=passphrase) as store:
        conv = store.create_conversation("kept")
        assert store.encrypted
    record_text = vault.record_path.read_text()
    assert passphrase not in record_text
    assert '"mode": "passphrase"' in record_text and '"n": 1024' in record_text
    with pytest.raises(HistoryLockedError) as info:
        vault.open()
    assert info.value.reason is LockReason.PASSPHRASE_NEEDED
    with pytest.raises(HistoryLockedError) as info:
        vault.open(passphrase="wrong")
    assert info.value.reason is LockReason.PASSPHRASE_WRONG
    with vault.open(passphrase=passphrase) as store:
        assert store.summary(conv.id).title == "kept"
    assert base64.b64encode(passphrase.encode()) not in b"".join(
        p.read_bytes() for p in vault.folder.rglob("*") if p.is_file())


def test_default_scrypt_cost_is_recorded(ponder_home):
    from engine.history.keys import ScryptParams

    assert ScryptParams() == ScryptParams(n=2 ** 17, r=8, p=1)


def test_unencrypted_only_by_explicit_choice(ponder_home):
    vault = HistoryVault.for_paths(ponder_home, keyring=Keyring(lambda: null.Keyring()))
    with pytest.raises(HistorySetupNeededError):
        vault.open()
    with vault.setup(SetupChoice.UNENCRYPTED) as store:
        assert not store.encrypted
        store.create_conversation("plain")
    assert '"mode": "unencrypted"' in vault.record_path.read_text()
    with vault.open() as store:
        assert store.list_conversations()[0].title == "plain"
    with pytest.raises(FileExistsError):
        vault.setup(SetupChoice.UNENCRYPTED)
