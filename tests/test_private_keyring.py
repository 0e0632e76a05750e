"""Tests never reach the developer's login keyring."""

from __future__ import annotations

import os

import keyring


def test_the_session_keyring_is_private(_isolated_keyring):
    assert os.environ.get("PONDER_TEST_PRIVATE_KEYRING") == "1"
    backend = type(keyring.get_keyring()).__module__
    assert (backend.startswith("keyring.backends.SecretService") or backend == "keyring.backends.fail"
            or "private" in _isolated_keyring), (backend, _isolated_keyring)
    if "private session bus" in _isolated_keyring and "tools/test.sh" not in _isolated_keyring:
        assert os.environ["DBUS_SESSION_BUS_ADDRESS"] in _isolated_keyring
