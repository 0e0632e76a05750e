"""Quit cleanly on SIGTERM and SIGHUP (logging out, `kill`, systemd stopping the session).

By default those signals end the process on the spot: a streaming answer's last words are not
saved and the next start believes Ponder crashed (engine/run_record.py). Python runs its signal
handlers only between bytecodes, while Qt's loop waits in C++, so signal.set_wakeup_fd wakes a
QSocketNotifier that quits at once (qutebrowser does the same).
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier

if TYPE_CHECKING:
    from signal import _HANDLER  # typeshed's name for a handler as signal.signal returns it

log = logging.getLogger(__name__)

QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class QuitOnSignals(QObject):
    """Calls on_quit on the GUI thread when a quit signal arrives. POSIX only; a no-op elsewhere."""

    def __init__(self, on_quit: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_quit = on_quit
        self._previous: dict[int, _HANDLER] = {}
        self._old_fd: int | None = None
        self._notifier: QSocketNotifier | None = None
        if not hasattr(socket, "AF_UNIX") or not QUIT_SIGNALS:
            return
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        try:
            self._old_fd = signal.set_wakeup_fd(self._write.fileno())
        except ValueError:  # not the main thread (only in tests): keep the defaults
            log.debug("signals are left alone outside the main thread")
            return
        for number in QUIT_SIGNALS:
            self._previous[number] = signal.signal(number, lambda *_: None)  # the notifier acts
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        try:
            data = self._read.recv(512)
        except OSError:
            return
        if any(byte in QUIT_SIGNALS for byte in data):
            log.info("quit signal received: closing")
            self._on_quit()

    def close(self) -> None:
        """Give the signals back their previous handlers."""
        if self._notifier is None:
            return
        self._notifier.setEnabled(False)
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._old_fd if self._old_fd is not None else -1)
        self._read.close()
        self._write.close()
        self._notifier = None
