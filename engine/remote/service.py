"""RemoteService: the InferenceService look-alike for a model on an OpenAI-compatible server.

Same public face as engine/service.py (load → Future, generate(request, control, emit, *,
session) → Future[Finished | None] that never raises, forget, close), so the engine host and
every consumer run on it unchanged.

Why an asyncio loop on one thread of its own rather than a thread per request: a blocked socket
read in a thread cannot be interrupted, so Stop would wait for the server's next token (or the
read timeout); cancelling an asyncio task interrupts the read at once and closes the connection,
which tells the server to stop. One loop also serves many concurrent sessions (the chat, a quick
action, API clients) that the server batches, at the cost of one thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.errors import EngineFailureError, PonderError
from engine.events import Event, Failed, Finished
from engine.generation import FRAME_S, TurnControl
from engine.remote.capabilities import Capabilities, capabilities_for, detect_kind
from engine.remote.client import RemoteClient
from engine.remote.context import served_context
from engine.remote.endpoint import Endpoint, check_endpoint
from engine.remote.turn import POLL_S, RemoteTurn
from engine.request import ChatRequest

log = logging.getLogger(__name__)

DEFAULT_SESSION = "default"  # the same name as engine.service.DEFAULT_SESSION (not imported: no og)
T = TypeVar("T")


@dataclass(frozen=True)
class RemoteChoice:
    """Which remote model to use: the endpoint, and the server kind if the user knows better than
    detection ('auto', or a ServerKind value such as 'vllm')."""

    endpoint: Endpoint
    server: str = "auto"
    #: The context length the user set for the connection (wins over the server's figure).
    context_length: int | None = None


@dataclass(frozen=True)
class RemoteLoadResult:
    """The model is served and reachable: where it runs and what the server can do."""

    endpoint: Endpoint
    capabilities: Capabilities
    served: tuple[str, ...]
    summary: str
    #: Tokens the server says the model's context holds (None: it does not say; see context.py).
    context_length: int | None = None

    @property
    def model_name(self) -> str:
        return self.endpoint.model

    @property
    def where(self) -> str:
        """'remote: name (host:port)', for the window's "where the model runs" label."""
        return f"remote: {self.endpoint.label}"


class RemoteService:
    """Owns one asyncio loop thread and the HTTP client. Thread-safe: public methods only submit."""

    def __init__(self, *, frame_s: float = FRAME_S, poll_s: float = POLL_S,
                 client_factory: Callable[[Endpoint], RemoteClient] = RemoteClient) -> None:
        self._frame_s, self._poll_s = frame_s, poll_s
        self._client_factory = client_factory
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ponder-remote", daemon=True)
        self._thread.start()
        # Touched only on the loop thread:
        self._client: RemoteClient | None = None
        self._caps: Capabilities | None = None
        self._closed = False

    def load(self, choice: RemoteChoice) -> Future[RemoteLoadResult]:
        """Check the address, list the server's models and check the named one is served."""
        return self._submit(self._load(choice))

    def generate(
        self, request: ChatRequest, control: TurnControl, emit: Callable[[Event], None],
        *, session: str = DEFAULT_SESSION,
    ) -> Future[Finished | None]:
        """Run one turn; events go to emit (from the loop thread). Never raises: a failure is
        emitted as Failed and the result is None. Sessions need no state here: each request
        carries the whole conversation and the server keeps its own prefix cache."""
        if self._closed:
            emit(Failed(EngineFailureError("the remote engine is closed")))
            done: Future[Finished | None] = Future()
            done.set_result(None)
            return done
        return self._submit(self._generate(request, control, emit))

    def forget(self, session: str) -> Future[None]:
        """Nothing is cached per session on this side."""
        return self._submit(_nothing())

    def reset_conversation(self) -> Future[None]:
        return self.forget(DEFAULT_SESSION)

    def close(self) -> None:
        """Cancel running turns, close the HTTP client and stop the thread."""
        if self._closed:
            return
        self._closed = True
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # --- loop thread ---

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        if self._closed:
            coro.close()
            future: Future[T] = Future()
            future.set_exception(EngineFailureError("the remote engine is closed"))
            return future
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _load(self, choice: RemoteChoice) -> RemoteLoadResult:
        endpoint = check_endpoint(choice.endpoint)
        client = self._client_factory(endpoint)
        try:
            reply = await client.check_model()
        except BaseException:
            await client.close()
            raise
        if self._client is not None:
            await self._client.close()
        kind = detect_kind(reply, endpoint.model, choice.server)
        self._client, self._caps = client, capabilities_for(kind)
        served = tuple(str(m.get("id")) for m in reply.get("data") or [] if isinstance(m, dict))
        summary = f"{endpoint.model} on {kind.value} at {endpoint.base_url}"
        return RemoteLoadResult(endpoint, self._caps, served, summary,
                                 choice.context_length or served_context(reply, endpoint.model))

    async def _generate(self, request: ChatRequest, control: TurnControl,
                        emit: Callable[[Event], None]) -> Finished | None:
        try:
            if self._client is None or self._caps is None:
                raise EngineFailureError("no remote model is connected")
            turn = RemoteTurn(self._client, self._caps, request, control, emit,
                              frame_s=self._frame_s, poll_s=self._poll_s)
            return await turn.run()
        except PonderError as exc:
            emit(Failed(exc))
        except asyncio.CancelledError:
            emit(Failed(EngineFailureError("the remote engine was closed during the turn")))
        except Exception as exc:  # noqa: BLE001 - a turn must never die silently
            log.exception("remote generation failed")
            emit(Failed(EngineFailureError(f"{type(exc).__name__}: {exc}")))
        return None

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
            self._client = None


async def _nothing() -> None:
    return None
