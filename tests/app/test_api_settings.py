"""File › Local API… in the real window: turning it on serves the window's own model to the official
openai client with the keyring's key; the status bar counts requests; turning it off closes it."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from engine.api.security import KeyringKeys
from engine.history.keys import Keyring, backend_name
from tests.engine.api.conftest import ANSWER, QUESTION, THINKING

pytestmark = pytest.mark.timeout(180)


class MemoryKeyring:
    """An in-memory keyring backend (the real KeyringKeys code talks to it)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, user):
        return self.items.get((service, user))

    def set_password(self, service, user, value):
        self.items[(service, user)] = value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_local_api_setting_serves_the_window_model(qtbot, ponder):
    app = ponder
    api = app.window._local_api
    backend = MemoryKeyring()
    api.keys = KeyringKeys(Keyring(provider=lambda: backend, allowed=frozenset({backend_name(backend)})))
    assert api.server is None and not app.settings.get("api_enabled")  # off by default
    action = app.window.findChild(type(app.window.settings_action), "localApiAction")
    action.trigger()
    dialog = app.window._api_dialog
    assert dialog.status.text() == "Off"
    port = free_port()
    dialog.enabled.setChecked(True)
    dialog.port.setValue(port)
    assert dialog.address.text() == f"http://127.0.0.1:{port}/v1"
    dialog.accept()
    qtbot.waitUntil(lambda: api.server is not None, timeout=10_000)
    assert app.settings.get("api_enabled") and app.store.load().settings.get("api_port") == port
    key = api.key
    assert key and key.startswith("pk-") and backend.items  # made once, kept by the keyring

    action.trigger()
    dialog = app.window._api_dialog
    assert dialog.key.text() == key and dialog.status.text().startswith("Running")
    dialog.findChild(QPushButton, "copyKey").click()
    assert QGuiApplication.clipboard().text() == key
    dialog.reject()

    def ask(api_key):
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=api_key, max_retries=0) as client:
            return client.chat.completions.create(model="demo", messages=[{"role": "user", "content": QUESTION}])

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(ask, key)
        qtbot.waitUntil(future.done, timeout=60_000)
        message = future.result().choices[0].message
        assert message.content == ANSWER and message.model_extra["reasoning_content"] == THINKING
        qtbot.waitUntil(lambda: api.label.text() == "API on · 1 served", timeout=5_000)
        stranger = pool.submit(ask, "pk-not-the-key-000000000")
        qtbot.waitUntil(stranger.done, timeout=30_000)
        with pytest.raises(openai.AuthenticationError):
            stranger.result()

    off = app.settings.copy()
    off.set("api_enabled", False)
    app.apply_settings(off)
    api.reconcile()
    qtbot.waitUntil(lambda: api.server is None, timeout=10_000)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not api.label.isVisible()


def test_a_model_switch_in_the_window_waits_for_a_running_api_request(qtbot, ponder):
    from engine.host import Ready, Switching

    from tests.engine.api.conftest import ENDLESS

    app = ponder
    api = app.window._local_api
    backend = MemoryKeyring()
    api.keys = KeyringKeys(Keyring(provider=lambda: backend, allowed=frozenset({backend_name(backend)})))
    port = free_port()
    on = app.settings.copy()
    on.set("api_enabled", True)
    on.set("api_port", port)
    app.apply_settings(on)
    api.reconcile()
    qtbot.waitUntil(lambda: api.server is not None, timeout=10_000)

    def client():
        return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=api.key, max_retries=0, timeout=60)

    with ThreadPoolExecutor(2) as pool, client() as first:
        def open_stream():  # off the test's thread: the server runs on this thread's loop
            stream = first.chat.completions.create(model="demo", stream=True,
                                                   messages=[{"role": "user", "content": ENDLESS}])
            next(iter(stream))
            return stream

        started = pool.submit(open_stream)
        qtbot.waitUntil(started.done, timeout=30_000)
        stream = started.result()
        app.start_loading()  # the same model again: a switch all the same
        qtbot.waitUntil(lambda: isinstance(app.host.state, Switching), timeout=5_000)
        assert app.host.busy == ("api-0",)

        def ask():
            with client() as second:
                return second.chat.completions.create(model="demo", messages=[{"role": "user", "content": QUESTION}])

        refused = pool.submit(ask)
        qtbot.waitUntil(refused.done, timeout=30_000)
        with pytest.raises(openai.InternalServerError) as error:  # 503: the model is about to change
            refused.result()
        assert error.value.status_code == 503
        pool.submit(stream.close)
        qtbot.waitUntil(lambda: isinstance(app.host.state, Ready) and app.controller.model is not None,
                        timeout=60_000)
        answered = pool.submit(ask)
        qtbot.waitUntil(answered.done, timeout=60_000)
        assert answered.result().choices[0].message.content == ANSWER


