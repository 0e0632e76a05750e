"""File → Connections…: add a server, test it (its models and one timed token), remove it; the
key typed in the dialog lands in the keyring, and failures show as words."""

from __future__ import annotations

import pytest

from app.connections_dialog import ConnectionsDialog
from app.errors import user_text
from engine.errors import RemoteUnreachableError
from engine.history.keys import SECURE_BACKENDS, Keyring, backend_name
from engine.remote.connections import KEYRING_SERVICE, ConnectionStore
from tests.engine.history.conftest import MemoryKeyring
from tests.engine.remote.fake_openai import FakeOpenAI, Script, chunk


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def memory():
    return MemoryKeyring()


@pytest.fixture
def dialog(qtbot, ponder_home, memory):
    store = ConnectionStore.for_paths(ponder_home, Keyring(lambda: memory,
                                                           allowed=SECURE_BACKENDS | {backend_name(memory)}))
    widget = ConnectionsDialog(store)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_add_test_and_remove_a_connection(qtbot, dialog, fake, memory):
    fake.state.api_key = "sk-dialog"
    fake.state.script = Script(chunks=[chunk(content="OK"), chunk(finish="stop")])
    dialog.name.setText("gpu-box")
    dialog.url.setText(fake.url)
    dialog.model.setText("demo")
    dialog.key.setText("sk-dialog")
    dialog.save_button.click()
    assert dialog.list.count() == 1 and "gpu-box — demo at" in dialog.list.item(0).text()
    assert memory.secrets[(KEYRING_SERVICE, "gpu-box")] == "sk-dialog" and dialog.key.text() == ""
    assert "sk-dialog" not in dialog.store.path.read_text()
    dialog.test_button.click()  # the saved key is used: the form's key field is empty now
    qtbot.waitUntil(lambda: dialog.status.text().startswith("OK"), timeout=10_000)
    assert "serves demo" in dialog.status.text() and "first token in" in dialog.status.text()
    dialog.remove_button.click()
    assert dialog.list.count() == 0 and memory.secrets == {}
    assert "Removed gpu-box" in dialog.status.text()


def test_refusals_and_failures_are_shown_as_words(qtbot, dialog):
    dialog.name.setText("lan")
    dialog.url.setText("http://192.168.1.9:8000/v1")
    dialog.model.setText("m")
    dialog.save_button.click()
    assert dialog.list.count() == 0 and "confirm this private address" in dialog.status.text()
    dialog.url.setText("http://127.0.0.1:9/v1")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "Cannot reach" in dialog.status.text(), timeout=10_000)
    assert dialog.test_button.isEnabled()


def test_user_text_adds_where_to_fix_a_remote_failure():
    text = user_text(RemoteUnreachableError("http://gpu:8000/v1", "connection refused"))
    assert text.startswith("Cannot reach the server at http://gpu:8000/v1") and "Settings" in text


def test_file_menu_opens_the_dialog(qtbot, qloop, ponder_home):
    from PySide6.QtWidgets import QApplication

    from app.main import build_app

    app = build_app(QApplication.instance(), ponder_home)
    qtbot.addWidget(app.window)
    action = app.window.findChild(type(app.window.settings_action), "connectionsAction")
    assert action is not None and action in app.window.menu("File").actions()
    action.trigger()
    dialog = app.window._connections_dialog
    assert dialog.objectName() == "connectionsDialog" and dialog.isVisible()
    assert dialog.list.count() == 0 and not dialog.remove_button.isEnabled()
    dialog.close()
    app.shutdown()
