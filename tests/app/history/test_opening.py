"""Opening the history in the background (app/history/opening.py on app.ops): an older try is
still handed over after a Retry, and a store nobody will take (the window closed, the app quit,
the opener deleted) is closed, never leaked and never handed to a dead object."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QPushButton

from app.history.opening import BackgroundOpener
from app.history.panel import Dialogs, HistoryPanel
from engine.history.keys import SECURE_BACKENDS, Keyring, backend_name
from engine.history.records import ChatSettings
from engine.history.vault import HistoryVault
from tests.engine.history.conftest import FAST_SCRYPT


class _GatedKeyring:
    """A keyring whose calls from each new thread wait on that thread's own unlock prompt (the
    next gate handed out), answered when the test sets it. Threads get no gate once none is left."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.gates: list[threading.Event] = []
        self._local = threading.local()

    def gate(self) -> threading.Event:
        """The prompt the next try will wait on."""
        event = threading.Event()
        self.gates.append(event)
        return event

    def _wait(self) -> None:
        if not hasattr(self._local, "gate"):
            self._local.gate = self.gates.pop(0) if self.gates else None
        if self._local.gate is not None:
            assert self._local.gate.wait(30)

    def get_password(self, service, name):
        self._wait()
        return self.inner.get_password(service, name)

    def set_password(self, service, name, value):
        self._wait()
        self.inner.set_password(service, name, value)


def _vault(ponder_home, memory_keyring):
    """A vault whose store exists (made here, on this thread: no gate) and a list of every store
    its open() returns afterwards, in the order they opened."""
    gated = _GatedKeyring(memory_keyring)
    keyring = Keyring(lambda: gated, allowed=SECURE_BACKENDS | {backend_name(gated)})
    vault = HistoryVault.for_paths(ponder_home, keyring=keyring, scrypt=FAST_SCRYPT)
    vault.open().close()
    opened: list = []
    real_open = vault.open

    def recording_open(**kwargs):
        store = real_open(**kwargs)
        opened.append(store)
        return store

    vault.open = recording_open  # type: ignore[method-assign]
    return vault, gated, opened


def _panel(qtbot, vault, ops):
    controller = SimpleNamespace(listener=None, model=None, busy=False, chat_settings=ChatSettings,
                                 save_settings=lambda: None)
    dialogs = Dialogs(passphrase=lambda *_: None, save_path=lambda *_: None,
                      open_path=lambda *_: None, confirm=lambda *_: False)
    panel = HistoryPanel(vault, SimpleNamespace(new_chat=lambda: None), controller, ops=ops,
                         dialogs=dialogs)
    qtbot.addWidget(panel.sidebar)
    panel.sidebar.show()
    return panel


def _retry(qtbot, panel):
    def button():
        found = [b for b in panel.sidebar.state.findChildren(QPushButton)
                 if b.text() == "Retry" and not b.isHidden()]
        return found[0] if found else None

    qtbot.waitUntil(lambda: button() is not None)
    qtbot.mouseClick(button(), Qt.MouseButton.LeftButton)


def test_an_older_try_that_opens_after_a_retry_is_still_handed_over(qtbot, ops, ponder_home, memory_keyring):
    vault, gated, opened = _vault(ponder_home, memory_keyring)
    first, second = gated.gate(), gated.gate()
    panel = _panel(qtbot, vault, ops)
    panel.unlock_in_background()
    qtbot.waitUntil(lambda: "Waiting for the system keyring" in panel.sidebar.state_label.text())
    _retry(qtbot, panel)  # a second try, while the first still waits on its prompt
    assert panel.opening and len(ops.running) == 2
    first.set()  # the user answers the first prompt after all
    qtbot.waitUntil(lambda: panel.store is not None, timeout=10_000)
    assert panel.store is opened[0] and panel.sidebar.search.isEnabled()
    second.set()  # the second try opens too: not wanted any more, so closed
    qtbot.waitUntil(lambda: len(opened) == 2 and opened[1].closed, timeout=10_000)
    assert panel.store is opened[0] and not opened[0].closed
    panel.close()
    assert opened[0].closed


def test_a_store_opened_after_the_window_closed_is_closed(qtbot, ops, ponder_home, memory_keyring):
    vault, gated, opened = _vault(ponder_home, memory_keyring)
    prompt = gated.gate()
    panel = _panel(qtbot, vault, ops)
    panel.unlock_in_background()
    panel.close()  # the window goes while the unlock prompt is still open
    prompt.set()
    qtbot.waitUntil(lambda: len(opened) == 1 and opened[0].closed, timeout=10_000)
    qtbot.waitUntil(lambda: ops.running == [])
    assert panel.store is None


def test_a_try_still_blocked_at_quit_closes_the_store_it_opens(qtbot, ops, ponder_home, memory_keyring):
    vault, gated, opened = _vault(ponder_home, memory_keyring)
    prompt = gated.gate()
    panel = _panel(qtbot, vault, ops)
    panel.unlock_in_background()
    assert ops.shutdown(timeout_s=0) == ["open the history"]  # quitting delivers nothing more
    prompt.set()
    qtbot.waitUntil(lambda: len(opened) == 1 and opened[0].closed, timeout=10_000)
    assert panel.store is None


def test_a_store_opened_just_before_quit_but_not_delivered_is_closed(qtbot, ops, ponder_home, memory_keyring):
    vault, _gated, opened = _vault(ponder_home, memory_keyring)
    panel = _panel(qtbot, vault, ops)
    panel.unlock_in_background()
    [op] = ops.running
    assert op.wait(10)  # opened; the GUI thread has not taken it yet (no event was processed)
    assert not opened[0].closed
    assert ops.shutdown() == []
    assert opened[0].closed and panel.store is None


def test_an_opener_deleted_with_its_window_closes_what_it_opens(qtbot, ops, ponder_home, memory_keyring):
    vault, gated, opened = _vault(ponder_home, memory_keyring)
    prompt = gated.gate()
    window = QObject()
    opener = BackgroundOpener(vault, ops, window)
    received: list = []
    opener.opened.connect(lambda store, current: received.append(store))
    opener.start()
    window.deleteLater()  # without close(): nothing may call back into the deleted opener
    qtbot.waitUntil(lambda: not shiboken6.isValid(opener))
    prompt.set()
    qtbot.waitUntil(lambda: len(opened) == 1 and opened[0].closed, timeout=10_000)
    qtbot.waitUntil(lambda: ops.running == [])
    assert received == []
