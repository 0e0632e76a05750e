"""The real OS keyring path: Secret Service (gnome-keyring on a private D-Bus, as tools/test.sh
runs it). Skipped where no Secret Service answers; CI always has one."""

from __future__ import annotations

import pytest

from engine.history.errors import HistoryLockedError, LockReason
from engine.history.keys import KEYRING_SERVICE, Keyring, backend_name
from engine.history.vault import HistoryVault


@pytest.fixture
def secret_service():
    keyring = Keyring()
    backend = keyring.secure()
    if backend is None or backend_name(backend) != "keyring.backends.SecretService.Keyring":
        pytest.skip(f"no Secret Service on this bus (effective keyring: {keyring.describe()})")
    return backend


def test_key_lives_in_the_secret_service(ponder_home, secret_service):
    vault = HistoryVault.for_paths(ponder_home)
    with vault.open() as store:
        store.create_conversation("in the keyring")
    record = vault.record()
    assert record.backend == "keyring.backends.SecretService.Keyring"
    key_hex = secret_service.get_password(KEYRING_SERVICE, record.key_name)
    assert key_hex and len(key_hex) == 64 and key_hex not in vault.record_path.read_text()
    with HistoryVault.for_paths(ponder_home).open() as store:
        assert store.list_conversations()[0].title == "in the keyring"
    # The key removed from the keyring: locked, file untouched.
    secret_service.delete_password(KEYRING_SERVICE, record.key_name)
    before = vault.database_path().read_bytes()
    with pytest.raises(HistoryLockedError) as info:
        HistoryVault.for_paths(ponder_home).open()
    assert info.value.reason is LockReason.KEY_MISSING
    assert vault.database_path().read_bytes() == before
