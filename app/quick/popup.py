"""The action popup (objectName quickActions): a preview of the text and the actions for it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QCursor, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.quick_actions.actions import LANGUAGES, Action, offered_actions

PREVIEW_CHARS = 160


class ActionPopup(QFrame):
    """A small frameless window near the cursor. Esc closes it.

    Signals:
        chosen(str, str, str): action key, question, language.
    """

    chosen = Signal(str, str, str)

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("quickActions")
        self.setAccessibleName("Quick actions")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.actions_offered = offered_actions(text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(4)
        preview = " ".join(text.split())
        preview = preview[:PREVIEW_CHARS] + ("…" if len(preview) > PREVIEW_CHARS else "")
        self.preview = QLabel(preview, self)
        self.preview.setObjectName("quickPreview")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)  # screen text is never rich text
        self.preview.setWordWrap(True)
        self.preview.setMaximumWidth(340)
        self.preview.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.preview)
        self.buttons: dict[str, QPushButton] = {}
        for action in self.actions_offered:
            if action.needs_question or action.needs_language:
                continue
            button = QPushButton(action.label, self)
            button.setObjectName(f"action-{action.key}")
            button.setStyleSheet("text-align: left; padding: 4px 10px;")
            button.clicked.connect(lambda _=False, a=action: self._choose(a))
            layout.addWidget(button)
            self.buttons[action.key] = button
        row = QHBoxLayout()
        self.language = QComboBox(self)
        self.language.setObjectName("translateLanguage")
        self.language.setEditable(True)
        self.language.addItems(LANGUAGES)
        self.buttons["translate"] = QPushButton("Translate to", self)
        self.buttons["translate"].setObjectName("action-translate")
        self.buttons["translate"].clicked.connect(lambda: self._choose_key("translate"))
        row.addWidget(self.buttons["translate"])
        row.addWidget(self.language, 1)
        layout.addLayout(row)
        self.question = QLineEdit(self)
        self.question.setObjectName("quickQuestion")
        self.question.setPlaceholderText("Ask a question about the text… (Enter)")
        self.question.setClearButtonEnabled(True)
        # Wide enough for the whole placeholder (and the clear button), never cut.
        self.question.setMinimumWidth(self.question.fontMetrics().horizontalAdvance(
            self.question.placeholderText()) + 48)
        self.question.returnPressed.connect(lambda: self._choose_key("ask"))
        layout.addWidget(self.question)
        self.hint = QLabel("", self)
        self.hint.setObjectName("quickHint")
        self.hint.setStyleSheet("color: #c0392b;")
        self.hint.hide()
        layout.addWidget(self.hint)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        first = next(iter(self.buttons.values()))
        first.setDefault(True)
        first.setFocus()

    def _choose_key(self, key: str) -> None:
        self._choose(next(a for a in self.actions_offered if a.key == key))

    def _choose(self, action: Action) -> None:
        question = self.question.text().strip()
        if action.needs_question and not question:
            self.hint.setText("Type your question first.")
            self.hint.show()
            self.question.setFocus()
            return
        language = self.language.currentText().strip() if action.needs_language else ""
        self.chosen.emit(action.key, question, language)
        self.close()

    def show_near(self, point: QPoint | None = None) -> None:
        """Show next to the cursor, kept inside the screen it is on."""
        point = point or QCursor.pos()
        self.adjustSize()
        screen = QGuiApplication.screenAt(point) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        x = min(max(point.x() + 12, area.left()), area.right() - self.width())
        y = min(max(point.y() + 12, area.top()), area.bottom() - self.height())
        self.move(x, y)
        self.show()
        self.raise_()
        self.activateWindow()
