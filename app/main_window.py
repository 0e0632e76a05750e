"""The main window: menu bar, a top bar, banners, an optional sidebar, the chat, the status bar.

Other features plug in through `add_sidebar(widget)`, `menu(name)` and `add_action(...)`;
app/main.py builds the window and connects the actions.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.banner import Banner
from app.chat.chat_view import ChatView
from app.status_bar import StatusBar

MENUS = ("&File", "&Edit", "&View", "&Help")


class MainWindow(QMainWindow):
    """Signals:
        closing: the window is being closed (the app decides whether that quits).
    """

    closing = Signal()

    def __init__(self, chat: ChatView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("Ponder")
        self.resize(1040, 760)
        # The width's minimum comes from the layouts (sidebar and controls never overlap);
        # an explicit minimum width would override it and let them.
        self.setMinimumHeight(420)
        self.chat = chat
        self.menus: dict[str, QMenu] = {}
        for title in MENUS:
            self.menus[title.replace("&", "")] = self.menuBar().addMenu(title)

        self.new_chat_button = self._tool("newChatButton", "New chat", "New chat (Ctrl+N)")
        self.settings_button = self._tool("settingsButton", "Settings", "Settings (Ctrl+,)")
        self.chat_settings_button = self._tool("chatSettingsButton", "This chat", "This chat's instructions and sampling")
        self.chat_settings_button.setCheckable(True)
        self.title = QLabel("Ponder", self)
        self.title.setObjectName("windowHeading")
        top = QFrame(self)
        top.setObjectName("topBar")
        top_row = QHBoxLayout(top)
        top_row.setContentsMargins(12, 6, 12, 6)
        top_row.addWidget(self.new_chat_button)
        self._top_row = top_row
        top_row.addStretch(1)
        top_row.addWidget(self.title)
        top_row.addStretch(1)
        top_row.addWidget(self.chat_settings_button)
        top_row.addWidget(self.settings_button)

        self.model_banner = Banner("modelBanner", self)
        self.notice_banner = Banner("noticeBanner", self)
        main_area = QWidget(self)
        main_area.setObjectName("mainArea")
        column = QVBoxLayout(main_area)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(top)
        column.addWidget(self.model_banner)
        column.addWidget(self.notice_banner)
        column.addWidget(chat, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(main_area)
        self.setCentralWidget(self.splitter)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)

        self.new_chat_action = self.add_action("File", "&New chat", QKeySequence.StandardKey.New, chat.new_chat)
        self.settings_action = self.add_action("File", "&Settings…", QKeySequence("Ctrl+,"))
        self.quit_action = self.add_action("File", "&Quit", QKeySequence.StandardKey.Quit, self.close)
        # File actions added later (Import…, Models…) go above this separator, Quit stays last.
        self._quit_separator = self.menus["File"].insertSeparator(self.quit_action)
        self.stop_action = self.add_action("Edit", "&Stop", QKeySequence(Qt.Key.Key_Escape), chat.stop)
        self.edit_action = self.add_action("Edit", "&Edit last question", None, chat.edit_last)
        self.regenerate_action = self.add_action("Edit", "&Regenerate last answer", None,
                                                 chat.controller.regenerate)
        self.chat_settings_action = self.add_action("View", "&This chat's settings", QKeySequence("Ctrl+Shift+P"))
        self.chat_settings_action.setObjectName("chatSettingsAction")
        self.chat_settings_action.setCheckable(True)
        self.chat_settings_action.toggled.connect(chat.show_chat_settings)
        self.chat_settings_action.toggled.connect(self.chat_settings_button.setChecked)
        self.chat_settings_button.toggled.connect(self.chat_settings_action.setChecked)
        self.new_chat_button.clicked.connect(self.new_chat_action.trigger)
        self.settings_button.clicked.connect(self.settings_action.trigger)
        chat.busy_toggled.connect(self._on_busy)
        chat.turn_stats.connect(self.status.show_stats)
        self._on_busy(False)

    # --- extension points ---

    def menu(self, name: str) -> QMenu:
        """'File', 'Edit', 'View' or 'Help'."""
        return self.menus[name]

    def add_action(self, menu: str, text: str, shortcut=None, slot=None) -> QAction:
        """A menu action with an optional shortcut (also active when the menu is closed)."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if slot is not None:
            action.triggered.connect(lambda _checked=False: slot())
        separator = getattr(self, "_quit_separator", None)
        if menu == "File" and separator is not None:
            self.menus[menu].insertAction(separator, action)
        else:
            self.menus[menu].addAction(action)
        self.addAction(action)
        return action

    def add_to_top_bar(self, widget: QWidget) -> None:
        """Put a control in the top bar, left of the chat's title (e.g. the model picker)."""
        self._top_row.insertWidget(self._top_row.indexOf(self.new_chat_button) + 1, widget)

    def add_sidebar(self, widget: QWidget, *, width: int = 260) -> None:
        """Put a panel left of the chat (e.g. the conversation list)."""
        self.splitter.insertWidget(0, widget)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(self.splitter.count() - 1, 1)
        self.splitter.setSizes([width, max(400, self.width() - width)])
        self.splitter.setHandleWidth(6)  # wide enough to find and drag
        self.splitter.handle(1).setCursor(Qt.CursorShape.SplitHCursor)
        self.splitter.handle(1).setToolTip("Drag to resize the chat list")
        self.sidebar_action = self.add_action("View", "Show chat &list", QKeySequence("Ctrl+Shift+L"))
        self.sidebar_action.setObjectName("sidebarAction")
        self.sidebar_action.setCheckable(True)
        self.sidebar_action.setChecked(True)
        self.sidebar_action.toggled.connect(widget.setVisible)

    def show_chat_title(self, title: str) -> None:
        """The open chat's title in the header and the window title ("" for a new chat)."""
        shown = title if len(title) <= 60 else title[:59] + "…"
        self.title.setText(shown or "Ponder")
        self.title.setToolTip(title)
        self.setWindowTitle(shown)  # Qt adds " — Ponder"

    # --- internals ---

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.status.clear_speed()
        self.stop_action.setEnabled(busy)
        self.edit_action.setEnabled(not busy)
        self.regenerate_action.setEnabled(not busy)

    def _tool(self, name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        return button

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.closing.emit()
        super().closeEvent(event)
