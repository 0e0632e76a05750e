"""Local and remote models behind one host: the spec of each load decides where the model runs.

A spec "remote:NAME" names the saved connection NAME (engine/remote/connections.py); any other
spec is a local model (demo, an installed name, a folder). `KindBackend` is the host's backend:
local loads go to the local InferenceService, a remote one to a RemoteBackend built for that
connection when it is chosen, so with no remote model chosen nothing remote exists (no socket).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from engine.errors import EngineFailureError

if TYPE_CHECKING:
    from engine.events import Event, Finished
    from engine.generation import TurnControl
    from engine.host.backend import EngineBackend
    from engine.paths import Paths
    from engine.request import ChatRequest
    from engine.service import ModelChoice

log = logging.getLogger(__name__)

REMOTE_PREFIX = "remote:"

#: Builds the backend of one saved connection (blocking: reads the file and the keyring).
RemoteFactory = Callable[[str], "EngineBackend"]


def remote_spec(connection: str) -> str:
    """The model spec of a saved connection's model."""
    return REMOTE_PREFIX + connection


def connection_of(spec: str) -> str | None:
    """The connection a remote spec names, or None for a local model."""
    return spec[len(REMOTE_PREFIX):] if spec.startswith(REMOTE_PREFIX) else None


def saved_connections(paths: Paths) -> RemoteFactory:
    """The factory for the connections saved in this Ponder home (imports the HTTP side only
    when a remote model is chosen)."""
    def build(name: str) -> EngineBackend:
        from engine.remote.backend import connection_backend

        return connection_backend(paths, name)  # type: ignore[return-value]  # loads a RemoteLoadResult

    return build


class KindBackend:
    """An EngineBackend that runs each load on the backend of its kind (local or a connection).

    The host makes one load at a time and starts turns only on a loaded model, so the current
    backend changes only between turns. Leaving a kind frees it: the local model is unloaded,
    a remote backend closed (its connections and thread end).
    """

    def __init__(self, local: EngineBackend, remote: RemoteFactory) -> None:
        self.local = local
        self._remote_factory = remote
        self._remote: EngineBackend | None = None
        self._current: EngineBackend = local
        self._lock = threading.Lock()
        self._closed = False

    @property
    def remote(self) -> EngineBackend | None:
        """The remote backend in use, if a remote model is chosen."""
        return self._remote

    def load(self, choice: ModelChoice) -> Future:
        name = connection_of(choice.spec)
        if name is None:
            self._retire_remote()
            self._current = self.local
            return self.local.load(choice)
        future: Future = Future()
        threading.Thread(target=self._load_remote, args=(name, choice, future), daemon=True,
                         name="ponder-remote-connect").start()
        return future

    def generate(self, request: ChatRequest, control: TurnControl, emit: Callable[[Event], None],
                 *, session: str) -> Future[Finished | None]:
        return self._current.generate(request, control, emit, session=session)

    def forget(self, session: str) -> Future[None]:
        return self._current.forget(session)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            remote, self._remote = self._remote, None
        if remote is not None:
            remote.close()
        self.local.close()

    # --- internals ---

    def _load_remote(self, name: str, choice: ModelChoice, future: Future) -> None:
        """On a thread of its own: the keyring and closing the old connection may block."""
        try:
            self._retire_remote(wait=True)
            unload = getattr(self.local, "unload", None)
            if unload is not None:
                unload()  # the local model's memory is not needed while a remote one answers
            backend = self._remote_factory(name)
            with self._lock:
                if self._closed:
                    backend.close()
                    raise EngineFailureError("the engine is shutting down")
                self._remote = self._current = backend
            loaded = backend.load(choice)
            loaded.add_done_callback(lambda done: _copy(done, future))
        except BaseException as exc:  # noqa: BLE001 - the host turns it into LoadFailed
            future.set_exception(exc)

    def _retire_remote(self, *, wait: bool = False) -> None:
        with self._lock:
            remote, self._remote = self._remote, None
        if remote is None:
            return
        if wait:
            remote.close()
        else:  # closing joins the remote thread: not on the caller's (the GUI's) loop
            threading.Thread(target=remote.close, daemon=True, name="ponder-remote-close").start()


def _copy(source: Future, target: Future) -> None:
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())
