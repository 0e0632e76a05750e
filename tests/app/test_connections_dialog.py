"""File → Connections…: add a server, test it (its models and one timed token), remove it; the
key typed in the dialog lands in the keyring, failures show as words, and closing the dialog stops
a running test."""

from __future__ import annotations

import pytest
import shiboken6

from app.connections_dialog import ConnectionsDialog
from app.errors import user_text
from app.ops import Ops
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
def ops(qapp):
    """The app's ops layer, as build_app() makes it; shut down (everything cancelled) at the end."""
    registry = Ops()
    yield registry
    registry.shutdown()


def _dialog(ponder_home, memory, ops):
    store = ConnectionStore.for_paths(ponder_home, Keyring(lambda: memory,
                                                           allowed=SECURE_BACKENDS | {backend_name(memory)}))
    return ConnectionsDialog(store, ops=ops)


@pytest.fixture
def dialog(qtbot, ponder_home, memory, ops):
    widget = _dialog(ponder_home, memory, ops)
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


def test_closing_the_dialog_stops_a_running_test_and_nothing_reaches_it(qtbot, ponder_home, memory, ops, fake):
    fake.state.script = Script(endless=chunk(), delay_s=0.05)  # a server that never finishes its token
    widget = _dialog(ponder_home, memory, ops)
    widget.show()
    widget.url.setText(fake.url)
    widget.model.setText("demo")
    widget.test_button.click()
    qtbot.waitUntil(lambda: len(fake.state.bodies) == 1, timeout=10_000)  # the timed token is streaming
    assert widget.status.text().startswith("Testing") and not widget.test_button.isEnabled()
    [running] = ops.running
    widget.close()
    assert running.state.cancelled and widget.test_button.isEnabled() and widget.status.text() == ""
    qtbot.waitUntil(fake.state.hung_up.is_set, timeout=10_000)  # the test hung up on the server
    qtbot.waitUntil(lambda: ops.running == [], timeout=10_000)  # it ended, and said nothing
    assert widget.status.text() == ""
    widget.deleteLater()


def test_a_dialog_deleted_without_closing_stops_its_test(qtbot, ponder_home, memory, ops, fake):
    fake.state.models_delay_s = 1.0  # the test is still listing the models when the window goes
    widget = _dialog(ponder_home, memory, ops)
    widget.url.setText(fake.url)
    widget.model.setText("demo")
    widget.test_button.click()
    [running] = ops.running
    widget.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(widget))
    assert running.state.cancelled
    qtbot.waitUntil(lambda: ops.running == [], timeout=10_000)  # no callback into the deleted dialog


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
