"""ModelHost: the one owner of "which model is loaded, and who runs on it".

Every entry point (the window, `ponder ask/act/summarize/doctor`, `--self-test`, the quick-action
process) gets its model here: resolve → verify the files → apply the catalog setup → load on the
backend, with each step published as a typed state. A generation counter makes the newest
request win; a change asked for while work runs (an answer, a summary) waits for it to end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.assistant import Assistant
from engine.errors import EngineFailureError, PonderError
from engine.host.backend import EngineBackend
from engine.host.states import (
    Checking,
    Closed,
    HostState,
    Idle,
    LoadFailed,
    Loading,
    LoadSupersededError,
    ModelWanted,
    Ready,
    StateListener,
    Switching,
)
from engine.service import ModelChoice

if TYPE_CHECKING:
    from engine.catalog.setup import ModelSetup
    from engine.paths import Paths

log = logging.getLogger(__name__)

#: Finds the catalog setup for a model and verifies its files (engine.catalog.setup.setup_for_spec).
SetupFinder = Callable[[str, "Paths | None"], "ModelSetup"]


class Hold:
    """Work running on the loaded model; a model change waits until every hold is released."""

    def __init__(self, host: ModelHost, what: str, cancel: Callable[[], None] | None) -> None:
        self.what, self._host, self._cancel = what, host, cancel

    def release(self) -> None:
        """The work ended (call on the host's loop; a second call does nothing)."""
        self._host._release(self)

    def cancel(self) -> None:
        """Ask the work to stop (shutdown)."""
        if self._cancel is not None:
            self._cancel()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ModelHost:
    """Loads models for every entry point and tracks the work that runs on them.

    Used from one asyncio loop. `assistant` runs chat turns on the backend; each turn holds the
    host while it runs, so a model switch never lands in the middle of one.
    """

    def __init__(self, backend: EngineBackend, *, paths: Paths | None = None,
                 setup: SetupFinder | None = None, full_check: Callable[[str], bool] | None = None) -> None:
        self.backend = backend
        self.paths = paths
        self.assistant = Assistant(backend, host=self)
        self._setup = setup or _setup_for_spec
        self._full_check = full_check or (lambda spec: _full_check_pending(spec, paths))
        self._listeners: list[StateListener] = []
        self._state: HostState = Idle()
        self._generation = 0
        self._ready: Ready | None = None
        self._outcome: asyncio.Future[Ready] | None = None
        self._pending: tuple[int, ModelWanted] | None = None
        self._holds: list[Hold] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._load_lock: asyncio.Lock | None = None
        self._closed = False

    # --- state ---

    @property
    def state(self) -> HostState:
        """The newest published state."""
        return self._state

    @property
    def ready(self) -> Ready | None:
        """The model that is loaded now, if any (a pending switch does not change it)."""
        return self._ready

    def subscribe(self, listener: StateListener) -> Callable[[], None]:
        """Call `listener` with every state from now on; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- loading ---

    def switch(self, spec: str, provider: str | None = "auto", *, threads: int | None = None) -> asyncio.Future[Ready]:
        """Ask for a model. Replaces any earlier request; waits while work holds the host.

        The future gives the Ready state, or raises the typed load error, or LoadSupersededError
        when a newer request came first (wait_ready() follows to the newest).
        """
        if self._closed:
            raise EngineFailureError("the engine is shutting down")
        loop = asyncio.get_running_loop()
        self._generation += 1
        generation, wanted = self._generation, ModelWanted(spec, provider or "auto", threads)
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_exception(LoadSupersededError(spec))
        self._outcome = outcome = loop.create_future()
        outcome.add_done_callback(_retrieve)
        if self._holds:
            self._pending = (generation, wanted)
            self._publish(Switching(generation, wanted, tuple(h.what for h in self._holds)))
        else:
            self._pending = None
            self._start(generation, wanted)
        return outcome

    async def load(self, spec: str, provider: str | None = "auto", *, threads: int | None = None) -> Ready:
        """switch(), then wait for the model that ends up loaded; raises its typed error."""
        self.switch(spec, provider, threads=threads)
        return await self.wait_ready()

    async def wait_ready(self) -> Ready:
        """The newest requested model once loaded (a superseded request follows the newer one)."""
        while True:
            outcome = self._outcome
            if outcome is None:
                raise EngineFailureError("no model was asked for")
            try:
                return await asyncio.shield(outcome)
            except LoadSupersededError:
                if self._outcome is outcome:
                    raise
                continue

    def _start(self, generation: int, wanted: ModelWanted) -> None:
        outcome = self._outcome
        task = asyncio.get_running_loop().create_task(self._run(generation, wanted, outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, generation: int, wanted: ModelWanted, outcome: asyncio.Future[Ready] | None) -> None:
        try:
            ready = await self._load(generation, wanted)
        except LoadSupersededError as exc:
            _settle(outcome, exc)
        except PonderError as exc:
            self._failed(generation, wanted, exc, outcome)
        except asyncio.CancelledError:
            if outcome is not None and not outcome.done():
                outcome.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - a load must never fail silently
            log.exception("loading %s failed", wanted.spec)
            self._failed(generation, wanted, EngineFailureError(f"{type(exc).__name__}: {exc}"), outcome)
        else:
            if outcome is not None and not outcome.done():
                outcome.set_result(ready)

    async def _load(self, generation: int, wanted: ModelWanted) -> Ready:
        self._publish(Checking(generation, wanted, full=self._full_check(wanted.spec)))
        # Off the loop: it hashes changed files (all of them after an unclean stop), gigabytes.
        setup = await asyncio.to_thread(self._setup, wanted.spec, self.paths)
        self._current(generation, wanted)
        if self._load_lock is None:
            self._load_lock = asyncio.Lock()
        async with self._load_lock:  # one backend load at a time, in the order they were asked for
            self._current(generation, wanted)
            self._publish(Loading(generation, wanted))
            choice = ModelChoice(spec=wanted.spec, provider=wanted.provider, threads=wanted.threads,
                                 chat_format=setup.chat_format)
            result = await asyncio.wrap_future(self.backend.load(choice))
        self._current(generation, wanted)
        ready = Ready(generation, wanted, result, setup)
        self._ready = ready
        self._publish(ready)
        return ready

    def _current(self, generation: int, wanted: ModelWanted) -> None:
        if generation != self._generation or self._closed:
            raise LoadSupersededError(wanted.spec)

    def _failed(self, generation: int, wanted: ModelWanted, error: PonderError,
                outcome: asyncio.Future[Ready] | None) -> None:
        if generation == self._generation:
            self._ready = None  # the backend unloads the old model before it loads a new one
            self._publish(LoadFailed(generation, wanted, error))
        _settle(outcome, error)

    # --- running work ---

    def hold(self, what: str, *, cancel: Callable[[], None] | None = None) -> Hold:
        """Mark work that runs on the current model (`what` names it in Switching); a model
        change waits until it is released; shutdown calls `cancel`."""
        held = Hold(self, what, cancel)
        self._holds.append(held)
        return held

    @property
    def busy(self) -> tuple[str, ...]:
        """What holds the host now."""
        return tuple(h.what for h in self._holds)

    def _release(self, held: Hold) -> None:
        if held not in self._holds:
            return
        self._holds.remove(held)
        if self._holds or self._pending is None or self._closed:
            return
        generation, wanted = self._pending
        self._pending = None
        if generation == self._generation:
            self._start(generation, wanted)

    # --- shutdown ---

    def close(self) -> None:
        """Cancel every running job and pending load, then close the backend."""
        if self._closed:
            return
        self._closed = True
        for held in list(self._holds):
            try:
                held.cancel()
            except Exception:  # noqa: BLE001 - shutdown goes on whatever one job does
                log.exception("cancelling %s failed", held.what)
        for task in list(self._tasks):
            task.cancel()
        if self._outcome is not None and not self._outcome.done():
            self._outcome.cancel()
        self._publish(Closed(self._generation))
        self.backend.close()

    def _publish(self, state: HostState) -> None:
        if state.generation != self._generation:
            return  # an older request's news: the newer one decides
        self._state = state
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:  # noqa: BLE001 - one broken listener must not stop the others
                log.exception("host state listener failed")


def _settle(outcome: asyncio.Future[Ready] | None, error: BaseException) -> None:
    if outcome is not None and not outcome.done():
        outcome.set_exception(error)


def _retrieve(future: asyncio.Future) -> None:
    """Mark a failed outcome as seen: nobody has to await a load they replaced."""
    if not future.cancelled():
        future.exception()


def _setup_for_spec(spec: str, paths: Paths | None) -> ModelSetup:
    from engine.catalog.setup import ModelSetup, setup_for_spec
    from engine.host.kinds import connection_of

    if connection_of(spec) is not None:
        return ModelSetup()  # a served model: no files here and no catalog entry to match
    return setup_for_spec(spec, paths)


def _full_check_pending(spec: str, paths: Paths | None) -> bool:
    from engine.download.integrity import full_check_pending
    from engine.host.kinds import REMOTE_PREFIX
    from engine.models import DEMO

    if paths is None or spec == DEMO or "/" in spec or "\\" in spec or spec.startswith(REMOTE_PREFIX):
        return False
    return full_check_pending(paths.models / spec)
