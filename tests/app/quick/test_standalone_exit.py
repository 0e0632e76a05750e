"""`ponder act` with no Ponder running: the process ends when its last quick window closes."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.quick.launch import QuickApp
from engine.quick_actions.request import QuickRequest


@pytest.fixture
def standalone(qtbot, qloop, ponder_home):
    app = QuickApp(QApplication.instance(), ponder_home, model="demo", provider=None, use_tray=False)
    yield app
    app.quit()


def _run(app: QuickApp, request: QuickRequest) -> asyncio.Task[int]:
    return asyncio.ensure_future(app.run(request))


def test_escape_on_the_popup_ends_the_process(standalone, qtbot):
    QGuiApplication.clipboard().setText("Meeting moved to Tuesday.")
    with qtbot.waitSignal(standalone.controller.popup_shown, timeout=10_000) as shown:
        task = _run(standalone, QuickRequest(source="clipboard"))
    popup = shown.args[0]
    popup.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is popup, timeout=5_000)
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() == 0


def test_closing_the_result_window_ends_the_process(standalone, qtbot):
    QGuiApplication.clipboard().setText("What is 2 plus 3?")
    with qtbot.waitSignal(standalone.controller.popup_shown, timeout=10_000) as shown:
        task = _run(standalone, QuickRequest(source="clipboard"))
    with qtbot.waitSignal(standalone.controller.result_shown, timeout=10_000) as result:
        qtbot.mouseClick(shown.args[0].buttons["solve"], Qt.MouseButton.LeftButton)
    window = result.args[0]
    qtbot.waitUntil(lambda: not window.reply.live, timeout=60_000)
    assert not task.done()  # the result window keeps the process while it is open
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() == 0


def test_the_standalone_popup_is_styled_and_its_placeholder_fits(qtbot, qloop, ponder_home):
    qapp = QApplication.instance()
    qapp.setStyleSheet("")
    app = QuickApp(qapp, ponder_home, model="demo", provider=None, use_tray=False)
    try:
        assert "#thinkingPane" in qapp.styleSheet()  # the chat window's theme
        popup = app.controller.show_popup("Meeting moved to Tuesday.", "clipboard")
        qtbot.waitExposed(popup)
        field = popup.question
        assert field.width() >= field.fontMetrics().horizontalAdvance(field.placeholderText())
        popup.close()
    finally:
        app.quit()
