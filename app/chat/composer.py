"""The input area: the message box, reasoning effort, Send/Stop, an attached document, and the
'editing your last question' bar.

Enter sends, Shift+Enter adds a line. A paste too large to edit comfortably becomes an attached
document at once (never inserted into the text box, so a 10 MB paste cannot freeze the window).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.attachments import Attachment, should_attach
from app.chat.context_meter import ContextMeter

EFFORT_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "unlimited": "Unlimited"}
MAX_INPUT_LINES = 8


class ChatInput(QPlainTextEdit):
    """The message box.

    Signals:
        submitted: Enter (or Ctrl+Enter) was pressed.
        large_paste(str): pasted text too long for the box.
    """

    submitted = Signal()
    large_paste = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatInput")
        self.setAccessibleName("Message")
        self.setPlaceholderText("Ask anything…  (Enter to send, Shift+Enter for a new line)")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTabChangesFocus(True)
        self.document().documentLayout().documentSizeChanged.connect(lambda _: self._fit_height())
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if not mods & Qt.KeyboardModifier.ShiftModifier:
                self.submitted.emit()
                event.accept()
                return
        super().keyPressEvent(event)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt override
        if source.hasText():
            text = source.text()
            if should_attach(text) or should_attach(self.toPlainText() + text):
                self.large_paste.emit(text)
                return
        super().insertFromMimeData(source)

    def _fit_height(self) -> None:
        metrics = QFontMetrics(self.font())
        lines = min(max(1, int(self.document().size().height())), MAX_INPUT_LINES)
        margins = int(self.document().documentMargin() * 2) + self.contentsMargins().top() * 2 + 6
        self.setFixedHeight(lines * metrics.lineSpacing() + margins)


class Composer(QFrame):
    """Everything below the conversation.

    Signals:
        send_requested(str, object): text and Attachment | None.
        stop_requested, effort_changed(str), edit_cancelled
    """

    send_requested = Signal(str, object)
    stop_requested = Signal()
    effort_changed = Signal(str)
    edit_cancelled = Signal()

    def __init__(self, effort: str, budgets: dict[str, int | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.attachment: Attachment | None = None
        self._pastes = 0

        self.edit_bar = QFrame(self)
        self.edit_bar.setObjectName("editBar")
        edit_label = QLabel("Editing your last question: sending replaces it and its answer.", self.edit_bar)
        self.cancel_edit_button = QPushButton("Cancel", self.edit_bar)
        self.cancel_edit_button.setObjectName("cancelEditButton")
        self.cancel_edit_button.setProperty("flat", True)
        self.cancel_edit_button.setAccessibleName("Cancel editing")
        self.cancel_edit_button.clicked.connect(self._cancel_edit)
        bar = QHBoxLayout(self.edit_bar)
        bar.setContentsMargins(10, 4, 4, 4)
        bar.addWidget(edit_label, 1)
        bar.addWidget(self.cancel_edit_button)
        self.edit_bar.hide()

        self.chip = QFrame(self)
        self.chip.setObjectName("attachmentBar")
        self.chip_label = QLabel(self.chip)
        self.chip_label.setObjectName("attachmentLabel")
        self.chip_label.setWordWrap(True)
        remove = QToolButton(self.chip)
        remove.setObjectName("removeAttachmentButton")
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setAccessibleName("Remove the attached document")
        remove.setToolTip("Remove the attached document")
        remove.clicked.connect(lambda: self.set_attachment(None))
        chip_row = QHBoxLayout(self.chip)
        chip_row.setContentsMargins(10, 4, 4, 4)
        chip_row.addWidget(self.chip_label, 1)
        chip_row.addWidget(remove)
        self.chip.hide()

        self.input = ChatInput(self)
        self.input.submitted.connect(self.submit)
        self.input.large_paste.connect(self._on_large_paste)

        self.effort = QComboBox(self)
        self.effort.setObjectName("effortSelector")
        self.effort.setAccessibleName("Reasoning effort")
        for key, label in EFFORT_LABELS.items():
            self.effort.addItem(label, key)
        self.set_budgets(budgets)
        self.effort.setCurrentIndex(max(0, self.effort.findData(effort)))
        self.effort.currentIndexChanged.connect(lambda _: self.effort_changed.emit(self.effort.currentData()))

        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.setProperty("primary", True)
        self.send_button.clicked.connect(self.submit)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop generating (Esc)")
        self.stop_button.clicked.connect(self.stop_requested)
        self.stop_button.hide()

        effort_label = QLabel("Effort", self)
        effort_label.setObjectName("effortLabel")
        effort_label.setBuddy(self.effort)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(effort_label)
        controls.addWidget(self.effort)
        controls.addSpacing(12)
        self.context_meter = ContextMeter(self)
        controls.addWidget(self.context_meter)
        controls.addStretch(1)
        controls.addWidget(self.send_button)
        controls.addWidget(self.stop_button)

        self.box = QFrame(self)
        self.box.setObjectName("inputBox")
        box_layout = QVBoxLayout(self.box)
        box_layout.setContentsMargins(10, 8, 10, 8)
        box_layout.addWidget(self.input)
        box_layout.addLayout(controls)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.edit_bar)
        layout.addWidget(self.chip)
        layout.addWidget(self.box)
        self.editing = False

    # --- public ---

    def set_busy(self, busy: bool) -> None:
        """Send turns into Stop while a turn runs."""
        self.send_button.setVisible(not busy)
        self.stop_button.setVisible(busy)

    def show_effort(self, effort: str) -> None:
        """Show a chat's effort (a reopened or new chat) without emitting effort_changed, which
        means the user chose it."""
        self.effort.blockSignals(True)
        self.effort.setCurrentIndex(max(0, self.effort.findData(effort)))
        self.effort.blockSignals(False)

    def set_budgets(self, budgets: dict[str, int | None]) -> None:
        for i in range(self.effort.count()):
            tokens = budgets.get(self.effort.itemData(i))
            tip = "No limit on thinking" if tokens is None else f"Up to {tokens:,} thinking tokens"
            self.effort.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)

    def set_attachment(self, attachment: Attachment | None) -> None:
        self.attachment = attachment
        self.chip.setVisible(attachment is not None)
        if attachment is not None:
            # No emoji: many systems' fonts draw 📄 as an empty box.
            why = ("too long to paste into the message, so it is attached as a document. "
                   if attachment.pasted else "attached to your next question. ")
            self.chip_label.setText(
                f"Attached: <b>{html.escape(attachment.name)}</b> · {attachment.size_label} — {why}"
                "If it does not fit the model's context, only its beginning is sent, and you will be told."
            )

    def begin_edit(self, question: str, attachment: Attachment | None) -> None:
        """Load the last question for editing."""
        self.editing = True
        self.edit_bar.show()
        self.input.setPlainText(question)
        self.set_attachment(attachment)
        self.input.setFocus()
        self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def end_edit(self) -> None:
        self.editing = False
        self.edit_bar.hide()

    def submit(self) -> None:
        text = self.input.toPlainText()
        if not text.strip() and self.attachment is None:
            return
        self.send_requested.emit(text, self.attachment)

    def clear(self) -> None:
        self.input.clear()
        self.set_attachment(None)
        self.end_edit()

    # --- internals ---

    def _cancel_edit(self) -> None:
        self.clear()
        self.edit_cancelled.emit()

    def _on_large_paste(self, text: str) -> None:
        self._pastes += 1
        name = "pasted text.txt" if self._pastes == 1 else f"pasted text {self._pastes}.txt"
        self.set_attachment(Attachment(name, text, pasted=True))
