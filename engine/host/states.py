"""The host's state, published as typed events to whoever subscribed (window, CLI, quick actions).

Every state carries the load's generation: a later request has a higher number, and a state
of an older generation is never published once a newer one was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine.errors import PonderError

if TYPE_CHECKING:
    from engine.catalog.setup import ModelSetup
    from engine.remote.service import RemoteLoadResult
    from engine.service import LoadResult


@dataclass(frozen=True)
class ModelWanted:
    """What to load: the model as the user named it, and the provider."""

    spec: str
    provider: str = "auto"
    threads: int | None = None


@dataclass(frozen=True)
class Idle:
    """Nothing loaded and nothing asked for yet."""

    generation: int = 0


@dataclass(frozen=True)
class Switching:
    """A model change waits for running work (an answer, a summary) to end; then it loads."""

    generation: int
    wanted: ModelWanted
    waiting_for: tuple[str, ...]


@dataclass(frozen=True)
class Checking:
    """The installed files are being verified (`full`: every file is hashed, after an unclean stop)."""

    generation: int
    wanted: ModelWanted
    full: bool


@dataclass(frozen=True)
class Loading:
    """The files are good; the backend is loading the model and proving the provider."""

    generation: int
    wanted: ModelWanted


@dataclass(frozen=True)
class Ready:
    """Loaded: what the backend reported (a local model's files and provider, or a remote
    model's server), and the catalog setup applied to it."""

    generation: int
    wanted: ModelWanted
    result: LoadResult | RemoteLoadResult
    setup: ModelSetup


@dataclass(frozen=True)
class LoadFailed:
    """The load failed; `error` is the typed error the user is shown (app/errors.py)."""

    generation: int
    wanted: ModelWanted
    error: PonderError


@dataclass(frozen=True)
class Closed:
    """The host shut down; nothing runs any more."""

    generation: int


HostState = Idle | Switching | Checking | Loading | Ready | LoadFailed | Closed


class StateListener(Protocol):
    """Receives every published state, on the host's event loop."""

    def __call__(self, state: HostState) -> None: ...


class LoadSupersededError(PonderError):
    """A newer model request replaced this one before it finished; the newer one decides."""

    def __init__(self, spec: str) -> None:
        super().__init__(f"Loading {spec} was replaced by a newer model choice.")
