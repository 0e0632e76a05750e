"""Wires the history into the window: unlocking, the sidebar, saving chats, opening saved ones.

`attach_history(window, controller, paths)` is the one call app/main.py makes. Dialogs are
injected (`Dialogs`) so tests can answer them without modal windows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from app.history.loader import exchanges_from
from app.history.opening import BackgroundOpener
from app.history.recorder import HistoryRecorder, TeeListener
from app.history.sidebar import HistorySidebar
from app.history.titles import ModelTitles
from app.ops import Failure, Ops
from engine.errors import PonderError
from engine.history.errors import (
    HistoryLockedError,
    HistorySetupNeededError,
    RecoveryChoice,
    SetupChoice,
)
from engine.history.records import MessageMeta
from engine.history.store import HistoryStore
from engine.history.vault import HistoryVault

log = logging.getLogger(__name__)

WAITING_FOR_KEYRING = ("Waiting for the system keyring to be unlocked… Chats are not saved until "
                       "the history is open.")
KEYRING_LOCKED = ("The system keyring is locked, so the chat history cannot be opened. Unlock it "
                  "and Retry, or keep the history another way. Until then, chats are not saved.")


@dataclass
class Dialogs:
    """The questions the history asks the user (replaced by answers in tests)."""

    passphrase: Callable[[QWidget, str], str | None]
    save_path: Callable[[QWidget, str, str], str | None]
    open_path: Callable[[QWidget], str | None]
    confirm: Callable[[QWidget, str, str], bool]

    @classmethod
    def real(cls) -> Dialogs:
        def passphrase(parent, prompt):
            text, ok = QInputDialog.getText(parent, "History passphrase", prompt,
                                            QLineEdit.EchoMode.Password)
            return text if ok and text else None

        def save_path(parent, suggested, pattern):
            path, _ = QFileDialog.getSaveFileName(parent, "Export conversation", suggested, pattern)
            return path or None

        def open_path(parent):
            path, _ = QFileDialog.getOpenFileName(parent, "Import conversation", "",
                                                  "Ponder conversation (*.json)")
            return path or None

        def confirm(parent, title, text):
            answer = QMessageBox.question(parent, title, text)
            return answer == QMessageBox.StandardButton.Yes

        return cls(passphrase, save_path, open_path, confirm)


class HistoryPanel(QObject):
    """Owns the vault, the open store, the recorder and the sidebar."""


    def __init__(self, vault: HistoryVault, chat, controller, *, ops: Ops, dialogs: Dialogs | None = None,
                 notify: Callable[[str, str], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.vault = vault
        self.chat = chat
        self.controller = controller
        self.dialogs = dialogs or Dialogs.real()
        self.notify = notify or (lambda text, kind: log.info("%s", kind))
        self.store = None
        self.sidebar = HistorySidebar(None)  # the window re-parents it (add_sidebar)
        self.recorder = HistoryRecorder(None, self._meta, on_saved=self._saved,
                                        on_error=lambda e: self.notify(e.user_message(), "error"),
                                        chat_settings=controller.chat_settings)
        self.recorder.on_reset = lambda: self.sidebar.set_current(None)
        self.titles = ModelTitles(controller, conversation_id=lambda: self.recorder.conversation_id,
                                  rename=self._model_title, enabled=lambda: controller.settings.get("model_titles"),
                                  is_demo=_is_demo)
        controller.listener = TeeListener(controller.listener, self.recorder, self.titles)
        self.sidebar.deleted.connect(self.titles.forget)
        self.sidebar.open_requested.connect(self.open_conversation)
        self.sidebar.new_requested.connect(chat.new_chat)
        self.sidebar.export_requested.connect(self.export)
        self.sidebar.import_requested.connect(self.import_file)
        self.sidebar.error.connect(lambda text: self.notify(text, "error"))
        self._closed = False
        self.opener = BackgroundOpener(vault, ops, self)
        self.opener.opened.connect(self._on_opened)
        self.opener.failed.connect(self._on_failed)
        self.opener.waiting.connect(
            lambda: self.sidebar.show_state(WAITING_FOR_KEYRING, [("Retry", self.unlock_in_background)]))

    # --- unlocking in the background (start-up, keyring retries) ---

    @property
    def opening(self) -> bool:
        """A background open is under way."""
        return self.opener.busy

    def unlock_in_background(self) -> None:
        """Open the store in the background (app/history/opening.py): the window works while a
        keyring's unlock prompt is open; the sidebar says what it waits for, with Retry."""
        self.opener.vault = self.vault
        self.sidebar.show_state("Opening your chat history…", [])
        self.opener.start()

    def _on_opened(self, store: HistoryStore, _current: bool) -> None:
        if self.store is not None or self._closed:
            store.close()  # another try or a passphrase got there first, or the window closed
        else:
            self._use(store)

    def _on_failed(self, failure: Failure, keyring_exists: bool, current: bool) -> None:
        error = failure.error
        if not current or self._closed:
            return  # an older try's failure: the newest one answers for itself
        if isinstance(error, HistorySetupNeededError) and keyring_exists:
            # The keyring is there but refused (its unlock prompt was cancelled): not "no keyring".
            self.sidebar.show_state(KEYRING_LOCKED, [
                ("Retry", self.unlock_in_background),
                ("Protect with a passphrase…", lambda: self.setup(SetupChoice.PASSPHRASE)),
                ("Keep unencrypted…", lambda: self.setup(SetupChoice.UNENCRYPTED)),
            ])
        elif isinstance(error, HistorySetupNeededError):
            self._show_setup(error)
        elif isinstance(error, HistoryLockedError):
            self._show_locked(error)
        elif isinstance(error, PonderError):
            self.sidebar.show_state(failure.text, [("Try again", self.unlock_in_background)])
        else:  # ops logged it with its trace
            self.sidebar.show_state("The chat history could not be opened.",
                                    [("Try again", self.unlock_in_background)])

    # --- unlocking ---

    def unlock(self, passphrase: str | None = None) -> bool:
        """Open the store; on failure the sidebar shows why and the ways out."""
        try:
            store = self.vault.open(passphrase=passphrase)
        except HistorySetupNeededError as exc:
            self._show_setup(exc)
            return False
        except HistoryLockedError as exc:
            self._show_locked(exc)
            return False
        except PonderError as exc:
            self.sidebar.show_state(exc.user_message(), [("Try again", self.unlock)])
            return False
        self._use(store)
        return True

    def _show_locked(self, exc: HistoryLockedError) -> None:
        labels = {
            RecoveryChoice.RETRY_KEYRING: ("Try the keyring again", self.unlock_in_background),
            RecoveryChoice.ENTER_PASSPHRASE: ("Enter passphrase…", self.ask_passphrase),
            RecoveryChoice.RESTORE_BACKUP: ("Restore a backup", self.restore_backup),
            RecoveryChoice.NEW_STORE: ("Start a new history", self.new_store),
        }
        self.sidebar.show_state(exc.user_message() + " Until then, chats are not saved.",
                                [labels[c] for c in exc.choices])

    def ask_passphrase(self) -> None:
        text = self.dialogs.passphrase(self.sidebar, "Passphrase of your chat history:")
        if text:
            self.unlock(text)

    def setup(self, choice: SetupChoice) -> None:
        """First use (or a new history) without a secure keyring: the user's choice."""
        create = self.vault.new_store if self.vault.needs_new_file() else self.vault.setup
        if choice is SetupChoice.PASSPHRASE:
            text = self.dialogs.passphrase(self.sidebar, "Choose a passphrase for your chat "
                                           "history. Without it, the history cannot be read.")
            if text:
                self._guard(lambda: self._use(create(choice=choice, passphrase=text)))
        elif self.dialogs.confirm(self.sidebar, "Keep history unencrypted?",
                                  "Anyone who can read your files could read your saved chats. "
                                  "Keep the history unencrypted?"):
            self._guard(lambda: self._use(create(choice=choice)))

    def new_store(self) -> None:
        """Recovery: an empty history in a new file; the old file stays untouched."""
        if not self.dialogs.confirm(self.sidebar, "Start a new history?",
                                    "Ponder will save chats in a new, empty history. The old "
                                    "file is kept as it is, in case its key comes back."):
            return
        try:
            self._use(self.vault.new_store())
        except HistorySetupNeededError as exc:
            self._show_setup(exc)
        except PonderError as exc:
            self.notify(exc.user_message(), "error")

    def _show_setup(self, exc: HistorySetupNeededError) -> None:
        self.sidebar.show_state(
            "No secure keyring (such as GNOME Keyring or KWallet) is available to protect your "
            "chat history. Choose how to keep it; until then, chats are not saved.", [
            ("Protect with a passphrase…", lambda: self.setup(SetupChoice.PASSPHRASE)),
            ("Keep unencrypted…", lambda: self.setup(SetupChoice.UNENCRYPTED)),
        ])

    def restore_backup(self) -> None:
        backups = self.vault.backups()
        if backups:
            self._guard(lambda: self._use(self.vault.restore_backup(backups[0])))

    def _use(self, store) -> None:
        self.opener.cancel()  # a background open still running is no longer wanted
        self.close_store()
        self.store = store
        self.recorder.set_store(store)
        self.sidebar.set_store(store)

    def close(self) -> None:
        """The window is closing: commit and close; a background open still running is dropped."""
        self._closed = True
        self.titles.cancel()
        self.opener.close()
        self.close_store()

    def close_store(self) -> None:
        """Commit what is streaming, then close (the window is closing, or a new store)."""
        self.controller.save_settings()  # instructions typed a moment ago
        self.recorder.flush()
        self.recorder.set_store(None)
        self.sidebar.set_store(None)
        if self.store is not None:
            self.store.close()
            self.store = None

    # --- chats ---

    def _meta(self) -> MessageMeta:
        model = self.controller.model
        if model is None:
            return MessageMeta()
        endpoint = getattr(model, "endpoint", None)  # a remote model (as `ponder ask` records it)
        if endpoint is not None:
            return MessageMeta(model=endpoint.model, provider="remote")
        return MessageMeta(model=model.folder.name, provider=model.provider.key)

    def _model_title(self, conversation_id: int, title: str) -> bool:
        """The model's title for a chat, unless it was renamed (or the history closed) meanwhile."""
        if self.store is None or not self.store.rename_if_untouched(conversation_id, title):
            return False
        self.sidebar.refresh()
        return True

    def follow_host(self, host) -> None:
        """A model change ends title work started on the old model."""
        from engine.host import Checking, Switching

        host.subscribe(lambda state: self.titles.cancel() if isinstance(state, (Switching, Checking)) else None)

    def _saved(self, conversation_id: int) -> None:
        if self.sidebar.current_id != conversation_id:
            self.sidebar.set_current(conversation_id)
        else:
            self.sidebar.refresh()

    def open_conversation(self, conversation_id: int, message_id: int | None = None) -> None:
        """Show a stored conversation in the chat, scrolled to `message_id`."""
        if self.store is None:
            return
        if self.controller.busy:
            self.notify("Stop the current answer before opening another chat.", "warning")
            return
        try:
            conversation = self.store.conversation(conversation_id)
        except PonderError as exc:
            self.notify(exc.user_message(), "error")
            self.sidebar.refresh()
            return
        items = exchanges_from(conversation)
        self.chat.new_chat()
        self.controller.conversation.exchanges = [exchange for exchange, _q, _a in items]
        for exchange, _q, _a in items:
            self.chat.exchange_added(exchange)
        self.controller.restore_settings(conversation.settings)  # before adopt(): nothing to save back
        self.recorder.adopt(conversation_id, items)
        self.sidebar.set_current(conversation_id)
        target = next((e for e, q, a in items if message_id in (q, a)), None)
        if target is not None:
            QTimer.singleShot(0, lambda: self._scroll_to(target))

    def _scroll_to(self, exchange) -> None:
        widget = self.chat.messages.widget_for(exchange)
        if widget is not None:
            self.chat.messages.ensureWidgetVisible(widget, 0, 40)

    def export(self, conversation_id: int, fmt: str) -> None:
        from engine.history.export import to_json, to_markdown
        from engine.history.files import write_private

        if self.store is None:
            return
        try:
            conversation = self.store.conversation(conversation_id)
        except PonderError as exc:
            self.notify(exc.user_message(), "error")
            return
        pattern = "Markdown (*.md)" if fmt == "md" else "Ponder conversation (*.json)"
        suggested = documents_folder() / f"{export_name(conversation.summary.title)}.{fmt}"
        path = self.dialogs.save_path(self.sidebar, str(suggested), pattern)
        if not path:
            return
        text = to_markdown(conversation) if fmt == "md" else to_json(conversation)
        try:
            write_private(Path(path), text.encode("utf-8"))
        except OSError as exc:
            self.notify(f"The conversation could not be exported: {exc.strerror or exc}.", "error")
            return
        self.notify(f"Exported to {path}.", "info")

    def import_file(self) -> None:
        from engine.history.export import import_json

        if self.store is None:
            self.notify("The history is not available, so nothing can be imported.", "warning")
            return
        path = self.dialogs.open_path(self.sidebar)
        if not path:
            return
        try:
            text = Path(path).read_text(encoding="utf-8")
            new_id = import_json(self.store, text, source=Path(path).name)
        except UnicodeDecodeError:
            self.notify(f"Cannot import {Path(path).name}: it is not UTF-8 text.", "error")
            return
        except OSError as exc:
            self.notify(f"Cannot import {Path(path).name}: {exc.strerror or exc}.", "error")
            return
        except PonderError as exc:
            self.notify(exc.user_message(), "error")
            return
        self.sidebar.refresh()
        self.open_conversation(new_id)

    def _guard(self, action: Callable[[], None]) -> None:
        try:
            action()
        except HistoryLockedError as exc:
            self._show_locked(exc)
        except PonderError as exc:
            self.notify(exc.user_message(), "error")


