"""The scrolling conversation: exchanges in a centred column that follows new text.

It keeps to the bottom while the answer streams unless the user has scrolled up to read.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.chat.conversation import Exchange
from app.chat.message_widgets import ExchangeWidget

#: Widest the text column grows, for readable line lengths.
COLUMN_WIDTH = 860

EMPTY_TEXT = ("<h2>Ask Ponder anything</h2>"
              "<p>It thinks before it answers: watch the thinking as it happens, "
              "choose how hard it thinks below, and stop it at any time.</p>"
              "<p><b>Enter</b> sends · <b>Shift+Enter</b> new line · <b>Esc</b> stops</p>")


class MessageList(QScrollArea):
    """Exchange widgets, oldest first; `factory` builds one for an Exchange."""

    def __init__(self, factory: Callable[[Exchange], ExchangeWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageList")
        self.setAccessibleName("Conversation")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._factory = factory
        self.widgets: list[ExchangeWidget] = []

        canvas = QWidget()
        canvas.setObjectName("messageCanvas")
        self.column = QWidget(canvas)
        self.column.setObjectName("messageColumn")
        self.column.setMaximumWidth(COLUMN_WIDTH)
        self._column_layout = QVBoxLayout(self.column)
        self._column_layout.setContentsMargins(24, 20, 24, 20)
        self._column_layout.setSpacing(22)
        self.empty = QLabel(EMPTY_TEXT, self.column)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._column_layout.addStretch(1)
        self._column_layout.addWidget(self.empty)
        self._column_layout.addStretch(2)
        row = QHBoxLayout(canvas)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.column, 100)
        row.addStretch(1)
        self.setWidget(canvas)

        self._follow = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    def add(self, exchange: Exchange) -> ExchangeWidget:
        widget = self._factory(exchange)
        self._show_empty(False)
        # Before the trailing stretch, so the column stays top-aligned.
        self._column_layout.insertWidget(self._column_layout.count() - 1, widget)
        widget.show()  # now, not on the layout's queued show: the reply's controls work at once
        self.widgets.append(widget)
        self._follow = True
        return widget

    def widget_for(self, exchange: Exchange) -> ExchangeWidget | None:
        return next((w for w in self.widgets if w.exchange is exchange), None)

    def clear(self) -> None:
        for widget in self.widgets:
            widget.setParent(None)
            widget.deleteLater()
        self.widgets.clear()
        self._show_empty(True)

    def scroll_to_bottom(self) -> None:
        self._follow = True
        QTimer.singleShot(0, self, lambda: self.verticalScrollBar().setValue(self.verticalScrollBar().maximum()))

    def _show_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        # The leading stretch centres the welcome text; with messages it must not push them down.
        self._column_layout.setStretch(0, 1 if empty else 0)

    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