def test_saving_api_requests_is_a_choice_in_the_dialog_and_shows_in_the_sidebar(qtbot, ponder, tmp_path):
    from PySide6.QtWidgets import QCheckBox, QListWidget

    from app.history.panel import HistoryPanel
    from app.history.sidebar import ID_ROLE
    from engine.history.keys import SECURE_BACKENDS
    from engine.history.vault import HistoryVault
    from tests.engine.history.conftest import FAST_SCRYPT
    from tests.engine.history.conftest import MemoryKeyring as HistoryKeyring

    app = ponder
    panel = app.window.findChild(HistoryPanel)
    panel.close_store()
    history_keys = HistoryKeyring()
    panel.vault = HistoryVault(tmp_path / "history", scrypt=FAST_SCRYPT, keyring=Keyring(
        lambda: history_keys, allowed=SECURE_BACKENDS | {backend_name(history_keys)}))
    app.window.findChild(type(app.window.settings_action), "localApiAction").trigger()
    app.window._api_dialog.save_history.setChecked(True)  # the history is closed: the hint says so
    assert "not open now, so nothing is saved" in app.window._api_dialog.save_hint.text()
    app.window._api_dialog.reject()
    assert panel.unlock()
    api = app.window._local_api
    backend = MemoryKeyring()
    api.keys = KeyringKeys(Keyring(provider=lambda: backend, allowed=frozenset({backend_name(backend)})))
    listing = app.window.findChild(QListWidget, "historyList")

    def rows():
        return [listing.item(i).text() for i in range(listing.count()) if listing.item(i).data(ID_ROLE) is not None]

    def ask(port, messages):
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=api.key, max_retries=0,
                           timeout=60) as client:
            return client.chat.completions.create(model="demo", messages=messages).choices[0].message.content

    def ask_in_background(pool, port, messages):
        future = pool.submit(ask, port, messages)  # off the GUI thread: the server runs on its loop
        qtbot.waitUntil(future.done, timeout=60_000)
        return future.result()

    app.window.findChild(type(app.window.settings_action), "localApiAction").trigger()
    dialog = app.window._api_dialog
    save = dialog.findChild(QCheckBox, "apiSaveHistory")
    assert not save.isChecked()  # off by default
    assert "sidebar" in dialog.save_hint.text() and "API ·" in dialog.save_hint.text()
    port = free_port()
    dialog.enabled.setChecked(True)
    dialog.port.setValue(port)
    dialog.accept()
    qtbot.waitUntil(lambda: api.server is not None, timeout=10_000)

    question = [{"role": "user", "content": QUESTION}]
    with ThreadPoolExecutor(1) as pool:
        assert ask_in_background(pool, port, question) == ANSWER
        qtbot.waitUntil(lambda: api.label.text() == "API on · 1 served", timeout=5_000)
        assert rows() == [] and panel.store.list_conversations() == []  # not saved while off

        app.window.findChild(type(app.window.settings_action), "localApiAction").trigger()
        dialog = app.window._api_dialog
        dialog.findChild(QCheckBox, "apiSaveHistory").setChecked(True)
        dialog.accept()
        assert app.store.load().settings.get("api_save_history")  # kept for the next start too
        assert ask_in_background(pool, port, question) == ANSWER
        qtbot.waitUntil(lambda: rows() == [f"API · {QUESTION}"], timeout=5_000)  # no restart, no reload
        follow_up = [*question, {"role": "assistant", "content": ANSWER}, {"role": "user", "content": "What is 5 plus 4?"}]
        ask_in_background(pool, port, follow_up)
        qtbot.waitUntil(lambda: panel.store.list_conversations()[0].message_count == 4, timeout=5_000)
        assert rows() == [f"API · {QUESTION}"]

    [summary] = panel.store.list_conversations()
    panel.open_conversation(summary.id)  # opened in the chat like any other, thinking apart
    exchanges = app.controller.conversation.exchanges
    assert [e.question for e in exchanges] == [QUESTION, "What is 5 plus 4?"]
    assert exchanges[0].reply.answer == ANSWER and exchanges[0].reply.thinking == THINKING
