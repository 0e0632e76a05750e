"""Fixtures for the history sidebar: a real encrypted store under a temporary home, keyed by an
in-memory keyring backend (allowlisted for the test only)."""

from __future__ import annotations

import pytest

from app.ops import Ops
from engine.history.keys import SECURE_BACKENDS, Keyring, backend_name
from engine.history.vault import HistoryVault
from tests.engine.history.conftest import FAST_SCRYPT, MemoryKeyring


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def vault(ponder_home, memory_keyring) -> HistoryVault:
    keyring = Keyring(lambda: memory_keyring,
                      allowed=SECURE_BACKENDS | {backend_name(memory_keyring)})
    return HistoryVault.for_paths(ponder_home, keyring=keyring, scrypt=FAST_SCRYPT)


@pytest.fixture
def store(vault):
    with vault.open() as opened:
        yield opened


@pytest.fixture
def ops(qapp):
    """The app's ops layer, as build_app() makes it; shut down (everything cancelled) at the end."""
    registry = Ops()
    yield registry
    registry.shutdown()
