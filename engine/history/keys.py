"""The history key: random, kept only by an allowlisted OS keyring, or derived from a passphrase.

keyring picks its backend by priority, and with keyrings.alt installed it silently picks a
plaintext file; PYTHON_KEYRING_BACKEND or a keyringrc can force anything. So the *effective*
backend is checked by exact class name against an allowlist, and the key is written to that one
backend object directly (never through keyring's chainer, which would try the next backend).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from engine.history.files import write_private

#: Backends that keep secrets encrypted by the OS session (exact module.qualname).
SECURE_BACKENDS = frozenset({
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
})
KEYRING_SERVICE = "Ponder history"
KEY_BYTES = 32


@dataclass(frozen=True)
class ScryptParams:
    """Key derivation cost; the default takes ~0.3 s and 128 MiB."""

    n: int = 2 ** 17
    r: int = 8
    p: int = 1


@dataclass(frozen=True)
class KeyRecord:
    """How the store's key is kept; saved next to the database (never the key itself)."""

    mode: str  # "keyring" | "passphrase" | "unencrypted"
    database: str  # file name inside the history folder
    created: float
    backend: str = ""  # keyring mode: the backend class that holds the key
    key_name: str = ""  # keyring mode: the username under KEYRING_SERVICE
    key_id: str = ""  # HMAC of the key: tells "wrong key" from "damaged file"
    salt: str = ""  # passphrase mode, hex
    scrypt: ScryptParams = field(default_factory=ScryptParams)
    version: int = 1

    def save(self, path: Path) -> None:
        """Write atomically, 0600."""
        write_private(path, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def load(cls, path: Path) -> KeyRecord | None:
        """None when there is no record or it cannot be read as one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["scrypt"] = ScryptParams(**data.get("scrypt", {}))
            record = cls(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, AttributeError):
            return None
        if record.mode not in ("keyring", "passphrase", "unencrypted") or not record.database \
                or Path(record.database).name != record.database:
            return None
        return record


def new_key() -> bytes:
    """A fresh random raw key (SQLCipher then skips its own KDF)."""
    return secrets.token_bytes(KEY_BYTES)


def key_id(key: bytes) -> str:
    """A fingerprint of the key that reveals nothing about it."""
    return hmac.new(key, b"ponder history key id", hashlib.sha256).hexdigest()[:32]


def purpose_key(key: bytes, purpose: str) -> bytes:
    """A separate key for another private file (e.g. the summary journal): HMAC-SHA256 of the
    purpose under the history key, so neither key reveals the other."""
    return hmac.new(key, b"ponder/" + purpose.encode(), hashlib.sha256).digest()


def derive_key(passphrase: str, salt: bytes, params: ScryptParams) -> bytes:
    """scrypt(passphrase, salt) → a raw 32-byte key."""
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=params.n, r=params.r,
                          p=params.p, maxmem=256 * params.n * params.r + (1 << 20),
                          dklen=KEY_BYTES)


def backend_name(backend: object) -> str:
    """module.qualname of a backend object, as in SECURE_BACKENDS."""
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def default_keyring() -> object:
    """keyring's effective backend now (honours PYTHON_KEYRING_BACKEND and keyringrc).

    keyring caches its choice for the process; re-detecting each time means a keyring that
    appears or changes later (the user unlocked a session, a new environment) is seen on retry.
    """
    import keyring
    import keyring.core

    keyring.core.init_backend()
    return keyring.get_keyring()


class Keyring:
    """The effective keyring backend, reduced to the one object that would receive a secret."""

    def __init__(self, provider: Callable[[], object] = default_keyring,
                 allowed: frozenset[str] = SECURE_BACKENDS) -> None:
        self._provider = provider
        self.allowed = allowed

    def effective(self) -> object | None:
        """The backend that would store a secret (the chainer's first), or None."""
        try:
            backend = self._provider()
        except Exception:  # noqa: BLE001 - a broken keyringrc or backend import: treat as no keyring
            return None
        inner = getattr(backend, "backends", None)
        if backend_name(backend) == "keyring.backends.chainer.ChainerBackend":
            return inner[0] if inner else None
        return backend

    def describe(self) -> str:
        """A name for messages: the effective backend's class, or 'none'."""
        backend = self.effective()
        return "none" if backend is None else backend_name(backend)

    def secure(self) -> object | None:
        """The effective backend if it is allowlisted, else None."""
        backend = self.effective()
        return backend if backend is not None and backend_name(backend) in self.allowed else None

    def store(self, backend: object, name: str, key: bytes) -> None:
        """Write the key to `backend` (which must be allowlisted) and read it back."""
        if backend_name(backend) not in self.allowed:
            raise PermissionError(f"{backend_name(backend)} is not a secure keyring")
        keyring: Any = backend  # a keyring.backend.KeyringBackend, typed loosely by its callers
        keyring.set_password(KEYRING_SERVICE, name, key.hex())
        if keyring.get_password(KEYRING_SERVICE, name) != key.hex():
            raise OSError("the keyring did not keep the key")

    def fetch(self, backend_class: str, name: str) -> bytes | None:
        """The key from the backend recorded at creation; raises LookupError if that backend is
        not the effective one any more, OSError if it cannot be reached."""
        backend = self.effective()
        if backend is None or backend_name(backend) != backend_class \
                or backend_class not in self.allowed:
            raise LookupError(self.describe())
        try:
            value = cast(Any, backend).get_password(KEYRING_SERVICE, name)
        except Exception as exc:  # noqa: BLE001 - keyring raises many types (KeyringLocked, dbus errors…)
            raise OSError(type(exc).__name__) from None
        if value is None:
            return None
        try:
            key = bytes.fromhex(value)
        except ValueError:
            return b""
        return key
