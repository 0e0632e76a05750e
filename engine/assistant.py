"""The asyncio face of the engine: `async for batch in assistant.chat(request)`.

Used by the window (through qasync) and the command line (through asyncio.run) alike.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from engine.bridge import EventBridge
from engine.events import Event
from engine.generation import TurnControl
from engine.request import ChatRequest
from engine.service import DEFAULT_SESSION, LoadResult, ModelChoice

if TYPE_CHECKING:
    from engine.host.backend import EngineBackend
    from engine.host.host import Hold


class WorkTracker(Protocol):
    """Who is told that a turn runs (engine.host.ModelHost: a model change waits for it)."""

    def hold(self, what: str, *, cancel=None) -> Hold: ...


class ChatTurn:
    """A running turn: iterate for event batches; cancel() or answer_now() at any time."""

    def __init__(self, service: EngineBackend, request: ChatRequest, session: str = DEFAULT_SESSION,
                 tracker: WorkTracker | None = None) -> None:
        self._control = TurnControl()
        loop = asyncio.get_running_loop()
        self._bridge = EventBridge(loop)
        held = tracker.hold(session, cancel=self.cancel) if tracker is not None else None
        try:
            self._future = service.generate(request, self._control, self._bridge.put, session=session)
        except BaseException:
            if held is not None:
                held.release()
            raise
        if held is not None:
            self._future.add_done_callback(lambda _f: _release_on(loop, held))

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


def _release_on(loop: asyncio.AbstractEventLoop, held: Hold) -> None:
    """The turn ended (on the inference thread): tell the host on its own loop."""
    try:
        loop.call_soon_threadsafe(held.release)
    except RuntimeError:
        pass  # the loop is closed: so is the host


class Assistant:
    """Runs chat turns on the backend (the local InferenceService's thread, or a remote engine).

    Entry points get theirs from engine.host.ModelHost, which also loads the model; each turn
    then holds the host while it runs.
    """

    def __init__(self, service: EngineBackend, *, host: WorkTracker | None = None) -> None:
        self.service = service
        self._host = host

    async def load(self, choice: ModelChoice) -> LoadResult:
        """Load a model directly on the backend (tests; entry points use ModelHost, which also
        verifies the files and applies the catalog setup). Raises a PonderError subclass."""
        return await asyncio.wrap_future(self.service.load(choice))

    def chat(self, request: ChatRequest, *, session: str = DEFAULT_SESSION) -> ChatTurn:
        """Start a turn of `session` (its own cached conversation). Must be called from the
        running event loop."""
        return ChatTurn(self.service, request, session, self._host)

    async def new_conversation(self) -> None:
        await asyncio.wrap_future(self.service.forget(DEFAULT_SESSION))
