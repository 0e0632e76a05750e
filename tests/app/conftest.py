"""Fixtures for the window's tests: a qasync loop of our own, and the real app on the demo model.

pytest-qt has no asyncio integration, so `qloop` installs a qasync QEventLoop marked as already
running: every qtbot.waitUntil/waitSignal spins Qt, and with it the asyncio tasks.
"""

from __future__ import annotations

import asyncio

import pytest



@pytest.fixture
def qloop(qapp):
    """A running qasync loop for the test; loop errors fail the test."""
    import qasync
    from PySide6.QtCore import QTimer

    # If an earlier test called QApplication.exit() (qasync's loop.stop() does), Qt ends every
    # nested event loop at once, pytest-qt's waits among them, until exec() has run again.
    QTimer.singleShot(0, qapp.quit)
    qapp.exec()
    loop = qasync.QEventLoop(qapp, already_running=True)
    errors: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        from pytestqt.qtbot import QtBot

        QtBot(qapp).waitUntil(lambda: all(t.done() for t in pending), timeout=10_000)
    try:
        qapp.aboutToQuit.disconnect(loop._after_run_forever)
    except (RuntimeError, TypeError):
        pass
    loop._after_run_forever()
    # Not loop.stop(): it calls QApplication.exit(), after which Qt's nested event loops (the ones
    # qtbot waits in) return at once for the rest of the session.
    loop._QEventLoop__is_running = False
    asyncio.events._set_running_loop(None)
    loop.close()
    asyncio.set_event_loop(None)
    assert not errors, errors


@pytest.fixture
def ponder(qtbot, qloop, ponder_home):
    """The real window on the real demo model, shown and loaded."""
    from PySide6.QtWidgets import QApplication

    from app.main import build_app

    app = build_app(QApplication.instance(), ponder_home, model="demo")
    # The demo model is reliable only near-greedy (its README); the window samples by default.
    app.settings.set("temperature", 0.05)
    app.show()
    app.start_loading()
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=60_000)
    yield app
    # Stop the turn before the window goes (qtbot.addWidget would close it first).
    app.controller.stop()
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=30_000)
    app.window.close()
    app.shutdown()
    app.window.deleteLater()
