"""The window gets its model from the host: files verified, catalog format applied, a change made
during running work applied when it ends, and quitting stops a running summary."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from engine.host import Ready, Switching
from tests.engine.host.models import damage


def _window(ponder_home, model: str):
    from app.main import build_app

    app = build_app(QApplication.instance(), ponder_home, model=model)
    app.settings.set("temperature", 0.05)
    app.show()
    return app


def _close(app) -> None:
    app.window.close()
    app.shutdown()
    app.window.deleteLater()


def test_the_window_loads_with_the_catalog_format(qtbot, qloop, ponder_home, reasoning, catalog_format, loads):
    app = _window(ponder_home, "r")
    app.start_loading()
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=60_000)
    assert [c.chat_format for c in loads] == [catalog_format]
    assert app.host.ready.setup.chat_format == catalog_format
    assert app.controller.model.folder.name == "r"
    _close(app)


def test_the_window_refuses_a_damaged_model_and_says_so(qtbot, qloop, ponder_home, reasoning, loads):
    damage(reasoning)
    app = _window(ponder_home, "r")
    app.start_loading()
    banner = app.window.model_banner
    qtbot.waitUntil(lambda: banner.isVisible() and "damaged" in banner.label.text(), timeout=60_000)
    assert "model.onnx.data" in banner.label.text() and loads == []
    _close(app)


def test_a_model_change_during_running_work_is_applied_when_it_ends(qtbot, qloop, ponder_home, reasoning, loads):
    app = _window(ponder_home, "demo")
    app.start_loading()
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=60_000)
    work = app.host.hold("summary")  # what a running summary holds
    changed = app.settings.copy()
    changed.set("model", "r")
    app.apply_settings(changed)
    qtbot.waitUntil(lambda: isinstance(app.host.state, Switching), timeout=10_000)
    notice = app.window.notice_banner
    assert notice.isVisible() and "when the summary has finished" in notice.label.text()
    assert app.controller.model.folder.name == "demo" and len(loads) == 1  # nothing changed under it
    work.release()
    qtbot.waitUntil(lambda: app.controller.model is not None and app.controller.model.folder.name == "r",
                    timeout=60_000)
    assert isinstance(app.host.state, Ready) and not notice.isVisible()
    _close(app)


def test_a_model_change_during_an_answer_is_no_longer_dropped(qtbot, qloop, ponder_home, reasoning):
    app = _window(ponder_home, "demo")
    app.start_loading()
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=60_000)
    app.controller.send("What is 37 plus 45?")
    qtbot.waitUntil(lambda: app.controller.busy, timeout=10_000)
    changed = app.settings.copy()
    changed.set("model", "r")
    app.apply_settings(changed)  # before: saved, but never loaded while busy
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=60_000)
    qtbot.waitUntil(lambda: app.controller.model is not None and app.controller.model.folder.name == "r",
                    timeout=60_000)
    _close(app)


@pytest.mark.slow
def test_quitting_during_a_summary_stops_its_running_step(qtbot, qloop, ponder_home, tmp_path):
    import time

    app = _window(ponder_home, "demo")
    app.start_loading()
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=60_000)
    text = " ".join(f"Item {i}: the value of {i} plus {i} is {2 * i}." for i in range(600))
    view = app.summary_actions.open([], text=text)
    # Running: the summary holds the host and one of its steps is on the inference thread.
    qtbot.waitUntil(lambda: "summary" in app.host.busy and len(app.host.busy) >= 2, timeout=60_000)
    started = time.monotonic()
    app.window.close()
    app.shutdown()
    took = time.monotonic() - started
    assert all(not t.is_alive() for t in app.service._executor._threads)  # the engine thread is gone
    assert view.session.control.cancelled
    qtbot.waitUntil(lambda: not view.session.busy, timeout=10_000)
    assert view.session.result is None or view.session.result.partial  # stopped, not run to the end
    print(f"shutdown during a summary step took {took * 1000:.0f} ms")
    view.close()
    app.window.deleteLater()


def test_a_window_that_quits_during_a_load_leaves_at_once_only_then(monkeypatch):
    import threading

    from app.main import leave_if_a_load_runs

    exits = []
    monkeypatch.setattr("os._exit", exits.append)
    release = threading.Event()
    loading = threading.Thread(target=release.wait, name="ponder-inference_0")
    monkeypatch.setattr(threading, "enumerate", lambda: [threading.current_thread()])
    leave_if_a_load_runs(0)
    assert exits == []  # no load under way: the normal exit
    loading.start()
    monkeypatch.setattr(threading, "enumerate", lambda: [threading.current_thread(), loading])
    try:
        leave_if_a_load_runs(0)
    finally:
        release.set()
        loading.join()
    assert exits == [0]
