"""The inference thread: one worker that owns every onnxruntime-genai object.

Jobs (load, generate) are queued on a single-thread executor, as Anki serialises access to its
collection; nothing outside the jobs below touches og objects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from engine.errors import EngineFailureError, PonderError
from engine.events import Event, Failed, Finished
from engine.generation import FRAME_S, TurnControl, run_turn
from engine.hardware import HardwareFacts, detect_hardware
from engine.kv_cache import KvCache
from engine.model_folder import ModelFolder
from engine.paths import Paths
from engine.prompt import ChatFormat
from engine.providers import Candidate, InstallInfo, Rejection, choose_provider, detect_install
from engine.request import ChatRequest
from engine.runtime import LoadedModel, import_og, load_model, register_plugins
from engine.models import resolve_model
from engine.og_native import NativeOg

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
        self._cache = KvCache()
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
        to emit (from the inference thread). Never raises: a failure is emitted as a Failed event
        and the future's result is None."""
        return self._executor.submit(self._generate, request, control, emit)

    def reset_conversation(self) -> Future[None]:
        """Forget the cached conversation (a new chat)."""
        return self._executor.submit(self._cache.close)

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
        for rejection in decision.rejected:
            if rejection.probed:
                log.info("provider %s rejected: %s", rejection.candidate.key, rejection.reason)
        return LoadResult(folder, decision.chosen, tuple(decision.rejected), decision.forced, decision.summary())

    def _generate(
        self, request: ChatRequest, control: TurnControl, emit: Callable[[Event], None]
    ) -> Finished | None:
        try:
            if self._loaded is None:
                raise EngineFailureError("no model is loaded")
            return run_turn(import_og(), self._loaded, self._cache, request, self._format, control, emit,
                            frame_s=self._frame_s)
        except PonderError as exc:
            self._cache.close()  # the request may be mid-turn; start clean next time
            emit(Failed(exc))
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            log.exception("generation failed")
            self._cache.close()
            emit(Failed(EngineFailureError(f"{type(exc).__name__}: {exc}")))
        return None

    def _unload(self) -> None:
        self._cache.close()
        loaded, self._loaded = self._loaded, None
        if loaded is not None:
            loaded.close(self._native)  # frees the weights without holding the GIL
