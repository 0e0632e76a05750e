"""Click to Do inside the chat window's process, on the real window and the real demo model:
the tray and its menu, Quit, a quick action on the window's own model, Continue in chat, the
single-instance hand-over, the hotkey, and the two settings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QCheckBox, QDialogButtonBox, QLineEdit, QPushButton

from app.chat.conversation import Phase
from app.main import build_app
from app.quick.hotkey import DEFAULT_HOTKEY, WAYLAND_HELP
from app.quick.instance import OPEN_CHAT
from app.settings_dialog import SettingsDialog
from engine.quick_actions.handoff import hand_over
from engine.quick_actions.request import QuickRequest
from engine.settings import SCHEMA, Settings, SettingsStore

TURN_MS = 60_000
NO_HOTKEY = "no global shortcut in tests"


def _build(ponder_home, **settings):
    """The real window graph (with these settings saved beforehand, if any); the tray is made available (the
    offscreen platform has none) and no key is grabbed on the tester's desktop."""
    if settings:
        saved = Settings()
        for key, value in settings.items():
            saved.set(key, value)
        SettingsStore(ponder_home.settings_file).save(saved)
    app = build_app(QApplication.instance(), ponder_home, model="demo")
    app.quick.tray_available = lambda: True
    app.quick.hotkey_support = lambda: NO_HOTKEY
    app.quick.selection_kept = lambda: True  # as on X11 (the offscreen platform keeps none)
    return app


@pytest.fixture
def running(qtbot, qloop, ponder_home, monkeypatch):
    """The window running as `ponder` runs it (app.run()), tray on, model loaded; with a count of
    model loads."""
    app = _build(ponder_home, tray=True, temperature=0.05)
    loads = []
    real_load = app.service.load
    monkeypatch.setattr(app.service, "load", lambda choice: loads.append(choice) or real_load(choice))
    app.loads = loads
    task = asyncio.ensure_future(app.run())
    app.run_task = task
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=TURN_MS)
    yield app
    for window in list(app.quick.controller.windows):
        window.stop()
        qtbot.waitUntil(lambda w=window: not w.reply.live, timeout=30_000)
    if not task.done():
        app.quit()
    qtbot.waitUntil(task.done, timeout=30_000)
    app.window.deleteLater()


def _menu_texts(app) -> list[str]:
    menu = app.quick.tray.menu
    menu.aboutToShow.emit()  # what opening it does: the menu is rebuilt
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def _tray_action(app, prefix: str):
    app.quick.tray.menu.aboutToShow.emit()
    return next(a for a in app.quick.tray.menu.actions() if a.text().startswith(prefix))


@pytest.mark.slow
def test_tray_menu_closing_hides_and_quit_quits(running, qtbot, ponder_home):
    app = running
    assert app.quick.tray is not None and app.quick.tray.isVisible()
    assert _menu_texts(app) == ["Quick action on selection", "Quick action on clipboard",
                                "Quick action on a screen region…", "Open chat", "Quit Ponder"]
    app.window.close()
    assert not app.window.isVisible()
    assert not app.run_task.done()  # still in the tray
    _tray_action(app, "Open chat").trigger()
    assert app.window.isVisible()
    _tray_action(app, "Quit Ponder").trigger()
    qtbot.waitUntil(app.run_task.done, timeout=30_000)
    assert app.run_task.result() == 0
    assert app.quick.tray is None and not app.window.isVisible()
    # The single-instance socket is gone with it: a later `ponder` starts afresh.
    assert not hand_over(ponder_home, QuickRequest(source="clipboard", action="__ping__"), timeout=1.0)


@pytest.mark.slow
def test_quick_action_from_the_tray_uses_the_window_model_and_continues_in_chat(running, qtbot):
    app = running
    QGuiApplication.clipboard().setText("What is 2 plus 3?")
    with qtbot.waitSignal(app.quick.controller.popup_shown, timeout=10_000) as shown:
        _tray_action(app, "Quick action on clipboard").trigger()
    popup = shown.args[0]
    assert popup.objectName() == "quickActions"
    with qtbot.waitSignal(app.quick.controller.result_shown, timeout=10_000) as shown:
        qtbot.mouseClick(popup.buttons["solve"], Qt.MouseButton.LeftButton)
    result = shown.args[0]
    assert result.objectName() == "quickResult"
    qtbot.waitUntil(lambda: not result.reply.live, timeout=TURN_MS)
    assert result.reply.phase is Phase.DONE, result.status.text()
    # The demo model only knows "What is A plus B?" in its own chat format, so what it writes for
    # an action's prompt is not checked, only that it streamed into the window and finished.
    assert (result.reply.thinking_tokens + result.reply.answer_tokens) > 0
    # The window's own Assistant and model: loaded once, by the window.
    assert app.quick.controller.assistant is app.assistant
    assert len(app.loads) == 1

    app.window.hide()
    before = len(app.controller.conversation.exchanges)
    qtbot.mouseClick(result.findChild(QPushButton, "quickContinue"), Qt.MouseButton.LeftButton)
    exchanges = app.controller.conversation.exchanges
    assert len(exchanges) == before + 1
    assert "What is 2 plus 3?" in exchanges[-1].question
    assert exchanges[-1].reply.answer == result.reply.answer and exchanges[-1].reply.phase is Phase.DONE
    assert app.window.isVisible()
    # The chat goes on from there, with the exchange as history.
    assert app.controller.send("And what is 1 plus 1?")
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=TURN_MS)
    assert exchanges[-1].reply.phase is Phase.DONE


