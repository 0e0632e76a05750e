"""The asyncio face of the engine: `async for batch in assistant.chat(request)`.

Used by the window (through qasync) and the command line (through asyncio.run) alike.
"""

from __future__ import annotations

import asyncio

from engine.bridge import EventBridge
from engine.events import Event
from engine.generation import TurnControl
from engine.request import ChatRequest
from engine.service import DEFAULT_SESSION, InferenceService, LoadResult, ModelChoice


class ChatTurn:
    """A running turn: iterate for event batches; cancel() or answer_now() at any time."""

    def __init__(self, service: InferenceService, request: ChatRequest, session: str = DEFAULT_SESSION) -> None:
        self._control = TurnControl()
        self._bridge = EventBridge(asyncio.get_running_loop())
        self._future = service.generate(request, self._control, self._bridge.put, session=session)

    def cancel(self) -> None:
        """Stop generating; a Finished(cancelled) batch ends the iteration."""
        self._control.cancel.set()

    def answer_now(self) -> None:
        """End the thinking now and go on to the answer."""
        self._control.answer_now.set()

    def __aiter__(self) -> ChatTurn:
        return self

    async def __anext__(self) -> list[Event]:
        return await self._bridge.__anext__()

    async def wait_idle(self) -> None:
        """Until the inference thread has finished this turn."""
        await asyncio.wrap_future(self._future)


class Assistant:
    """Loads models and runs chat turns on the InferenceService's thread."""

    def __init__(self, service: InferenceService) -> None:
        self.service = service

    async def load(self, choice: ModelChoice) -> LoadResult:
        """Load a model; raises a PonderError subclass on failure."""
        return await asyncio.wrap_future(self.service.load(choice))

    def chat(self, request: ChatRequest, *, session: str = DEFAULT_SESSION) -> ChatTurn:
        """Start a turn of `session` (its own cached conversation). Must be called from the
        running event loop."""
        return ChatTurn(self.service, request, session)

    async def new_conversation(self) -> None:
        await asyncio.wrap_future(self.service.reset_conversation())
