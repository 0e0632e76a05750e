"""The registry of the app's background operations: start them, cancel them, stop them all.

Work runs on its own daemon thread (or, with `lane=`, on that lane's one thread, in order).
Nothing crosses back to the GUI thread except through one queue that a GUI-thread QTimer drains
while operations are live (onnxruntime-genai.md §8: no Qt object is touched from a worker, and
no loop.call_soon_threadsafe). Progress collapses to the latest report per tick.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QTimer

from app.errors import user_text
from app.ops.state import TaskState
from engine.errors import CancelledError, PonderError

log = logging.getLogger(__name__)

T = TypeVar("T")
_DONE, _FAILED = "done", "failed"
_NOTHING = object()
#: How long shutdown() waits, in all, for cancelled work to return.
SHUTDOWN_WAIT_S = 3.0


@dataclass(frozen=True)
class Failure:
    """An operation's error and the words for the user (from app/errors.py, the one place)."""

    error: BaseException
    text: str


@dataclass
class _Callbacks:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[Failure], None] | None
    on_progress: Callable[[Any], None] | None
    on_cancelled: Callable[[], None] | None


class Op(Generic[T]):
    """The handle of one operation (GUI thread only).

    Attributes:
        name: what it is, for logs and for shutdown's report.
        state: the TaskState its work function received.
    """

    def __init__(self, name: str, on_cancel: Callable[[], None] | None) -> None:
        self.name = name
        self._latest: Any = _NOTHING  # written by the worker, taken by the GUI thread
        self.state = TaskState(self._set_progress)
        self._on_cancel = on_cancel
        self._returned = threading.Event()  # the work function has returned (or will never run)
        self.done = False  # its outcome was delivered (or dropped at shutdown)

    @property
    def running(self) -> bool:
        return not self.done

    def cancel(self) -> None:
        """Ask the work to stop (cooperative: its TaskState says so, and the on_cancel hook runs,
        e.g. an engine object's own cancel()). Only on_cancelled is called afterwards."""
        if self.done or self.state.cancelled:
            return
        self.state.event.set()
        if self._on_cancel is not None:
            try:
                self._on_cancel()
            except Exception:  # noqa: BLE001 - a failing hook must not stop the others
                log.exception("cancelling %s failed", self.name)

    def wait(self, timeout_s: float) -> bool:
        """Block until the work function has returned; False on timeout (tests, shutdown)."""
        return self._returned.wait(timeout_s)

    def _set_progress(self, report: Any) -> None:
        self._latest = report

    def _take_progress(self) -> Any:
        report, self._latest = self._latest, _NOTHING
        return report