@pytest.mark.slow
def test_a_second_ponder_hands_over_to_the_running_window(running, qtbot, ponder_home):
    app = running
    app.window.hide()
    env = dict(os.environ, PONDER_HOME=str(ponder_home.data.parent))
    # Popen, not run(): this process's event loop must keep running to answer the hand-over.
    second = subprocess.Popen([sys.executable, "-m", "app"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=60_000)
    err = second.stderr.read()
    second.stderr.close()
    assert second.returncode == 0, err.decode()
    assert app.window.isVisible()
    with qtbot.waitSignal(app.quick.controller.popup_shown, timeout=30_000) as shown:
        act = subprocess.Popen([sys.executable, "-m", "app", "act", "--source", "stdin"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        act.stdin.write(b"Meeting moved to Tuesday.")
        act.stdin.close()
    assert "Meeting moved to Tuesday." in shown.args[0].preview.text()
    shown.args[0].close()
    qtbot.waitUntil(lambda: act.poll() is not None, timeout=30_000)
    err = act.stderr.read()
    act.stderr.close()
    assert act.returncode == 0, err.decode()
    assert len(app.loads) == 1


def test_open_chat_hand_over_shows_the_window(qtbot, qloop, ponder_home):
    app = _build(ponder_home)
    qtbot.addWidget(app.window)
    app.quick.start()
    try:
        assert app.quick.tray is None  # the tray is off by default
        assert not app.window.isVisible()
        app.quick.server.request_received.emit(QuickRequest(source="clipboard", action=OPEN_CHAT))
        assert app.window.isVisible()
        app.window.close()  # without the tray, closing is quitting
        assert not app.window.isVisible()
    finally:
        app.shutdown()


def test_tray_and_hotkey_settings_round_trip_through_the_dialog(qtbot, qloop, ponder_home):
    assert {s.key: s.default for s in SCHEMA}["hotkey"] == DEFAULT_HOTKEY
    app = _build(ponder_home)
    qtbot.addWidget(app.window)
    app.quick.start()
    try:
        dialog = SettingsDialog(app.settings, app.window, hotkey_support="x11")
        qtbot.addWidget(dialog)
        hotkey = dialog.findChild(QLineEdit, "setting_hotkey")
        assert hotkey.text() == DEFAULT_HOTKEY and hotkey.isEnabled()
        dialog.findChild(QCheckBox, "setting_tray").setChecked(True)
        save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
        hotkey.setText("Ctrl+")
        save.click()
        assert dialog.result_settings is None and "Global hotkey" in dialog.error.text()
        hotkey.setText("Ctrl+Shift+K")
        save.click()
        assert dialog.result_settings is not None
        app.apply_settings(dialog.result_settings)
        assert app.quick.tray is not None and app.quick.tray.isVisible()  # on at once, no restart
    finally:
        app.shutdown()
    again = _build(ponder_home)
    qtbot.addWidget(again.window)
    assert again.settings.get("tray") is True and again.settings.get("hotkey") == "Ctrl+Shift+K"
    again.apply_settings(Settings())
    assert again.settings.get("tray") is False
    again.service.close()


def test_on_wayland_the_dialog_says_how_to_bind_ponder_act(qtbot):
    dialog = SettingsDialog(Settings(), hotkey_support=WAYLAND_HELP)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.findChild(QLineEdit, "setting_hotkey").isVisible()
    assert dialog.hints["hotkey"].isVisible()
    assert "ponder act" in dialog.hints["hotkey"].text()
    assert dialog.hints["hotkey"].text() == WAYLAND_HELP


def test_a_taken_hotkey_is_reported_in_the_notice_banner(qtbot, qloop, ponder_home, monkeypatch):
    from app.quick.hotkey import X11Hotkey
    from tests.engine.capture.xserver import xvfb

    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        other = X11Hotkey()
        other.register("Ctrl+Alt+Space", display=display)  # another app holds it
        app = _build(ponder_home, tray=True)
        qtbot.addWidget(app.window)
        app.quick.hotkey_support = lambda: "x11"
        try:
            app.quick.start()
            banner = app.window.notice_banner
            assert not banner.isHidden()
            assert "already used" in banner.label.text()
            assert app.quick.hotkey_text == ""
            app.remember("hotkey", "Ctrl+Alt+K")  # a free one works at once
            assert app.quick.hotkey_text == "Ctrl+Alt+K"
            assert "Ctrl+Alt+K" in _menu_texts(app)[0]
        finally:
            app.shutdown()
            other.unregister()


def test_the_hotkey_works_with_the_tray_off(qtbot, qloop, ponder_home, monkeypatch):
    """The hotkey is not tied to the tray: with the window open it is there either way."""
    from tests.engine.capture.xserver import xvfb

    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        app = _build(ponder_home, tray=False)
        qtbot.addWidget(app.window)
        app.quick.hotkey_support = lambda: "x11"
        try:
            app.quick.start()
            assert app.quick.tray is None
            assert app.quick.hotkey_text == "Ctrl+Alt+Space"
            app.remember("hotkey", "")  # emptied in the settings: given back at once
            assert app.quick.hotkey_text == ""
        finally:
            app.shutdown()


def test_where_no_selection_is_kept_the_tray_points_to_the_hotkey(qtbot, qloop, ponder_home):
    """Windows and macOS: a click in the tray takes the focus from the selected text, so the menu
    offers the hotkey for it instead of an entry that could only find nothing."""
    app = _build(ponder_home, tray=True)
    qtbot.addWidget(app.window)
    app.quick.selection_kept = lambda: False
    try:
        app.quick.start()
        app.quick.hotkey_text = "Ctrl+Alt+Space"
        texts = _menu_texts(app)
        assert texts[0] == "On selected text: press Ctrl+Alt+Space in any app"
        assert not app.quick.tray.menu.actions()[0].isEnabled()
        assert "Quick action on clipboard" in texts and not any("on selection" in t for t in texts)
    finally:
        app.shutdown()
