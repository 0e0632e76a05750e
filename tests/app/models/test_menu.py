"""File → Models… in the real window opens the manager; choosing a model saves and loads it."""

from __future__ import annotations

import shutil

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
    dialog = app.window._model_manager
    assert dialog.objectName() == "modelManager" and dialog.isVisible()
    dialog.select("installed", "mine")
    dialog.use_button.click()
    assert app.settings.get("model") == "mine"
    qtbot.waitUntil(lambda: app.controller.model is not None or app.window.model_banner.isVisible(),
                    timeout=60_000)
    assert app.controller.model is not None
    app.shutdown()
