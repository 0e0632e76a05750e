"""Run one blocking engine job (download, import, verify) off the GUI thread.

The job's progress callbacks land in a queue.Queue that a GUI-thread QTimer drains, so no Qt
object is touched from the worker thread (see onnxruntime-genai.md §8), and bursts of progress
collapse to the latest report per tick.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

_DONE, _FAILED, _PROGRESS = "done", "failed", "progress"


class BackgroundJob(QObject):
    """Signals:
        progress(object): the latest progress report.
        finished(object): the job's return value.
        failed(object): the exception it raised.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Callable[[Callable[[Any], None]], Any], parent: QObject | None = None,
                 tick_ms: int = 50) -> None:
        super().__init__(parent)
        self._work = work
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._drain)
        self._thread = threading.Thread(target=self._run, name="ponder-model-job", daemon=True)
        self.running = False

    def start(self) -> None:
        self.running = True
        self._timer.start()
        self._thread.start()

    def _run(self) -> None:
        try:
            result = self._work(lambda report: self._queue.put((_PROGRESS, report)))
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the window
            self._queue.put((_FAILED, exc))
        else:
            self._queue.put((_DONE, result))

    def _drain(self) -> None:
        latest = None
        while True:
            try:
                kind, value = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == _PROGRESS:
                latest = value
                continue
            if latest is not None:
                self.progress.emit(latest)
                latest = None
            self._timer.stop()
            self.running = False
            (self.finished if kind == _DONE else self.failed).emit(value)
            return
        if latest is not None:
            self.progress.emit(latest)
