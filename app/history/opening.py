"""Opening the history store off the GUI thread, through the app's ops layer (app/ops).

A locked keyring's unlock prompt can keep `vault.open()` waiting for minutes; the window must
work meanwhile. Each try is its own operation (ops gives un-laned work its own thread, so a Retry
starts while an older try is still blocked). Only the newest try is current, but an older one
that opened the store is still handed over (the user unlocked the keyring after a Retry).

A store that nobody will take is closed, never leaked: the window closed, or the app quit while
a try was blocked (ops delivers nothing after shutdown). `_Handover` decides, under a lock,
whether the worker's store goes to the GUI thread or is closed.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.ops import Failure, Op, Ops, TaskState
from engine.history.errors import HistorySetupNeededError
from engine.history.vault import HistoryVault

#: How long opening may take before the sidebar says it waits for the keyring's unlock prompt.
KEYRING_WAIT_MS = 700


class _Handover:
    """One try's store: taken by the GUI thread or closed, exactly one of the two.

    Attributes:
        keyring_exists: set by the worker before a HistorySetupNeededError goes out: a secure
            keyring is there, so its refusal means "locked", not "missing".
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: Any = None
        self._abandoned = False
        self.keyring_exists = False

    def put(self, store: Any) -> None:
        """Worker thread: the try opened `store`; closed at once if nobody will take it."""
        with self._lock:
            if not self._abandoned:
                self._store = store
                return
        store.close()

    def take(self) -> Any:
        """GUI thread: the opened store, now the caller's to close."""
        with self._lock:
            store, self._store = self._store, None
        return store

    def abandon(self) -> None:
        """GUI thread: nobody will take the store; close it now or when the worker has it."""
        with self._lock:
            self._abandoned = True
            store, self._store = self._store, None
        if store is not None:
            store.close()


def open_store(vault: HistoryVault, handover: _Handover, state: TaskState) -> None:
    """The work of one try (worker thread): open the store and hand it over."""
    try:
        store = vault.open()
    except HistorySetupNeededError:
        handover.keyring_exists = vault.keyring.secure() is not None
        raise
    handover.put(store)


def _abandon_all(tries: set[Op[None]], *_args: object) -> None:
    for op in list(tries):
        op.cancel()  # its on_cancel hook abandons the handover


class BackgroundOpener(QObject):
    """Tries to open the store in the background, one operation on `ops` per try.

    Signals:
        opened(object, bool): the store (now the receiver's to close), and whether this is the
            newest try.
        failed(object, bool, bool): the Failure (its text from app/errors.py), whether a secure
            keyring exists (a refusal then means "locked", not "missing"), and whether this is
            the newest try.
        waiting(): the newest try has taken KEYRING_WAIT_MS: it waits for an unlock prompt.
    """

    opened = Signal(object, bool)
    failed = Signal(object, bool, bool)
    waiting = Signal()

    def __init__(self, vault: HistoryVault, ops: Ops, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.ops = ops
        self._attempt = 0
        self._pending = False
        self._tries: set[Op[None]] = set()
        # Deleted with its window before close(): no callback may reach this object any more.
        self.destroyed.connect(functools.partial(_abandon_all, self._tries))

    @property
    def busy(self) -> bool:
        """The newest try has not answered yet."""
        return self._pending

    def start(self) -> None:
        """A new try; earlier ones still running stop being current."""
        self._attempt += 1
        self._pending = True
        attempt, vault, handover = self._attempt, self.vault, _Handover()
        op: Op[None] = self.ops.run(
            functools.partial(open_store, vault, handover), name="open the history",
            on_done=lambda _none: self._finished(op, attempt, handover, None),
            on_error=lambda failure: self._finished(op, attempt, handover, failure),
            on_cancelled=lambda: self._tries.discard(op),
            on_cancel=handover.abandon)
        if not op.done:  # refused when the app is quitting
            self._tries.add(op)
        # Tied to this object (dropped if it is deleted); silent once the try ended or was cancelled.
        QTimer.singleShot(KEYRING_WAIT_MS, self, lambda: self._still_waiting(attempt, op))

    def cancel(self) -> None:
        """No try is current any more (the store was opened another way)."""
        self._attempt += 1
        self._pending = False

    def close(self) -> None:
        """The window closes: no try is current, and a store a try still opens is closed."""
        self.cancel()
        _abandon_all(self._tries)

    def _still_waiting(self, attempt: int, op: Op[None]) -> None:
        if attempt == self._attempt and not op.done:
            self.waiting.emit()

    def _finished(self, op: Op[None], attempt: int, handover: _Handover, failure: Failure | None) -> None:
        self._tries.discard(op)
        current = attempt == self._attempt
        if current:
            self._pending = False
        if failure is None:
            self.opened.emit(handover.take(), current)
        else:
            self.failed.emit(failure, handover.keyring_exists, current)
