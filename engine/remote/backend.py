"""A remote model as the engine host's backend, so every consumer runs on it unchanged.

The host asks its backend to load a `ModelChoice` (a local spec); a remote host has one fixed
`RemoteChoice` instead, so this adapter answers every load with it. There are no files to check
and no catalog entry for a served model: the host gets the default setup.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from engine.remote.service import RemoteChoice, RemoteLoadResult, RemoteService

if TYPE_CHECKING:
    from engine.events import Event, Finished
    from engine.generation import TurnControl
    from engine.host import ModelHost
    from engine.paths import Paths
    from engine.request import ChatRequest
    from engine.service import ModelChoice


class RemoteBackend:
    """A RemoteService bound to one remote choice (implements engine.host.EngineBackend)."""

    def __init__(self, choice: RemoteChoice, service: RemoteService | None = None) -> None:
        self.choice = choice
        self.service = service or RemoteService()

    def load(self, choice: ModelChoice) -> Future[RemoteLoadResult]:
        """Connect to the bound endpoint (the local choice's spec names it only for the states)."""
        return self.service.load(self.choice)

    def generate(self, request: ChatRequest, control: TurnControl, emit: Callable[[Event], None],
                 *, session: str) -> Future[Finished | None]:
        return self.service.generate(request, control, emit, session=session)

    def forget(self, session: str) -> Future[None]:
        return self.service.forget(session)

    def close(self) -> None:
        self.service.close()


def remote_host(choice: RemoteChoice, paths: Paths | None = None) -> ModelHost:
    """A host whose model runs on `choice`'s server."""
    from engine.catalog.setup import ModelSetup
    from engine.host import ModelHost

    return ModelHost(RemoteBackend(choice), paths=paths,  # type: ignore[arg-type]
                     setup=lambda _spec, _paths: ModelSetup(), full_check=lambda _spec: False)


def connection_backend(paths: Paths, name: str) -> RemoteBackend:
    """The backend of the saved connection `name` (its key from the keyring). Blocking."""
    from engine.remote.connections import ConnectionStore

    connection, endpoint = ConnectionStore.for_paths(paths).endpoint(name)
    return RemoteBackend(RemoteChoice(endpoint, connection.server, connection.context_length))
