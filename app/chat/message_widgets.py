"""The widgets of one exchange: the user's question and the assistant's reply."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.chat.answer_view import AnswerView
from app.chat.conversation import Exchange, Phase, Reply
from app.chat.thinking_pane import ThinkingPane
from app.markdown.math import MathImages
from app.markdown.render import MarkdownRenderer

_Part = TypeVar("_Part", bound=QWidget)

#: Longest question text shown in full; the rest is elided (it was sent in full).
MAX_SHOWN_QUESTION = 20_000


def _action(text: str, name: str, tip: str, parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setProperty("flat", True)
    button.setAccessibleName(tip)
    button.setToolTip(tip)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


def _copy_feedback(button: QPushButton, text: str) -> None:
    QGuiApplication.clipboard().setText(text)
    original = button.text()
    button.setText("Copied")
    QTimer.singleShot(1200, button, lambda: button.setText(original))


class UserMessage(QFrame):
    """The question bubble, with Copy and (on the last question) Edit.

    Signals:
        edit_requested: the user wants to edit and resend this question.
    """

    edit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userMessage")
        self.bubble = QFrame(self)
        self.bubble.setObjectName("userBubble")
        self.text = QLabel(self.bubble)
        self.text.setObjectName("userText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.attachment = QLabel(self.bubble)
        self.attachment.setObjectName("attachmentChip")
        inner = QVBoxLayout(self.bubble)
        inner.setContentsMargins(12, 8, 12, 8)
        inner.addWidget(self.text)
        inner.addWidget(self.attachment)
        self._question = ""
        self.copy_button = _action("Copy", "copyQuestionButton", "Copy the question", self)
        self.edit_button = _action("Edit", "editButton", "Edit and resend the question", self)
        self.copy_button.clicked.connect(lambda: _copy_feedback(self.copy_button, self._question))
        self.edit_button.clicked.connect(self.edit_requested)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.edit_button)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.bubble, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addLayout(actions)

    def show_exchange(self, exchange: Exchange, *, editable: bool) -> None:
        self._question = exchange.question
        shown = exchange.question
        if len(shown) > MAX_SHOWN_QUESTION:
            shown = shown[:MAX_SHOWN_QUESTION] + "…"
        if shown != self.text.text():
            self.text.setText(shown)
            self._fit_bubble()
        self.text.setVisible(bool(shown))
        att = exchange.attachment
        self.attachment.setVisible(att is not None)
        if att is not None:
            self.attachment.setText(f"Attached: {att.name} · {att.size_label}")  # 📄 is a box in many fonts
            self.attachment.setToolTip(att.notice() or "Sent in full")
        self.edit_button.setVisible(editable)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_bubble()

    def _fit_bubble(self) -> None:
        """As wide as the longest line, up to 78% of the column (QLabel alone wraps too early)."""
        available = max(120, int(self.width() * 0.78))
        key = (available, self.text.text())
        if key == getattr(self, "_fitted", None):
            return  # every message is resized when one is added: measure only what changed
        self._fitted = key
        metrics = self.text.fontMetrics()
        lines = self.text.text().splitlines()[:200] or [""]
        longest = max(metrics.horizontalAdvance(line[:2000]) for line in lines)
        self.bubble.setMaximumWidth(available)
        self.text.setMinimumWidth(min(longest + 6, available - 26))


class AssistantMessage(QFrame):
    """The reply: thinking pane, answer, notices, and Copy / Regenerate.

    Signals:
        regenerate_requested, answer_now_requested, continue_requested
    """

    regenerate_requested = Signal()
    answer_now_requested = Signal()
    continue_requested = Signal()

    def __init__(self, renderer: MarkdownRenderer, math: MathImages | None, *,
                 thinking_expanded: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assistantMessage")
        self.thinking = ThinkingPane(expanded=thinking_expanded, parent=self)
        self.thinking.answer_now_requested.connect(self.answer_now_requested)
        self.thinking.continue_requested.connect(self.continue_requested)
        self.status = QLabel(self)
        self.status.setObjectName("replyStatus")
        self.status.hide()
        # The rest is built when first shown (see _part): fewer widgets to build and style per
        # message keeps adding one to the chat quick.
        self._renderer, self._math = renderer, math
        self._parts: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.thinking)
        layout.addWidget(self.status)
        self._reply: Reply | None = None
        self._layout = layout

    _ORDER = ("answer", "error", "notices", "footer")

    def _part(self, name: str, kind: type[_Part]) -> _Part:
        """One of the parts below the thinking, built (hidden) and placed in order on first use;
        kind is the class its _build_ method makes."""
        part = self._parts.get(name)
        if part is None:
            part = getattr(self, f"_build_{name}")()
            part.hide()
            before = sum(1 for n in self._ORDER[: self._ORDER.index(name)] if n in self._parts)
            self._layout.insertWidget(2 + before, part)
            self._parts[name] = part
        assert isinstance(part, kind), f"the {name} part is a {type(part).__name__}"
        return part

    def _build_answer(self) -> QWidget:
        return AnswerView(self._renderer, self._math, self)

    def _build_error(self) -> QWidget:
        error = QLabel(self)
        error.setObjectName("replyError")
        error.setWordWrap(True)
        error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return error

    def _build_notices(self) -> QWidget:
        notices = QLabel(self)
        notices.setObjectName("replyNotice")
        notices.setWordWrap(True)
        return notices

    def _build_footer(self) -> QWidget:
        footer = QWidget(self)
        footer.setObjectName("replyFooter")
        self.copy_button = _action("Copy", "copyAnswerButton", "Copy the answer", footer)
        self.copy_button.clicked.connect(lambda: _copy_feedback(self.copy_button, self.answer.markdown))
        self.regenerate_button = _action("Regenerate", "regenerateButton", "Write a new answer", footer)
        self.regenerate_button.clicked.connect(self.regenerate_requested)
        self.stats = QLabel(footer)
        self.stats.setObjectName("replyStats")
        actions = QHBoxLayout(footer)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.regenerate_button)
        actions.addStretch(1)
        actions.addWidget(self.stats)
        return footer

    @property
    def error(self) -> QLabel:
        return self._part("error", QLabel)

    @property
    def notices(self) -> QLabel:
        return self._part("notices", QLabel)

    @property
    def answer(self) -> AnswerView:
        """The rendered answer (built on first use: a text browser is costly to build)."""
        return self._part("answer", AnswerView)

    @property
    def _answer(self) -> AnswerView | None:
        answer = self._parts.get("answer")
        return answer if isinstance(answer, AnswerView) else None

    def set_renderer(self, renderer: MarkdownRenderer) -> None:
        """New colours: re-render the answer, if there is one."""
        self._renderer = renderer
        if self._answer is not None:
            self._answer.set_renderer(renderer)

    def show_exchange(self, exchange: Exchange, *, last: bool, busy: bool, model_ready: bool) -> None:
        reply = exchange.reply
        if reply is not self._reply:
            self._reply = reply
            if self._answer is not None:
                self._answer.set_markdown("", final=True)
        # While the model loads, the status line below says so; the pane appears once it reads.
        self.thinking.setVisible(bool(reply.thinking) or (reply.thinking_live and model_ready))
        self.thinking.show_reply(reply, actionable=last and not busy)
        # Once the model is there, the thinking pane's header says the message is being read.
        self.status.setVisible(reply.phase is Phase.WAITING and not model_ready)
        self.status.setText("Waiting for the model to load…")
        if reply.answer or self._answer is not None:
            self.answer.setVisible(bool(reply.answer))
            self.answer.set_markdown(reply.answer, final=not reply.live)
        if reply.error or "error" in self._parts:
            self.error.setVisible(bool(reply.error))
            self.error.setText(reply.error)
        notes = list(exchange.notices)
        note = reply.finish_note()
        if note and not reply.resumable:
            notes.insert(0, note)
        if notes or "notices" in self._parts:
            self.notices.setVisible(bool(notes))
            self.notices.setText("\n".join(notes))
        done = not reply.live
        if done or "footer" in self._parts:
            self._part("footer", QWidget).setVisible(done)
            self.copy_button.setVisible(done and bool(reply.answer))
            self.regenerate_button.setVisible(done and last and not busy)
            self.stats.setText(_stats_text(reply) if done else "")


def _stats_text(reply: Reply) -> str:
    stats = reply.stats
    if stats is None or reply.phase is Phase.FAILED:
        return ""
    parts = [f"{reply.thinking_tokens + reply.answer_tokens:,} tokens"]
    if stats.decode_tokens_per_s:
        parts.append(f"{stats.decode_tokens_per_s:.1f} tok/s")
    return " · ".join(parts)


class ExchangeWidget(QWidget):
    """A question and its reply, stacked."""

    def __init__(self, exchange: Exchange, renderer: MarkdownRenderer, math: MathImages | None, *,
                 thinking_expanded: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exchange")
        self.exchange = exchange
        self.user = UserMessage(self)
        self.assistant = AssistantMessage(renderer, math, thinking_expanded=thinking_expanded, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.user)
        layout.addWidget(self.assistant)

    def refresh(self, *, last: bool, busy: bool, model_ready: bool) -> None:
        self.user.show_exchange(self.exchange, editable=last and not busy)
        self.assistant.show_exchange(self.exchange, last=last, busy=busy, model_ready=model_ready)
