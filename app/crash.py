"""Unexpected exceptions in the window: log them and tell the user, never die silently.

qasync hands exceptions from slots and tasks to sys.excepthook, so the hook is installed before
the event loop starts.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

log = logging.getLogger("ponder.crash")


def install_excepthook() -> None:
    """Route uncaught exceptions to the log and a dialog (the window keeps running)."""
    sys.excepthook = _hook


def _hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, error, tb)))
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox

        from app.errors import user_text

        if QApplication.instance() is not None:
            QMessageBox.warning(None, "Ponder", f"Something went wrong: {user_text(error)}\n\n"
                                "Ponder keeps running; the details are in the log.")
    except Exception:  # noqa: BLE001 - a failing hook must not hide the original error
        sys.__excepthook__(kind, error, tb)
