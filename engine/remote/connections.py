"""Saved connections to remote servers: a JSON file next to settings.json, the API key in the OS
keyring (never in a file).

Why not inside settings.json: the window keeps its own copy of the settings and writes it back
whole, so a connection added meanwhile by `ponder connections add` would be lost.
Keys are kept only by an allowlisted keyring backend (engine/history/keys.py explains why keyring's
own choice cannot be trusted); without one, adding a key fails with a next step.
"""

from __future__ import annotations

import builtins

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from engine.errors import BadRequestError, ConnectionNotFoundError, SecretStoreError
from engine.history.files import write_private
from engine.history.keys import Keyring
from engine.paths import Paths
from engine.remote.capabilities import ServerKind
from engine.remote.endpoint import Endpoint, check_endpoint

log = logging.getLogger(__name__)

KEYRING_SERVICE = "Ponder connections"
SERVER_CHOICES = ("auto", *(kind.value for kind in ServerKind))


@dataclass(frozen=True)
class Connection:
    """One saved server: what the file holds (never the key itself)."""

    name: str
    base_url: str
    model: str
    ca_file: str | None = None
    allow_private_http: bool = False
    server: str = "auto"  # 'auto' or a ServerKind value, when detection guesses wrong
    has_key: bool = False
    #: Tokens the served model's context holds, when the server does not say or says more than it
    #: runs with (llama.cpp reports the trained context); None: what the server says.
    context_length: int | None = None

    def endpoint(self, api_key: str | None = None) -> Endpoint:
        return Endpoint(self.base_url, self.model, self.name, self.ca_file, self.allow_private_http, api_key)


def check_name(name: str) -> str:
    text = name.strip()
    if not text or len(text) > 64 or not text.isprintable() or "/" in text:
        raise BadRequestError("A connection name must be 1 to 64 printable characters, without '/'.")
    return text


class ConnectionStore:
    """The saved connections of one Ponder home."""

    def __init__(self, path: Path, keyring: Keyring | None = None) -> None:
        self.path = path
        self._keyring = keyring or Keyring()

    @classmethod
    def for_paths(cls, paths: Paths, keyring: Keyring | None = None) -> ConnectionStore:
        return cls(paths.config / "connections.json", keyring)

    def list(self) -> list[Connection]:
        """The saved connections, by name. An unreadable file reads as none (and is logged)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", self.path, exc)
            return []
        out = []
        for entry in data.get("connections", []) if isinstance(data, dict) else []:
            try:
                out.append(Connection(**entry))
            except TypeError:
                log.warning("ignoring a connection entry that is not understood: %s", entry)
        return sorted(out, key=lambda c: c.name.lower())

    def get(self, name: str) -> Connection:
        for connection in self.list():
            if connection.name == name:
                return connection
        raise ConnectionNotFoundError(name)

    def add(self, connection: Connection, api_key: str | None = None) -> Connection:
        """Validate and save (replacing one of the same name); the key goes to the keyring first."""
        name = check_name(connection.name)
        if connection.context_length is not None and connection.context_length < 256:
            raise BadRequestError("The context length must be at least 256 tokens.")
        if connection.server not in SERVER_CHOICES:
            raise BadRequestError(f"The server kind must be one of: {', '.join(SERVER_CHOICES)}.")
        checked = check_endpoint(connection.endpoint())
        ca_file = str(Path(checked.ca_file).resolve()) if checked.ca_file else None
        keep = api_key is None and connection.has_key  # an edit that leaves the saved key alone
        saved = replace(connection, name=name, base_url=checked.base_url, model=checked.model, ca_file=ca_file,
                        has_key=bool(api_key) or keep)
        if api_key:
            self._secure().set_password(KEYRING_SERVICE, name, api_key)
        elif not keep:
            self._forget_key(name)
        others = [c for c in self.list() if c.name != name]
        self._write([*others, saved])
        return saved

    def remove(self, name: str) -> None:
        connection = self.get(name)
        self._write([c for c in self.list() if c.name != connection.name])
        self._forget_key(connection.name)

    def api_key(self, connection: Connection) -> str | None:
        """The connection's key from the keyring (None when it has none)."""
        if not connection.has_key:
            return None
        key = self._secure().get_password(KEYRING_SERVICE, connection.name)
        if key is None:
            raise SecretStoreError(f"The API key of '{connection.name}' is no longer in the system keyring.")
        return key

    def endpoint(self, name: str) -> tuple[Connection, Endpoint]:
        """The connection and its endpoint, key included."""
        connection = self.get(name)
        return connection, connection.endpoint(self.api_key(connection))

    def _secure(self) -> Any:
        backend = self._keyring.secure()
        if backend is None:
            raise SecretStoreError(f"No secure system keyring is available (found: {self._keyring.describe()}).")
        return backend

    def _forget_key(self, name: str) -> None:
        backend: Any = self._keyring.secure()
        if backend is None:
            return
        try:
            backend.delete_password(KEYRING_SERVICE, name)
        except Exception:  # noqa: BLE001 - keyring raises PasswordDeleteError (and others) when there is none
            pass

    def _write(self, connections: builtins.list[Connection]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "connections": [asdict(c) for c in connections]}
        write_private(self.path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
