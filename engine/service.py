"""The inference thread: one worker that owns every onnxruntime-genai object.

Jobs (load, generate) are queued on a single-thread executor, as Anki serialises access to its
collection; nothing outside the jobs below touches og objects.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from engine.errors import EngineFailureError, PonderError
from engine.events import Event, Failed, Finished
from engine.generation import FRAME_S, TurnControl, turn_steps
from engine.hardware import HardwareFacts, detect_hardware
from engine.kv_cache import warm_chunking
from engine.memory import (
    KvPolicy,
    MemoryFacts,
    element_bytes_for,
    kv_bytes_per_token,
    system_memory,
)
from engine.model_folder import ModelFolder
from engine.models import resolve_model
from engine.paths import Paths
from engine.prompt import ChatFormat
from engine.providers import (
    Candidate,
    InstallInfo,
    Rejection,
    choose_provider,
    detect_install,
)
from engine.request import ChatRequest
from engine.runtime import LoadedModel, import_og, load_model, register_plugins
from engine.og_native import NativeOg
from engine.sessions import Session, SessionPool
from engine.settle import settle_steps

log = logging.getLogger(__name__)

#: The session of callers that do not name one (the chat window, `ponder ask`).
DEFAULT_SESSION = "default"
#: The name of the inference thread (a quitting window looks for it: see app.main).
INFERENCE_THREAD = "ponder-inference"

Loader = Callable[[ModelFolder, Candidate], LoadedModel]


@dataclass(frozen=True)
class ModelChoice:
    """Which model to load and how."""

    spec: str = "demo"
    provider: str = "auto"
    threads: int | None = None
    chat_format: ChatFormat = field(default_factory=ChatFormat)


@dataclass(eq=False)
class _Job:
    """A turn (or, without a request, a forget) posted to a session."""

    session: str
    request: ChatRequest | None = None
    control: TurnControl | None = None
    emit: Callable[[Event], None] = lambda event: None
    future: Future = field(default_factory=Future)
    steps: Any = None


@dataclass(frozen=True)
class LoadResult:
    """What was loaded, on which provider, and why the better ones were not used."""

    folder: ModelFolder
    provider: Candidate
    rejected: tuple[Rejection, ...]
    forced: bool
    summary: str


class InferenceService:
    """Owns the inference thread. Thread-safe: every public method only queues a job."""

    def __init__(
        self,
        *,
        paths: Paths | None = None,
        hardware: HardwareFacts | None = None,
        install: InstallInfo | None = None,
        loader: Loader | None = None,
        frame_s: float = FRAME_S,
        memory: Callable[[], MemoryFacts] | None = None,
    ) -> None:
        self._paths = paths
        self._hardware = hardware
        self._install = install
        self._loader = loader
        self._frame_s = frame_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=INFERENCE_THREAD)
        # Touched only on the inference thread:
        self._loaded: LoadedModel | None = None
        self._format = ChatFormat()
        self._memory = memory or system_memory
        # The generate half: posted jobs, and (inference thread only) sessions and running turns.
        self._inbox: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._driving = False
        self._sessions = SessionPool()
        self._waiting: dict[str, list[_Job]] = {}
        self._active: list[_Job] = []
        # Idle-time work in progress, by session object (a forgotten session's work is dropped).
        self._settle: dict[int, tuple[Session, Generator[None, None, None]]] = {}
        self._kv_policy: tuple[LoadedModel, KvPolicy] | None = None
        self._settled_waiters: list[Future[None]] = []
        self._registered: set[str] = set()
        self._native: NativeOg | None = None  # the C API loader, found on the first load
        self._native_checked = False
        self._closing = False
        self._loading = threading.Event()  # set while a load runs (onnxruntime-genai cannot stop one)

    def load(self, choice: ModelChoice) -> Future[LoadResult]:
        """Validate the folder, choose and prove a provider, keep the model loaded."""
        return self._executor.submit(self._load, choice)

    def generate(
        self, request: ChatRequest, control: TurnControl, emit: Callable[[Event], None],
        *, session: str = DEFAULT_SESSION,
    ) -> Future[Finished | None]:
        """Run one turn of `session` (each session keeps its own cached conversation); events go
        to emit (from the inference thread). Turns of different sessions run interleaved, step by
        step; turns of one session run in order. Never raises: a failure is emitted as a Failed
        event and the future's result is None."""
        return self._queue(_Job(session, request, control, emit))

    def forget(self, session: str) -> Future[None]:
        """Forget a session's cached conversation (after its running turn, if any)."""
        return self._queue(_Job(session))

    def settled(self) -> Future[None]:
        """Resolves once no turn runs and every session holds what its next turn starts with
        (for benchmarks and tests; a follow-up never has to wait for this)."""
        future: Future[None] = Future()
        with self._lock:
            self._settled_waiters.append(future)
        self._post(None)
        return future

    def reset_conversation(self) -> Future[None]:
        """Forget the default session's cached conversation (a new chat)."""
        return self.forget(DEFAULT_SESSION)

    def unload(self) -> Future[None]:
        """Free the model (another kind of engine, a remote one, takes over); a later load loads again."""
        return self._executor.submit(self._unload)

    def close(self) -> None:
        """Free the model and stop the thread. A running turn is waited for (the host cancels
        turns first); a queued load is skipped. A load already under way cannot be stopped, so
        it is not waited for: the thread frees what it loaded and ends by itself (`loading`)."""
        self._closing = True
        self._executor.submit(self._unload)
        self._executor.shutdown(wait=not self._loading.is_set())

    @property
    def loading(self) -> bool:
        """A model load is under way on the inference thread."""
        return self._loading.is_set()

    # --- inference thread ---

    def _load(self, choice: ModelChoice) -> LoadResult:
        if self._closing:
            raise EngineFailureError("the engine is shutting down")
        folder = resolve_model(choice.spec, self._paths)
        og = import_og()
        register_plugins(og, self._registered)
        if not self._native_checked:
            self._native, self._native_checked = NativeOg.find(og), True
        self._unload()
        self._loading.set()
        try:
            return self._load_on(folder, choice)
        finally:
            self._loading.clear()

    def _load_on(self, folder: ModelFolder, choice: ModelChoice) -> LoadResult:
        loader = self._loader or (lambda f, c: load_model(f, c, threads=choice.threads, native=self._native))
        decision = choose_provider(
            lambda candidate: loader(folder, candidate),
            hardware=self._hardware or detect_hardware(),
            install=self._install or detect_install(),
            forced=choice.provider,
        )
        self._loaded, self._format = decision.loaded, choice.chat_format
        if self._closing:  # closed while loading: nobody will use it
            self._unload()
            raise EngineFailureError("the engine is shutting down")
        warm_chunking(import_og(), decision.loaded.engine)  # keeps a one-off cost out of the first question
        for rejection in decision.rejected:
            if rejection.probed:
                log.info("provider %s rejected: %s", rejection.candidate.key, rejection.reason)
        return LoadResult(folder, decision.chosen, tuple(decision.rejected), decision.forced, decision.summary())

    def _queue(self, job: _Job) -> Future[Any]:
        self._post(job)
        return job.future

    def _post(self, job: _Job | None) -> Future | None:
        if job is not None:
            self._inbox.put(job)
        with self._lock:
            if not self._driving:
                self._driving = True
                self._executor.submit(self._drive)
        return job.future if job is not None else None

    def _drive(self) -> None:
        """Run every admitted turn one step at a time, round robin, until none is left; then do
        one chunk of idle-time settling and queue itself again, so a load or close queued on the
        executor meanwhile runs first."""
        try:
            self._drive_once()
        except BaseException:
            with self._lock:  # never leave the service believing a drive is queued
                self._driving = False
            raise

    def _drive_once(self) -> None:
        while True:
            self._admit()
            if not self._active:
                break
            for job in list(self._active):
                self._step(job)
        settling = self._sessions.settling() if self._loaded is not None else []
        if settling:
            session = settling[0]
            running = self._settle.get(id(session))
            steps = running[1] if running and running[0] is session else settle_steps(
                import_og(), self._loaded, session, self._policy())  # type: ignore[arg-type]  # checked above
            try:
                next(steps)
                self._settle[id(session)] = (session, steps)
            except StopIteration:
                self._settle.pop(id(session), None)
            except Exception:  # idle work must never kill the worker
                log.exception("settling session %s failed", session.name)
                self._settle.pop(id(session), None)
                session.close()
        with self._lock:
            if not settling and not self._active:
                for waiter in self._settled_waiters:
                    waiter.set_result(None)
                self._settled_waiters.clear()
            if settling or not self._inbox.empty():
                try:
                    self._executor.submit(self._drive)
                    return
                except RuntimeError:  # shut down meanwhile
                    pass
            self._driving = False

    def _admit(self) -> None:
        """Move posted jobs into per-session queues and start each idle session's next job."""
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                break
            self._waiting.setdefault(job.session, []).append(job)
        busy = {job.session for job in self._active}
        for name, jobs in list(self._waiting.items()):
            # A forget is done at once, so the session's next job starts in the same pass (left
            # queued, a turn posted right after a forget waited for ever once the worker went idle).
            while jobs and name not in busy:
                job = jobs.pop(0)
                self._settle = {k: v for k, v in self._settle.items() if v[0].name != name}  # a half-settled cache is a shorter prefix
                if job.request is None:
                    self._sessions.forget(name)
                    job.future.set_result(None)
                    continue
                self._start(job, busy)
                busy.add(name)
            if not jobs:
                del self._waiting[name]

    def _start(self, job: _Job, busy: set[str]) -> None:
        try:
            if self._loaded is None:
                raise EngineFailureError("no model is loaded")
            og = import_og()
            session = self._sessions.get(og, self._loaded.model, job.session, busy)
            assert job.request is not None and job.control is not None  # a turn, not a forget
            job.steps = turn_steps(og, self._loaded, session, job.request, self._format, job.control,
                                   job.emit, frame_s=self._frame_s, policy=self._policy(),
                                   release=lambda: self._sessions.release_idle({j.session for j in self._active}))
            self._active.append(job)
        except Exception as exc:  # noqa: BLE001 - reported as a Failed event
            self._fail(job, exc)

    def _step(self, job: _Job) -> None:
        try:
            next(job.steps)
        except StopIteration as done:
            self._active.remove(job)
            job.future.set_result(done.value)
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            self._active.remove(job)
            self._fail(job, exc)

    def _fail(self, job: _Job, exc: Exception) -> None:
        if not isinstance(exc, PonderError):
            log.exception("generation failed", exc_info=exc)
            exc = EngineFailureError(f"{type(exc).__name__}: {exc}")
        self._sessions.forget(job.session)  # the request may be mid-turn; start clean next time
        job.emit(Failed(exc))
        job.future.set_result(None)

    def _policy(self) -> KvPolicy | None:
        loaded = self._loaded
        if loaded is None:
            return None
        if self._kv_policy is None or self._kv_policy[0] is not loaded:
            try:
                per_token = kv_bytes_per_token(loaded.folder.config, element_bytes_for(loaded.candidate.key))
            except (KeyError, TypeError, ValueError):
                return None  # a config without the decoder's shape: fall back to need-sized steps
            self._kv_policy = (loaded, KvPolicy(per_token, loaded.max_length, self._memory))
        return self._kv_policy[1]

    def _unload(self) -> None:
        self._sessions.close_all()
        self._settle.clear()
        self._kv_policy = None
        loaded, self._loaded = self._loaded, None
        if loaded is not None:
            loaded.close(self._native)  # frees the weights without holding the GIL
