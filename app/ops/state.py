"""What a background operation sees of itself on its worker thread (no Qt here).

Orange3's TaskState: the work function gets one argument, a TaskState, and uses it to report
progress and to notice that it should stop. Tests drive a work function with a TaskState alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.errors import CancelledError


class TaskState:
    """Progress out of, and cancel into, one running operation; safe to use from any thread.

    Attributes:
        event: set once the operation is cancelled (hand it to engine functions that take a
            `cancel` threading.Event).
    """

    def __init__(self, on_progress: Callable[[Any], None] | None = None) -> None:
        self.event = threading.Event()
        self._on_progress = on_progress

    @property
    def cancelled(self) -> bool:
        """True once someone asked the operation to stop; check it between steps."""
        return self.event.is_set()

    def progress(self, report: Any) -> None:
        """Report progress; the GUI thread sees the latest report of each tick (bursts collapse)."""
        if self._on_progress is not None:
            self._on_progress(report)

    def check(self) -> None:
        """Raise engine.errors.CancelledError if cancelled (a Stop is silent, never an error)."""
        if self.event.is_set():
            raise CancelledError()