class Ops(QObject):
    """Runs the app's background work; one instance, built in build_app() and passed down.

    report(text) shows the text of a failure whose operation has no on_error (the window's
    notice banner); without it the failure is only logged.
    """

    def __init__(self, *, report: Callable[[str], None] | None = None, tick_ms: int = 16,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self._queue: queue.Queue[tuple[Op[Any], str, Any]] = queue.Queue()
        self._live: dict[Op[Any], _Callbacks] = {}
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._drain)

    @property
    def running(self) -> list[Op[Any]]:
        """The operations whose outcome has not been delivered yet."""
        return list(self._live)

    def run(self, work: Callable[[TaskState], T], *, name: str,
            on_done: Callable[[T], None] | None = None,
            on_error: Callable[[Failure], None] | None = None,
            on_progress: Callable[[Any], None] | None = None,
            on_cancelled: Callable[[], None] | None = None,
            on_cancel: Callable[[], None] | None = None,
            lane: str | None = None) -> Op[T]:
        """Start `work(state)` off the GUI thread; the callbacks run on the GUI thread, once.

        Exactly one of on_done(result), on_error(failure) or on_cancelled() follows; an
        engine CancelledError from the work, or any end after cancel(), is on_cancelled (a Stop
        never shows an error). on_cancel runs (GUI thread) when cancel() is called, to reach
        engine objects that have their own stop method. Operations on the same `lane` run one at
        a time, in order.
        """
        op: Op[T] = Op(name, on_cancel)
        if self._closed:  # quitting: nothing new starts
            op.state.event.set()
            op._returned.set()
            op.done = True
            return op
        self._live[op] = _Callbacks(on_done, on_error, on_progress, on_cancelled)
        if lane is None:
            threading.Thread(target=self._execute, args=(op, work), name=f"ponder-op-{name}",
                             daemon=True).start()
        else:
            executor = self._lanes.get(lane)
            if executor is None:
                executor = self._lanes[lane] = ThreadPoolExecutor(1, thread_name_prefix=f"ponder-{lane}")
            future = executor.submit(self._execute, op, work)
            # A queued op dropped at shutdown never runs: it has "returned" for shutdown's wait.
            future.add_done_callback(lambda f: op._returned.set() if f.cancelled() else None)
        if not self._timer.isActive():
            self._timer.start()
        return op

    async def call(self, fn: Callable[..., T], /, *args: Any, name: str, lane: str | None = None,
                   on_cancel: Callable[[], None] | None = None) -> T:
        """`await ops.call(fn, *args, name=...)`: fn(*args) off the GUI thread, for coroutines.

        Its exception is raised here as it is (the caller's except clauses decide the words);
        cancelling the awaiting task cancels the operation.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        def settle(how: Callable[[], None]) -> None:
            if not future.done():
                how()

        op = self.run(lambda _state: fn(*args), name=name, lane=lane, on_cancel=on_cancel,
                      on_done=lambda result: settle(lambda: future.set_result(result)),
                      on_error=lambda failure: settle(lambda: future.set_exception(failure.error)),
                      on_cancelled=lambda: settle(lambda: future.set_exception(CancelledError())))
        if op.done:  # refused: the app is shutting down
            raise CancelledError()
        try:
            return await future
        except asyncio.CancelledError:
            op.cancel()
            raise

    def shutdown(self, *, timeout_s: float = SHUTDOWN_WAIT_S) -> list[str]:
        """Cancel everything, wait up to timeout_s in all for the work to return, and deliver
        nothing more. Returns the names of work still running (left to its daemon thread)."""
        self._closed = True
        live = list(self._live)
        for op in live:
            op.cancel()
        for executor in self._lanes.values():
            executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout_s
        stuck = [op.name for op in live if not op.wait(max(0.0, deadline - time.monotonic()))]
        for op in live:
            op.done = True
        self._live.clear()
        self._timer.stop()
        if stuck:
            log.info("still running at quit, not waited for: %s", ", ".join(stuck))
        return stuck

    # --- worker side ---

    def _execute(self, op: Op[Any], work: Callable[[TaskState], Any]) -> None:
        try:
            op.state.check()  # cancelled while it waited in its lane
            result = work(op.state)
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the GUI thread
            self._queue.put((op, _FAILED, exc))
        else:
            self._queue.put((op, _DONE, result))
        finally:
            op._returned.set()

    # --- GUI side ---

    def _drain(self) -> None:
        for op, callbacks in list(self._live.items()):
            self._progress(op, callbacks)
        while True:
            try:
                op, kind, value = self._queue.get_nowait()
            except queue.Empty:
                break
            if op not in self._live:
                continue  # dropped at shutdown
            callbacks = self._live.pop(op)
            self._progress(op, callbacks)
            op.done = True
            self._finish(op, callbacks, kind, value)
        if not self._live:
            self._timer.stop()

    def _progress(self, op: Op[Any], callbacks: _Callbacks) -> None:
        report = op._take_progress()
        if report is not _NOTHING and callbacks.on_progress is not None and not op.state.cancelled:
            _call(callbacks.on_progress, report)

    def _finish(self, op: Op[Any], callbacks: _Callbacks, kind: str, value: Any) -> None:
        if op.state.cancelled or (kind == _FAILED and isinstance(value, CancelledError)):
            if callbacks.on_cancelled is not None:
                _call(callbacks.on_cancelled)
            return
        if kind == _DONE:
            if callbacks.on_done is not None:
                _call(callbacks.on_done, value)
            return
        if not isinstance(value, PonderError):  # a bug or an unexpected library error: keep the trace
            log.error("%s failed", op.name, exc_info=value)
        failure = Failure(value, user_text(value))
        if callbacks.on_error is not None:
            _call(callbacks.on_error, failure)
        elif self.report is not None:
            _call(self.report, failure.text)


def _call(callback: Callable[..., None], *args: Any) -> None:
    """Run a GUI callback; its bug goes to the crash hook, and the other operations go on."""
    try:
        callback(*args)
    except Exception:  # noqa: BLE001
        sys.excepthook(*sys.exc_info())

