"""The sidebar when the history cannot simply be opened: first use without a secure keyring,
a missing key; the user's choice is carried out and the old file is never touched."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from keyring.backends import null
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.history.panel import Dialogs, HistoryPanel
from engine.history.keys import Keyring
from engine.history.records import ChatSettings
from engine.history.vault import HistoryVault

from tests.engine.history.conftest import FAST_SCRYPT


def _panel(qtbot, vault, ops, notes=None):
    chat = SimpleNamespace(new_chat=lambda: None)
    controller = SimpleNamespace(listener=None, model=None, busy=False, chat_settings=ChatSettings,
                                 save_settings=lambda: None)
    dialogs = Dialogs(passphrase=lambda *_: "a long passphrase", save_path=lambda *_: None,
                      open_path=lambda *_: None, confirm=lambda *_: True)
    panel = HistoryPanel(vault, chat, controller, ops=ops, dialogs=dialogs,
                         notify=lambda text, kind: (notes or []).append((kind, text)))
    qtbot.addWidget(panel.sidebar)
    panel.sidebar.show()
    return panel


def _choices(panel):
    return {b.text(): b for b in panel.sidebar.state.findChildren(QPushButton)
            if b.objectName() == "historyChoice" and not b.isHidden()}


def test_first_use_without_a_secure_keyring(qtbot, ponder_home, ops):
    vault = HistoryVault.for_paths(ponder_home, keyring=Keyring(lambda: null.Keyring()),
                                   scrypt=FAST_SCRYPT)
    panel = _panel(qtbot, vault, ops)
    assert not panel.unlock()
    assert panel.sidebar.state.isVisible()
    assert "No secure keyring" in panel.sidebar.state_label.text()
    qtbot.waitUntil(lambda: len(_choices(panel)) == 2)
    buttons = _choices(panel)
    assert set(buttons) == {"Protect with a passphrase…", "Keep unencrypted…"}
    qtbot.mouseClick(buttons["Protect with a passphrase…"], Qt.MouseButton.LeftButton)
    assert panel.store is not None and panel.store.encrypted
    assert not panel.sidebar.state.isVisible() and panel.sidebar.search.isEnabled()
    assert vault.record().mode == "passphrase"
    panel.close_store()


def test_key_missing_then_new_history(qtbot, vault, memory_keyring, ops):
    with vault.open() as store:
        store.add_message(store.create_conversation().id, "user", "old chat")
    old = vault.database_path()
    digest = hashlib.sha256(old.read_bytes()).hexdigest()
    kept = dict(memory_keyring.secrets)
    memory_keyring.secrets.clear()
    panel = _panel(qtbot, vault, ops)
    assert not panel.unlock()
    assert "no longer in the system keyring" in panel.sidebar.state_label.text()
    qtbot.waitUntil(lambda: len(_choices(panel)) == 2)
    buttons = _choices(panel)
    assert set(buttons) == {"Try the keyring again", "Start a new history"}
    qtbot.mouseClick(buttons["Try the keyring again"], Qt.MouseButton.LeftButton)
    assert panel.store is None  # still missing; the choices are offered again
    qtbot.waitUntil(lambda: "Start a new history" in _choices(panel))
    qtbot.mouseClick(_choices(panel)["Start a new history"], Qt.MouseButton.LeftButton)
    assert panel.store is not None and panel.store.path != old
    assert panel.store.list_conversations() == []
    assert hashlib.sha256(old.read_bytes()).hexdigest() == digest
    panel.close_store()
    memory_keyring.secrets.update(kept)  # the old key is still there for the old file


class _PromptingKeyring:
    """A keyring whose every call waits on the system's unlock prompt until the test answers it."""

    def __init__(self, inner, *, cancelled: bool = False) -> None:
        import threading

        self.inner, self.cancelled = inner, cancelled
        self.answered = threading.Event()
        self.calls = 0

    def _prompt(self) -> None:
        self.calls += 1
        assert self.answered.wait(30)
        if self.cancelled:
            from keyring.errors import KeyringLocked

            raise KeyringLocked("the user dismissed the unlock prompt")

    def get_password(self, service, name):
        self._prompt()
        return self.inner.get_password(service, name)

    def set_password(self, service, name, value):
        self._prompt()
        self.inner.set_password(service, name, value)


def _prompting_vault(ponder_home, memory_keyring, prompting):
    from engine.history.keys import SECURE_BACKENDS, backend_name

    keyring = Keyring(lambda: prompting, allowed=SECURE_BACKENDS | {backend_name(prompting)})
    return HistoryVault.for_paths(ponder_home, keyring=keyring, scrypt=FAST_SCRYPT)


def test_a_locked_keyring_never_blocks_the_window_and_the_history_waits_for_it(qtbot, ponder_home, memory_keyring, ops):
    prompting = _PromptingKeyring(memory_keyring)
    vault = _prompting_vault(ponder_home, memory_keyring, prompting)
    panel = _panel(qtbot, vault, ops)
    panel.unlock_in_background()  # returns at once: the prompt is answered on another thread
    assert panel.store is None
    qtbot.waitUntil(lambda: "Waiting for the system keyring to be unlocked" in panel.sidebar.state_label.text())
    qtbot.waitUntil(lambda: "Retry" in _choices(panel))  # the layout shows new buttons a moment later
    prompting.answered.set()  # the user typed the keyring password
    qtbot.waitUntil(lambda: panel.store is not None, timeout=10_000)
    assert not panel.sidebar.state.isVisible() and panel.sidebar.search.isEnabled()
    panel.close()


def test_a_cancelled_unlock_prompt_says_locked_not_missing(qtbot, ponder_home, memory_keyring, ops):
    prompting = _PromptingKeyring(memory_keyring, cancelled=True)
    vault = _prompting_vault(ponder_home, memory_keyring, prompting)
    panel = _panel(qtbot, vault, ops)
    prompting.answered.set()
    panel.unlock_in_background()
    qtbot.waitUntil(lambda: "keyring is locked" in panel.sidebar.state_label.text(), timeout=10_000)
    assert "No secure keyring" not in panel.sidebar.state_label.text()
    qtbot.waitUntil(lambda: "Retry" in _choices(panel))
    prompting.cancelled = False  # unlocked this time
    qtbot.mouseClick(_choices(panel)["Retry"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.store is not None, timeout=10_000)
    panel.close()
