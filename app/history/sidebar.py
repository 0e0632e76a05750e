"""The conversation sidebar: list (pinned first, then by date: Today, Yesterday, …), search with highlighted hits,
new / rename / pin / delete-with-undo, export and import entry points.

The sidebar works on a HistoryStore it is given (or none, while the history is locked); what
needs a dialog or the chat (opening, exporting, importing, unlocking) it asks for by signal.
"""

from __future__ import annotations

import datetime as dt
import html
import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import PonderError
from engine.history.records import ConversationSummary, SearchHit
from engine.history.store import HistoryStore

ID_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1
#: What a row shows after its title to tell equal titles apart (" · 14:05"), and whether pinned.
SUFFIX_ROLE = Qt.ItemDataRole.UserRole + 2
PINNED_ROLE = Qt.ItemDataRole.UserRole + 3
HEADER_ROLE = Qt.ItemDataRole.UserRole + 4
UNDO_MS = 10_000
POLL_MS = 2_000


class HistorySidebar(QWidget):
    """Signals:
        open_requested(int, object): open conversation id, at message id (or None).
        new_requested(): start a new chat.
        export_requested(int, str): export conversation id as "md" or "json".
        deleted(int): a conversation was deleted.
        import_requested(): import a Ponder JSON file.
        error(str): something the user should read (a failed rename, delete, …).
    """

    open_requested = Signal(int, object)
    new_requested = Signal()
    #: The title of the chat the window shows ("" for a new, unsaved chat).
    current_title = Signal(str)
    export_requested = Signal(int, str)
    import_requested = Signal()
    #: A conversation was deleted (its id); Undo may bring it back.
    deleted = Signal(int)
    error = Signal(str)

    def __init__(self, store: HistoryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historySidebar")
        self.store = store
        self.current_id: int | None = None
        self._deleted: int | None = None
        self._deleted_was_open = False
        self._seen_version: int | None = None
        self._filling = False

        self.new_button = QToolButton(self)
        self.new_button.setObjectName("historyNew")
        self.new_button.setText("New chat")
        self.new_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.new_button.setToolTip("Start a new chat (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.menu_button = QToolButton(self)
        self.menu_button.setObjectName("historyMenu")
        self.menu_button.setText("Import…")
        self.menu_button.setToolTip("Import a conversation exported as Ponder JSON")
        self.menu_button.clicked.connect(self.import_requested)

        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText("Search chats")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search chats")
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._run_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())

        self.list = QListWidget(self)
        self.list.setObjectName("historyList")
        self.list.setAccessibleName("Conversations")
        self.list.setSpacing(3)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        self.list.itemChanged.connect(self._on_renamed)
        self.results = QListWidget(self)
        self.results.setObjectName("historyResults")
        self.results.setAccessibleName("Search results")
        self.results.setWordWrap(True)
        self.results.setSpacing(2)
        self.results.itemClicked.connect(self._on_hit)
        self.results.itemActivated.connect(self._on_hit)
        self.results.hide()
        self.empty = QLabel("", self)
        self.empty.setObjectName("historyEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.state = QFrame(self)  # locked / not set up: message and recovery buttons
        self.state.setObjectName("historyState")
        self.state_label = QLabel(self.state)
        self.state_label.setWordWrap(True)
        self.state_box = QWidget(self.state)  # holds one button per choice, rebuilt each time
        self._choices = QVBoxLayout(self.state_box)
        self._choices.setContentsMargins(0, 0, 0, 0)
        state_layout = QVBoxLayout(self.state)
        state_layout.addWidget(self.state_label)
        state_layout.addWidget(self.state_box)
        self.state.hide()

        self.undo_bar = QFrame(self)
        self.undo_bar.setObjectName("historyUndo")
        self.undo_label = QLabel("Conversation deleted.", self.undo_bar)
        self.undo_button = QPushButton("Undo", self.undo_bar)
        self.undo_button.setObjectName("historyUndoButton")
        self.undo_button.clicked.connect(self.undo_delete)
        undo_row = QHBoxLayout(self.undo_bar)
        undo_row.setContentsMargins(8, 4, 8, 4)
        undo_row.addWidget(self.undo_label, 1)
        undo_row.addWidget(self.undo_button)
        self.undo_bar.hide()
        self._undo_timer = QTimer(self, singleShot=True, interval=UNDO_MS)
        self._undo_timer.timeout.connect(self.undo_bar.hide)

        top = QHBoxLayout()
        top.addWidget(self.new_button)
        top.addStretch(1)
        top.addWidget(self.menu_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.state)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.undo_bar)
        self.setMinimumWidth(200)

        delete = QAction("Delete", self.list)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._delete_selected)
        self.list.addAction(delete)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._refresh_if_changed)
        self._poll.start()
        self.set_store(store)

    # --- state ---

    def set_store(self, store: HistoryStore | None) -> None:
        """Show a store's conversations (None: the history is unavailable)."""
        self.store = store
        self.search.setEnabled(store is not None)
        self.new_button.setEnabled(True)
        if store is not None:
            self.state.hide()
        self.list.setVisible(store is not None and not self.search.text().strip())
        self.refresh()

    def show_state(self, message: str, choices: list[tuple[str, object]]) -> None:
        """The history is locked or not set up: a message and one button per choice.

        `choices` are (label, callback); the buttons are rebuilt each time.
        """
        for old in self.state_box.findChildren(QPushButton):
            old.hide()
            old.deleteLater()
        self.state_label.setText(message)
        for label, callback in choices:
            button = QPushButton(label, self.state_box)
            button.setObjectName("historyChoice")
            button.clicked.connect(lambda _c=False, cb=callback: cb())
            self._choices.addWidget(button)
        self.state.show()

    def focus_search(self) -> None:
        """Edit ▸ Search chats (Ctrl+K): the search field, with its text selected to type over."""
        self.search.setFocus()
        self.search.selectAll()

    def set_current(self, conversation_id: int | None) -> None:
        """Mark the conversation the chat shows."""
        self.current_id = conversation_id
        self.refresh()

    # --- list ---

    def refresh(self) -> None:
        """Reload the list (and the search results, if searching)."""
        self._filling = True
        self.list.clear()
        rows = self._call(lambda s: s.list_conversations()) or []
        counts: dict[str, int] = {}
        for summary in rows:
            counts[summary.title] = counts.get(summary.title, 0) + 1
        group = None
        today = dt.date.fromtimestamp(time.time())
        shown: dict[str, int] = {}
        for summary in rows:
            name = "Pinned" if summary.pinned else date_group(dt.date.fromtimestamp(summary.updated), today)
            if name != group:
                group = name
                self.list.addItem(_header(name))
            suffix = f" · {_short_when(summary.updated)}" if counts[summary.title] > 1 else ""
            label = summary.title + suffix
            shown[label] = shown.get(label, 0) + 1
            if shown[label] > 1:  # the same title within the same minute
                suffix += f" ({shown[label]})"
            self.list.addItem(self._item(summary, suffix=suffix))
        self._filling = False
        current = next((r for r in rows if r.id == self.current_id), None)
        self.current_title.emit((current.title or "New chat") if current is not None else "")
        if self.store is not None:
            self._seen_version = self._call(lambda s: s.data_version())
        self._update_empty(rows)
        if self.search.text().strip():
            self._run_search()

    def _item(self, summary: ConversationSummary, *, suffix: str = "") -> QListWidgetItem:
        """suffix: tells chats with the same title apart (their time: " · 14:05")."""
        title = summary.title or "New chat"
        item = QListWidgetItem(title + suffix)
        item.setData(ID_ROLE, summary.id)
        item.setData(SUFFIX_ROLE, suffix)
        item.setData(PINNED_ROLE, summary.pinned)
        item.setToolTip(f"{title}\n{_when(summary.updated)} · {summary.message_count} messages")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        if summary.id == self.current_id:
            item.setSelected(True)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        return item

    def _update_empty(self, rows: list) -> None:
        searching = bool(self.search.text().strip())
        if self.store is None:
            self.empty.setText("Chats are not being saved.")
        elif searching:
            self.empty.setText("No matches." if self.results.count() == 0 else "")
        else:
            self.empty.setText("" if rows else "Your saved chats will appear here.")
        self.empty.setVisible(bool(self.empty.text()))

    def _refresh_if_changed(self) -> None:
        """Another process (e.g. `ponder ask --save`) wrote to the store."""
        if self.store is None or self.store.closed \
                or self.list.state() == QListWidget.State.EditingState:
            return
        if self._call(lambda s: s.data_version()) != self._seen_version:
            self.refresh()

    def _on_clicked(self, item: QListWidgetItem) -> None:
        if item.data(ID_ROLE) is not None:  # not a date heading
            self.open_requested.emit(int(item.data(ID_ROLE)), None)

    def _on_renamed(self, item: QListWidgetItem) -> None:
        if self._filling or item.data(ID_ROLE) is None:
            return
        title = item.text().removesuffix(item.data(SUFFIX_ROLE) or "").strip()
        if title:
            self._call(lambda s: s.rename(int(item.data(ID_ROLE)), title))
        self.refresh()

    def _context_menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None or item.data(ID_ROLE) is None:
            return
        menu = self.context_menu(item)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def context_menu(self, item: QListWidgetItem) -> QMenu:
        """The actions for one conversation (built on demand; tests trigger them directly)."""
        cid = int(item.data(ID_ROLE))
        pinned = bool(item.data(PINNED_ROLE))
        menu = QMenu(self)
        menu.setObjectName("historyContextMenu")
        menu.addAction("Open", lambda: self.open_requested.emit(cid, None))
        menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Unpin" if pinned else "Pin to top", lambda: self.set_pinned(cid, not pinned))
        menu.addSeparator()
        menu.addAction("Export as Markdown…", lambda: self.export_requested.emit(cid, "md"))
        menu.addAction("Export as JSON…", lambda: self.export_requested.emit(cid, "json"))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete(cid))
        return menu

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        self._call(lambda s: s.set_pinned(conversation_id, pinned))
        self.refresh()

    def delete(self, conversation_id: int) -> None:
        """Delete now, with an Undo button for a few seconds."""
        if self._call(lambda s: s.delete(conversation_id)) is False:
            return
        self._deleted = conversation_id
        self._deleted_was_open = conversation_id == self.current_id
        self.deleted.emit(conversation_id)
        self.undo_bar.show()
        self._undo_timer.start()
        if self._deleted_was_open:
            self.current_id = None
            self.new_requested.emit()
        self.refresh()

    def undo_delete(self) -> None:
        restored, reopen = self._deleted, self._deleted_was_open
        if restored is not None:
            self._call(lambda s: s.undelete(restored))
        self._deleted = None
        self.undo_bar.hide()
        self.refresh()
        if restored is not None and reopen:
            self.open_requested.emit(restored, None)  # it was open: show it again

    def _delete_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None and item.data(ID_ROLE) is not None:
            self.delete(int(item.data(ID_ROLE)))

    # --- search ---

    def _run_search(self) -> None:
        text = self.search.text().strip()
        self.results.clear()
        self.results.setVisible(bool(text))
        self.list.setVisible(not text)
        if text:
            for hit in self._call(lambda s: s.search(text)) or []:
                self._add_hit(hit)
        self._update_empty([None] * self.list.count())

    def _add_hit(self, hit: SearchHit) -> None:
        item = QListWidgetItem()
        item.setData(ID_ROLE, hit.conversation_id)
        item.setData(MESSAGE_ROLE, hit.message_id)
        label = QLabel(hit_html(hit))
        label.setObjectName("historyHit")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setContentsMargins(4, 3, 4, 3)
        item.setToolTip(hit.plain)
        self.results.addItem(item)
        self.results.setItemWidget(item, label)
        width = max(120, self.results.viewport().width() - 4)
        item.setSizeHint(QSize(width, label.heightForWidth(width) + 2))

    def _on_hit(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(int(item.data(ID_ROLE)), item.data(MESSAGE_ROLE))

    # --- helpers ---

    def _call(self, action):
        """Run a store operation; a typed failure is reported, never raised into Qt."""
        if self.store is None:
            return None
        try:
            return action(self.store)
        except PonderError as exc:
            self.error.emit(exc.user_message())
            return False


def hit_html(hit: SearchHit) -> str:
    """A search hit as rich text: the title, where it matched, the snippet with marked hits."""
    where = {"title": "title", "content": "message", "thinking": "thinking"}[hit.field]
    parts = "".join(
        f"<span style='background-color:#f3d250;color:#1b1b1b'>{html.escape(text)}</span>"
        if is_hit else html.escape(text)
        for text, is_hit in hit.segments())
    title = html.escape(hit.conversation_title or "New chat")
    return (f"<b>{title}</b> <span style='color:gray'>· {where}</span><br>"
            f"{' '.join(parts.split())}")


def date_group(day: dt.date, today: dt.date) -> str:
    """The list heading for a chat last active on `day`."""
    age = (today - day).days
    if age <= 0:
        return "Today"
    if age == 1:
        return "Yesterday"
    if age < 7:
        return "Last 7 days"
    if age < 30:
        return "Last 30 days"
    return "Older"


def _header(name: str) -> QListWidgetItem:
    item = QListWidgetItem(name)
    item.setFlags(Qt.ItemFlag.NoItemFlags)  # not selectable, not editable, not a chat
    item.setData(HEADER_ROLE, True)
    font = item.font()
    font.setBold(True)
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
    item.setFont(font)
    return item


def _short_when(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp)
    if moment.date() == dt.date.fromtimestamp(time.time()):
        return moment.strftime("%H:%M")
    return f"{moment.day} {moment.strftime('%b %H:%M')}"


def _when(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp)
    if moment.date() == dt.date.fromtimestamp(time.time()):
        return moment.strftime("today %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")
