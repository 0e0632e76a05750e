"""Opening the history store on a worker thread.

A locked keyring's unlock prompt can keep `vault.open()` waiting for minutes; the window must
work meanwhile. Each try runs on its own thread; only the newest try is current, but an older
one that opened the store is still handed over (the user unlocked the keyring after a Retry).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from engine.history.errors import HistorySetupNeededError
from engine.history.vault import HistoryVault

#: How long opening may take before the sidebar says it waits for the keyring's unlock prompt.
KEYRING_WAIT_MS = 700


class BackgroundOpener(QObject):
    """Signals:
        opened(object, bool, bool): the store or the exception, whether a secure keyring exists
            (a refusal then means "locked", not "missing"), and whether this is the newest try.
        waiting(): the newest try has taken KEYRING_WAIT_MS: it waits for an unlock prompt.
    """

    opened = Signal(object, bool, bool)
    waiting = Signal()
    _finished = Signal(int, object, bool)  # from the worker thread, queued to this one

    def __init__(self, vault: HistoryVault, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self._attempt = 0
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(KEYRING_WAIT_MS)
        self._timer.timeout.connect(self.waiting)
        self._finished.connect(self._on_finished)

    @property
    def busy(self) -> bool:
        """The newest try has not answered yet."""
        return self._pending

    def start(self) -> None:
        """A new try; earlier ones still running stop being current."""
        self._attempt += 1
        self._pending = True
        self._timer.start()
        threading.Thread(target=self._work, args=(self._attempt, self.vault), name="history-open",
                         daemon=True).start()

    def cancel(self) -> None:
        """No try is current any more (the store was opened another way, or the window closes)."""
        self._attempt += 1
        self._pending = False
        self._timer.stop()

    def _work(self, attempt: int, vault: HistoryVault) -> None:
        try:
            result: object = vault.open()
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, shown there
            result = exc
        secure = isinstance(result, HistorySetupNeededError) and vault.keyring.secure() is not None
        try:
            self._finished.emit(attempt, result, secure)
        except RuntimeError:  # the window was closed and deleted meanwhile
            if not isinstance(result, BaseException):
                result.close()  # type: ignore[attr-defined]

    def _on_finished(self, attempt: int, result: object, secure: bool) -> None:
        current = attempt == self._attempt
        if current:
            self._pending = False
            self._timer.stop()
        self.opened.emit(result, secure, current)
