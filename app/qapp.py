"""The process's one QApplication, typed as such for the entry points that configure it."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication


def widgets_application() -> QApplication:
    """The running QApplication (a test's, or an embedder's), else a new one.

    QApplication.instance() is typed as the QCoreApplication base; a windowed Ponder needs the
    widgets one, and a core-only application here would be a programming error.
    """
    existing = QApplication.instance()
    if existing is None:
        return QApplication([sys.argv[0]])
    if not isinstance(existing, QApplication):
        raise TypeError(f"Ponder's windows need a QApplication, not a {type(existing).__name__}")
    return existing
