"""The server's defences: loopback by default, a key for anything else, Host and Origin checks.

* Binding any address other than loopback needs an API key; without one the server refuses to
  start and says why (Ollama's open port is the cautionary tale).
* Keys are random, kept by an allowlisted OS keyring (or a file the user names), and compared in
  constant time.
* DNS rebinding: a web page whose name suddenly resolves to 127.0.0.1 sends its own name as Host,
  so only the bound address, localhost names and names configured explicitly are accepted.
* CORS: no CORS headers unless an origin was allowed explicitly; a request or preflight carrying
  any other Origin is refused (which also stops "simple" cross-site POSTs that skip preflight).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING, Any

from engine.errors import BadRequestError

if TYPE_CHECKING:
    from engine.history.keys import Keyring

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
KEYRING_SERVICE = "Ponder local API"
KEYRING_USER = "api-key"
KEY_PREFIX = "pk-"


class ServerConfigError(BadRequestError):
    """The server cannot start with these options (the message says why and what to do)."""


@dataclass(frozen=True)
class ServerConfig:
    """How the server listens and whom it lets in."""

    host: str = "127.0.0.1"
    port: int = 8745
    api_key: str | None = None
    allow_origins: tuple[str, ...] = ()
    #: Extra Host names accepted besides the bound address and localhost.
    allow_hosts: tuple[str, ...] = ()
    max_body_bytes: int = 4 * 1024 * 1024
    #: Requests running at once (one per engine session) and waiting in line.
    active: int = 1
    waiting: int = 64
    #: Engine sessions (cached conversations) the API may use; at least `active` are used.
    sessions: int = 2
    origins: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "origins", frozenset(o.rstrip("/").lower() for o in self.allow_origins))
        if not is_loopback(self.host) and not self.api_key:
            raise ServerConfigError(needs_key(self.host))
        if self.api_key is not None and len(self.api_key) < 16:
            raise ServerConfigError("The API key is too short: use at least 16 characters.")

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request's Host header names this server (DNS-rebinding defence)."""
        name = _host_name(header or "")
        if name is None:
            return False
        bound = self.host.strip("[]").lower()
        if name in LOCAL_NAMES or name == bound or name in {h.lower() for h in self.allow_hosts}:
            return True
        # Bound to every address: any IP literal is the machine itself (rebinding needs a name).
        return bound in WILDCARDS and _is_ip(name)

    def origin_allowed(self, origin: str) -> bool:
        return origin.rstrip("/").lower() in self.origins

    def key_matches(self, authorization: str | None) -> bool:
        """`Authorization: Bearer KEY`, compared in constant time; True when no key is set."""
        if not self.api_key:
            return True
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self.api_key.encode())


def needs_key(host: str) -> str:
    """Why a server on `host` cannot start without a key, and what to do."""
    return (f"Listening on {host or 'every address'} would let other computers use the model, so an API key "
            "is required. Put a key in a file only you can read and pass --api-key-file FILE (or let Ponder "
            "keep one in the system keyring), or keep the default --host 127.0.0.1.")


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _host_name(header: str) -> str | None:
    """The name part of a Host header, lower-case, without port or IPv6 brackets."""
    header = header.strip().lower()
    if not header:
        return None
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else None
    name, _, port = header.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".")


def new_key() -> str:
    """A fresh random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def read_key_file(path: Path) -> str:
    """The key in a file (first line); a clear error when it cannot be used."""
    try:
        key = path.read_text(encoding="utf-8").strip().splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise ServerConfigError(f"Cannot read an API key from {path}: {getattr(exc, 'strerror', None) or 'empty file'}.") from None
    return key


class KeyringKeys:
    """The API key kept by the OS keyring; only an allowlisted (encrypted) backend is used."""

    def __init__(self, keyring: Keyring | None = None) -> None:
        from engine.history.keys import Keyring

        self._keyring = keyring or Keyring()

    def get(self) -> str | None:
        """The stored key, or None when there is none (or no secure keyring)."""
        backend: Any = self._keyring.secure()
        if backend is None:
            return None
        try:
            return backend.get_password(KEYRING_SERVICE, KEYRING_USER) or None
        except Exception:  # noqa: BLE001 - keyring raises many types (locked, D-Bus errors…)
            return None

    def get_or_create(self) -> str:
        """The stored key, making and storing a new one first if needed."""
        return self.get() or self.replace()

    def replace(self) -> str:
        """Store a new random key (the old one stops working)."""
        backend: Any = self._keyring.secure()
        if backend is None:
            raise ServerConfigError(
                f"No secure system keyring is available to keep the API key (found {self._keyring.describe()}); "
                "pass --api-key-file FILE instead.")
        key = new_key()
        backend.set_password(KEYRING_SERVICE, KEYRING_USER, key)
        return key