def _is_demo(model: object) -> bool:
    from engine.paths import demo_model_dir

    folder = getattr(model, "folder", None)
    return folder is not None and folder.path == demo_model_dir().resolve()


def attach_history(window, controller, paths, ops: Ops, host=None) -> HistoryPanel:
    """Add the history sidebar to the main window and start saving its chats (titled by the
    model on `host` once their first answer is in); the store opens on `ops`."""
    panel = HistoryPanel(HistoryVault.for_paths(paths), window.chat, controller, ops=ops,
                         notify=lambda text, kind: window.notice_banner.show_message(
                             text, kind=_banner_kind(kind)),
                         parent=window)
    window.add_sidebar(panel.sidebar)
    panel.sidebar.current_title.connect(window.show_chat_title)
    search = window.add_action("Edit", "Search c&hats", QKeySequence("Ctrl+K"),
                               panel.sidebar.focus_search)
    search.setObjectName("historySearchAction")
    window.add_action("File", "&Import conversation…", None, panel.import_file)
    window.closing.connect(panel.close)
    if host is not None:
        panel.follow_host(host)
    panel.unlock_in_background()
    return panel


def export_name(title: str) -> str:
    """A file name from a chat title: "What is 23 plus 19?" → "What is 23 plus 19"."""
    words = re.sub(r"[^\w\-]+", " ", title).split()
    return " ".join(words)[:60].strip() or "conversation"


def documents_folder() -> Path:
    """Where exports are offered first: the user's Documents, not the folder Ponder was started in."""
    from PySide6.QtCore import QStandardPaths

    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(found) if found else Path.home()


def _banner_kind(kind: str) -> str:
    return {"error": "error", "warning": "warning"}.get(kind, "info")
