"""The model picker at the top of the chat (app/chat/model_picker.py, model_choices.py), driven
with the mouse: it lists the demo, the installed models and each saved connection's model with
where it runs and its state, switches in one click (saved like Settings), runs the chat on a
remote model, and says when a switch waits for an answer."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from engine.host import Ready, Switching
from engine.remote.connections import Connection, ConnectionStore
from engine.settings import SettingsStore
from tests.engine.remote.fake_openai import FakeOpenAI, Script, chunk

WAIT_MS = 60_000


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        server.state.script = Script(chunks=[chunk(reasoning="37 plus 45: 30+40=70, 7+5=12, 82."),
                                             chunk(content="The answer is 82."), chunk(finish="stop")])
        yield server


def _window(ponder_home, model: str = "demo"):
    from app.main import build_app

    app = build_app(QApplication.instance(), ponder_home, model=model)
    app.settings.set("temperature", 0.05)
    app.show()
    app.start_loading()
    return app


def _close(qtbot, app) -> None:
    app.controller.stop()
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=30_000)
    app.window.close()
    app.shutdown()
    app.window.deleteLater()


def _with_menu_open(qtbot, picker, act, opener=None) -> None:
    """Click the picker (or call opener); once its menu shows, run act(menu) (the menu runs its
    own event loop)."""
    menu, done = picker.menu_, []
    timer = QTimer(picker)
    timer.setInterval(20)

    def poll() -> None:
        if menu.isVisible() and not done:
            done.append(True)
            timer.stop()
            act(menu)

    timer.timeout.connect(poll)
    timer.start()
    if opener is None:
        qtbot.mouseClick(picker, Qt.MouseButton.LeftButton)
    else:
        opener()
    qtbot.waitUntil(lambda: bool(done) and not menu.isVisible(), timeout=5_000)


def _menu_texts(qtbot, picker) -> list[str]:
    texts: list[str] = []

    def read(menu) -> None:
        texts.extend(a.text() for a in menu.actions() if a.data())
        qtbot.keyClick(menu, Qt.Key.Key_Escape)

    _with_menu_open(qtbot, picker, read)
    return texts


def _choose(qtbot, picker, spec: str) -> None:
    def click(menu) -> None:
        action = picker.action_for(spec)
        assert action is not None, [a.text() for a in menu.actions()]
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())

    _with_menu_open(qtbot, picker, click)


def _ask(qtbot, app, text: str) -> None:
    box = app.window.findChild(QPlainTextEdit, "chatInput")
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _answered(app) -> str:
    last = app.controller.conversation.last
    return last.reply.answer if last is not None and not app.controller.busy else ""


def _save_connection(home, url: str, name: str = "gpu-box") -> None:
    ConnectionStore.for_paths(home).add(Connection(name, url, "demo"))


@pytest.fixture
def connects(monkeypatch):
    """Every internet address a Python socket connects to (httpx's included), from any thread.
    (Local sockets, the keyring's D-Bus, are not network use.)"""
    import socket

    seen: list[object] = []
    real = socket.socket.connect
    real_ex = socket.socket.connect_ex
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: _note(seen, address) or real(self, address))
    monkeypatch.setattr(socket.socket, "connect_ex",
                        lambda self, address: _note(seen, address) or real_ex(self, address))
    return seen


def _note(seen: list[object], address: object) -> None:
    if isinstance(address, tuple):  # AF_INET / AF_INET6; AF_UNIX addresses are paths
        seen.append(address)


def _remote_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ponder-remote")]


def test_the_picker_lists_every_model_with_where_it_runs_and_switches_in_one_click(
        qtbot, qloop, ponder_home, reasoning, fake):
    _save_connection(ponder_home, fake.url)
    app = _window(ponder_home)
    picker = app.window.model_picker
    qtbot.waitUntil(lambda: "ready on" in picker.text(), timeout=WAIT_MS)
    assert picker.text().startswith("Demo model · on this computer · ready on CPU")
    texts = _menu_texts(qtbot, picker)
    port = fake.url.split(":")[2].split("/")[0]
    assert texts == ["Demo model\ton this computer · ready on CPU",
                     "r\ton this computer · not loaded",
                     f"demo\tremote: gpu-box (127.0.0.1:{port}) · not loaded"]
    _choose(qtbot, picker, "r")
    qtbot.waitUntil(lambda: picker.text().startswith("r · on this computer · ready on CPU"), timeout=WAIT_MS)
    assert app.controller.model.folder.name == "r"
    assert SettingsStore(ponder_home.settings_file).load().settings.get("model") == "r"  # saved like Settings
    assert _remote_threads() == [] and fake.state.bodies == []  # listed, never contacted
    seen: list[str] = []

    def read_and_close(menu) -> None:
        seen.extend(a.text() for a in menu.actions() if a.isChecked())
        qtbot.keyClick(menu, Qt.Key.Key_Escape)

    _with_menu_open(qtbot, picker, read_and_close,  # the keyboard way in: Ctrl+L
                    opener=lambda: qtbot.keyClick(app.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier))
    assert seen == ["r\ton this computer · ready on CPU"]
    _close(qtbot, app)


def test_a_failed_load_shows_its_reason_in_the_picker(qtbot, qloop, ponder_home):
    app = _window(ponder_home, model="no-such-model")
    picker = app.window.model_picker
    qtbot.waitUntil(lambda: "failed:" in picker.toolTip(), timeout=WAIT_MS)
    assert picker.toolTip().startswith("no-such-model · on this computer · failed: ")
    # The button keeps the name and where it runs; the reason is in the banner and the tooltip.
    assert picker.text() in ("no-such-model · on this computer · failed (see the banner)  ▾",
                             f"no-such-model · on this computer · {picker.toolTip().split(' · ')[2][:23]}…  ▾")
    _close(qtbot, app)


def test_with_no_connection_the_picker_offers_the_local_models_and_nothing_opens_a_socket(
        qtbot, qloop, ponder_home, connects):
    app = _window(ponder_home)
    picker = app.window.model_picker
    qtbot.waitUntil(lambda: "ready on" in picker.text(), timeout=WAIT_MS)
    assert _menu_texts(qtbot, picker) == ["Demo model\ton this computer · ready on CPU"]
    _ask(qtbot, app, "What is 2 plus 3?")
    qtbot.waitUntil(lambda: "5" in _answered(app), timeout=WAIT_MS)
    assert connects == [] and _remote_threads() == []
    _close(qtbot, app)


def test_the_chat_answers_on_a_remote_model_and_back_on_the_local_one(qtbot, qloop, ponder_home, fake, connects):
    _save_connection(ponder_home, fake.url)
    app = _window(ponder_home)
    picker, status = app.window.model_picker, app.window.status
    qtbot.waitUntil(lambda: "ready on" in picker.text(), timeout=WAIT_MS)
    _choose(qtbot, picker, "remote:gpu-box")
    qtbot.waitUntil(lambda: "ready on vllm" in picker.text(), timeout=WAIT_MS)
    port = fake.url.split(":")[2].split("/")[0]
    assert picker.text() == "demo · remote: gpu-box · ready on vllm  ▾"
    assert f"remote: gpu-box (127.0.0.1:{port})" in picker.toolTip()
    assert status.provider.text() == f"remote: gpu-box (127.0.0.1:{port})"  # shown at all times
    _ask(qtbot, app, "What is 37 plus 45?")
    qtbot.waitUntil(lambda: _answered(app) == "The answer is 82.", timeout=WAIT_MS)
    assert "30+40=70" in app.controller.conversation.last.reply.thinking
    assert "What is 37 plus 45?" in str(fake.state.bodies[-1]["messages"])
    port_number = int(port)
    assert connects and all(address == ("127.0.0.1", port_number) for address in connects)  # only there
    view = app.summary_actions.open([], text="Ponder runs a reasoning model. " * 20)  # on the server too
    qtbot.waitUntil(lambda: view.session.result is not None, timeout=WAIT_MS)
    assert any("Ponder runs a reasoning model." in str(body["messages"]) for body in fake.state.bodies)
    view.close()

    _choose(qtbot, picker, "demo")
    qtbot.waitUntil(lambda: picker.text().startswith("Demo model · on this computer · ready on CPU"),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _remote_threads() == [], timeout=10_000)  # the connection was closed
    asked = len(fake.state.bodies)
    _ask(qtbot, app, "What is 2 plus 3?")
    qtbot.waitUntil(lambda: "5" in _answered(app), timeout=WAIT_MS)
    assert len(fake.state.bodies) == asked  # answered here, not by the server
    assert "remote" not in status.provider.text()
    _close(qtbot, app)


def test_a_change_during_an_answer_is_applied_after_it_and_the_picker_says_so(qtbot, qloop, ponder_home, fake):
    fake.state.script = Script(chunks=[chunk(reasoning="Let me think. ")], delay_s=0.05,
                               endless=chunk(reasoning="still thinking "))
    _save_connection(ponder_home, fake.url)
    app = _window(ponder_home, model="remote:gpu-box")
    picker = app.window.model_picker
    qtbot.waitUntil(lambda: "ready on vllm" in picker.text(), timeout=WAIT_MS)
    _ask(qtbot, app, "Think for a long time.")
    qtbot.waitUntil(lambda: "still thinking" in app.controller.conversation.last.reply.thinking, timeout=WAIT_MS)
    _choose(qtbot, picker, "demo")
    qtbot.waitUntil(lambda: isinstance(app.host.state, Switching), timeout=10_000)
    assert picker.text() == "demo · remote: gpu-box → Demo model after this answer  ▾"
    texts = _menu_texts(qtbot, picker)
    assert "Demo model\ton this computer · switching after the running answer" in texts
    assert app.controller.busy  # the answer was not cut by the switch
    qtbot.keyClick(app.window.findChild(QPlainTextEdit, "chatInput"), Qt.Key.Key_Escape)  # Stop
    qtbot.waitUntil(lambda: isinstance(app.host.state, Ready) and app.host.ready.wanted.spec == "demo",
                    timeout=WAIT_MS)
    assert picker.text().startswith("Demo model · on this computer · ready on CPU")
    qtbot.waitUntil(lambda: fake.state.hung_up.is_set(), timeout=10_000)  # the server was told to stop
    _close(qtbot, app)


@pytest.mark.slow
def test_the_window_runs_on_another_ponder(qtbot, qloop, ponder_home, tmp_path):
    from tests.engine.remote.peers import PonderPeer

    peer = PonderPeer(tmp_path / "peer-home")  # `ponder serve --model demo`: a real OpenAI-style server
    try:
        ConnectionStore.for_paths(ponder_home).add(Connection("spare-laptop", peer.url, peer.model))
        app = _window(ponder_home)
        picker = app.window.model_picker
        qtbot.waitUntil(lambda: "ready on" in picker.text(), timeout=WAIT_MS)
        _choose(qtbot, picker, "remote:spare-laptop")
        qtbot.waitUntil(lambda: "ready on ponder" in picker.text(), timeout=WAIT_MS)
        assert picker.text().startswith(f"{peer.model} · remote: spare-laptop")
        _ask(qtbot, app, "What is 37 plus 45?")
        qtbot.waitUntil(lambda: _answered(app) == "The answer is 82.", timeout=WAIT_MS)
        assert "7+5=12" in app.controller.conversation.last.reply.thinking  # the server's thinking, split out
        _close(qtbot, app)
    finally:
        peer.stop()


def test_a_long_model_name_gives_way_to_where_it_runs_and_the_waiting_switch(qtbot):
    from types import SimpleNamespace

    from app.chat.model_choices import PickerEntry
    from app.chat.model_picker import MAX_TEXT_PX, ModelPicker
    from engine.catalog.setup import ModelSetup
    from engine.host import ModelWanted

    long_name = "an-organisation/Phi-4-reasoning-plus-with-a-very-long-fine-tune-name-q4"
    entries = [PickerEntry("demo", "Demo model", "on this computer"),
               PickerEntry("remote:gpu-box", long_name, "remote: gpu-box (10.0.0.5:8000)", "remote: gpu-box")]
    picker = ModelPicker(lambda: entries)
    qtbot.addWidget(picker)
    served = SimpleNamespace(capabilities=SimpleNamespace(server=SimpleNamespace(value="vllm")))
    ready = Ready(1, ModelWanted("remote:gpu-box"), served, ModelSetup())
    picker.show_state(ready, ready)
    assert picker.text().endswith(" · remote: gpu-box · ready on vllm  ▾") and "…" in picker.text()
    picker.show_state(Switching(2, ModelWanted("demo"), ("default",)), ready)
    text = picker.text()
    assert text.startswith("an-or") and "…me-q4" in text and text.endswith(" · remote: gpu-box → Demo model after this answer  ▾")
    assert picker.fontMetrics().horizontalAdvance(text) <= MAX_TEXT_PX + picker.fontMetrics().horizontalAdvance("  ▾")
    assert long_name in picker.toolTip() and "10.0.0.5:8000" in picker.toolTip()


def test_a_load_shows_how_long_it_has_run(qtbot):
    from types import SimpleNamespace

    from app.chat.model_choices import PickerEntry
    from app.chat.model_picker import ModelPicker
    from engine.catalog.setup import ModelSetup
    from engine.host import Loading, ModelWanted

    picker = ModelPicker(lambda: [PickerEntry("big", "big", "on this computer")])
    qtbot.addWidget(picker)
    picker.show_state(Loading(1, ModelWanted("big")), None)
    assert picker.text() == "big · on this computer · loading…  ▾"
    qtbot.waitUntil(lambda: picker.text() == "big · on this computer · loading… 1 s  ▾", timeout=3_000)
    loaded = SimpleNamespace(provider=SimpleNamespace(label="CPU"))
    ready = Ready(1, ModelWanted("big"), loaded, ModelSetup())
    picker.show_state(ready, ready)
    assert picker.text() == "big · on this computer · ready on CPU  ▾" and not picker._clock.isActive()
