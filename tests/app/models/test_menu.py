"""File → Models… in the real window opens the manager; choosing a model saves and loads it."""

from __future__ import annotations

import shutil
import threading

from PySide6.QtWidgets import QApplication

from app.main import build_app
from engine.download.importer import import_folder
from engine.download.store import ModelStore
from tests.engine.download.conftest import served_model


def test_the_menu_opens_the_manager_and_a_choice_reloads(qtbot, qloop, ponder_home, tmp_path):
    ponder_home.ensure()
    src = tmp_path / "mine"
    shutil.copytree(served_model(), src)
    import_folder(src, ModelStore(ponder_home), name="mine")
    app = build_app(QApplication.instance(), ponder_home)
    qtbot.addWidget(app.window)
    action = app.window.findChild(type(app.window.settings_action), "modelManagerAction")
    assert action is not None and action.shortcut().toString() == "Ctrl+M"
    action.trigger()
    dialog = app.models.dialog
    assert dialog.objectName() == "modelManager" and dialog.isVisible()
    # Shown at once; nvidia-smi, other tools' caches and the bandwidth are looked at off the GUI thread.
    assert "Looking at this computer" in dialog.rec_title.text()
    assert "look at this computer" in [op.name for op in app.ops.running]
    qtbot.waitUntil(lambda: dialog.machine is not None, timeout=60_000)
    assert dialog.rec_title.text().startswith("Recommended for this computer") or "demo" in dialog.rec_title.text()
    dialog.select("installed", "mine")
    dialog.use_button.click()
    assert app.settings.get("model") == "mine"
    qtbot.waitUntil(lambda: app.controller.model is not None or app.window.model_banner.isVisible(),
                    timeout=60_000)
    assert app.controller.model is not None
    app.shutdown()


def test_reopening_during_a_background_job_shows_its_progress(qtbot, qloop, ponder_home, tmp_path):
    from app.models.dialog import CloseChoice

    ponder_home.ensure()
    app = build_app(QApplication.instance(), ponder_home)
    qtbot.addWidget(app.window)
    first = app.models.open()
    qtbot.waitUntil(lambda: first.machine is not None, timeout=60_000)
    gate = threading.Event()
    first._start(lambda state: (gate.wait(30), "x")[1], "Checking x", pausable=False, what="Checking x")
    first.ask_on_close = lambda kind, what: CloseChoice.KEEP
    first.close()
    assert not first.isVisible() and first.busy
    assert app.models.open() is first and first.isVisible() and first.progress_box.isVisible()
    gate.set()
    qtbot.waitUntil(lambda: not first.busy, timeout=30_000)
    app.shutdown()


def test_reopening_before_the_look_at_the_computer_ends_gets_a_fresh_dialog(qtbot, qloop, ponder_home):
    ponder_home.ensure()
    app = build_app(QApplication.instance(), ponder_home)
    qtbot.addWidget(app.window)
    first = app.models.open()
    first.close()  # before its probe came back
    second = app.models.open()
    assert second is not first
    qtbot.waitUntil(lambda: second.machine is not None, timeout=60_000)
    qtbot.waitUntil(lambda: app.ops.running == [], timeout=60_000)  # the first probe's result went nowhere
    app.shutdown()
