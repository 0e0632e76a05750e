"""History fixtures: a vault under a temporary Ponder home, with an in-memory keyring.

The in-memory keyring stands in for the OS keyring where no Secret Service runs; it implements
keyring's real backend interface, and is allowlisted explicitly for these tests only. The real
Secret Service is exercised in test_secret_service.py.
"""

from __future__ import annotations

import pytest
from keyring.backend import KeyringBackend

from engine.history.keys import SECURE_BACKENDS, Keyring, ScryptParams, backend_name
from engine.history.vault import HistoryVault

#: Cheap scrypt for tests (the default costs ~0.3 s per derivation).
FAST_SCRYPT = ScryptParams(n=2 ** 10, r=8, p=1)


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in a dict (and counts what it received)."""

    priority = 1
    #: Subclasses register with keyring's own detection; this one must never be picked by it.
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def keyring_for(memory_keyring):
    """A Keyring wrapper whose effective backend is the in-memory one, allowlisted."""
    return Keyring(lambda: memory_keyring,
                   allowed=SECURE_BACKENDS | {backend_name(memory_keyring)})


@pytest.fixture
def vault(ponder_home, keyring_for) -> HistoryVault:
    return HistoryVault.for_paths(ponder_home, keyring=keyring_for, scrypt=FAST_SCRYPT)


@pytest.fixture
def store(vault):
    with vault.open() as opened:
        yield opened
