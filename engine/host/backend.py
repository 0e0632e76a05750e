"""What the host needs from whatever runs the model: the local inference thread or a remote engine.

`engine.service.InferenceService` is the local backend; a remote one (an OpenAI-compatible
endpoint) plugs in next to it by implementing the same four calls.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from engine.events import Event, Finished
    from engine.generation import TurnControl
    from engine.request import ChatRequest
    from engine.service import LoadResult, ModelChoice


@runtime_checkable
class EngineBackend(Protocol):
    """Runs one model at a time. Every call only queues work and returns at once."""

    def load(self, choice: ModelChoice) -> Future[LoadResult]:
        """Make `choice` the loaded model; the future raises a PonderError subclass on failure."""
        ...

    def generate(self, request: ChatRequest, control: TurnControl, emit: Callable[[Event], None],
                 *, session: str) -> Future[Finished | None]:
        """Run one turn of `session`; events go to emit. Never raises: a failure is a Failed event."""
        ...

    def forget(self, session: str) -> Future[None]:
        """Drop what `session` has cached (its conversation)."""
        ...

    def close(self) -> None:
        """Stop: queued work is dropped, the model freed."""
        ...
