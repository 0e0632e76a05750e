"""Fixtures for the history sidebar: a real encrypted store under a temporary home, keyed by an
in-memory keyring backend (allowlisted for the test only)."""

from __future__ import annotations

import pytest

from app.history.panel import HistoryPanel
from app.ops import Ops
from engine.history.keys import SECURE_BACKENDS, Keyring, backend_name
from engine.history.vault import HistoryVault
from tests.engine.history.conftest import FAST_SCRYPT, MemoryKeyring


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


def allowed_keyring(memory_keyring: MemoryKeyring) -> Keyring:
    """A Keyring on the in-memory backend, allowlisted as secure for the test."""
    return Keyring(lambda: memory_keyring, allowed=SECURE_BACKENDS | {backend_name(memory_keyring)})


def window_history(window, memory_keyring: MemoryKeyring, folder, configure=None) -> HistoryPanel:
    """The window's history panel moved to a store in `folder` keyed by the test's in-memory
    keyring, and opened; `configure(panel)` runs before it opens (test dialogs, say)."""
    panel = window.findChild(HistoryPanel)
    panel.close_store()
    panel.vault = HistoryVault(folder, keyring=allowed_keyring(memory_keyring))
    if configure is not None:
        configure(panel)
    assert panel.unlock()
    return panel


@pytest.fixture
def vault(ponder_home, memory_keyring) -> HistoryVault:
    return HistoryVault.for_paths(ponder_home, keyring=allowed_keyring(memory_keyring), scrypt=FAST_SCRYPT)


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
