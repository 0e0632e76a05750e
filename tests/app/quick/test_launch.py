"""The standalone quick-action process (`ponder act` with no Ponder running) loads through the host:
files verified, the catalog format applied, and a failed load tried again on the next request."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from PySide6.QtWidgets import QApplication

from app.quick.launch import QuickApp
from engine.download.errors import ModelDamagedError
from tests.engine.host.models import damage


@pytest.fixture
def quick(qloop, ponder_home):
    app = QuickApp(QApplication.instance(), ponder_home, model="r", provider=None, use_tray=False)
    yield app
    app.close()


def _ready(qtbot, quick):
    task = asyncio.ensure_future(quick.model_ready())
    qtbot.waitUntil(task.done, timeout=60_000)
    return task


def test_the_quick_process_loads_with_the_catalog_format(qtbot, quick, reasoning, catalog_format, loads):
    task = _ready(qtbot, quick)
    assert task.result() == reasoning.resolve()
    assert [c.chat_format for c in loads] == [catalog_format]
    assert quick.host.ready.setup.chat_format == catalog_format
    again = _ready(qtbot, quick)  # a second request reuses the loaded model
    assert again.result() == reasoning.resolve() and len(loads) == 1


def test_a_failed_load_is_tried_again_on_the_next_request(qtbot, quick, reasoning, loads, tmp_path):
    good = tmp_path / "good.data"
    shutil.copyfile(reasoning / "model.onnx.data", good)
    damage(reasoning)
    first = _ready(qtbot, quick)
    assert isinstance(first.exception(), ModelDamagedError) and loads == []  # refused before loading
    shutil.copyfile(good, reasoning / "model.onnx.data")  # the user repaired it
    second = _ready(qtbot, quick)
    assert second.result() == reasoning.resolve() and len(loads) == 1
