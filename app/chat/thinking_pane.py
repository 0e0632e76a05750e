"""The thinking pane: one per reply, reusable wherever a Reply is shown (chat, quick results).

While the model thinks, the header shows a live clock and token count and the collapsed pane
shows the newest lines scrolling by; when the answer starts it collapses to "Thought for 12.3 s ·
845 tokens" unless it is open. After a budget-forced or answerless ending it says so and offers
"Continue thinking" and "Answer now".
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QMouseEvent, QTextCursor, QTextLayout
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.conversation import Phase, Reply
from engine.events import FinishReason

#: Lines of thinking the collapsed pane shows while the model thinks.
PREVIEW_LINES = 3
#: Tallest the open pane grows before it scrolls.
MAX_OPEN_HEIGHT = 320
TICK_MS = 100


def header_text(reply: Reply) -> str:
    """'Thinking… 3.4 s · 120 tokens' while live, 'Thought for 12.3 s · 845 tokens' after."""
    seconds = reply.thinking_seconds()
    tokens = f" · {reply.thinking_tokens:,} token{'s' if reply.thinking_tokens != 1 else ''}" \
        if reply.thinking_tokens else ""
    if reply.phase is Phase.WAITING and not reply.thinking:
        if reply.prompt_total:
            return f"Reading your message… {reply.prompt_done:,} / {reply.prompt_total:,} tokens"
        return "Reading your message…"
    if reply.thinking_live:
        return f"Thinking… {seconds:.1f} s{tokens}"
    if seconds <= 0:  # not measured (a chat saved by an older Ponder): no made-up "0.0 s"
        return f"Thought{tokens}"
    if seconds < 0.1:
        return f"Thought for under 0.1 s{tokens}"
    return f"Thought for {seconds:.1f} s{tokens}"


def budget_text(reply: Reply) -> str:
    """'812 / 1,024' while a budgeted reply thinks (and after the budget ended it), else ''."""
    if reply.budget is None or not reply.thinking:
        return ""
    if not (reply.thinking_live or reply.finish is FinishReason.THINKING_BUDGET):
        return ""
    return f"{reply.segment_thinking_tokens:,} / {reply.budget:,}"


class _Header(QFrame):
    """The clickable header row."""

    clicked = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
            event.accept()
        else:
            super().mousePressEvent(event)


class ThinkingPane(QFrame):
    """Shows one Reply's thinking; call show_reply() whenever the reply changes.

    Signals:
        answer_now_requested: the user wants the answer now (live, or after an answerless end).
        continue_requested: the user wants the model to keep thinking.
        expanded_changed(bool): the pane was opened or closed.
    """

    answer_now_requested = Signal()
    continue_requested = Signal()
    expanded_changed = Signal(bool)

    def __init__(self, *, expanded: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thinkingPane")
        self._expanded = expanded
        self._reply: Reply | None = None
        self._shown = ""

        self.header = _Header(self)
        self.header.setObjectName("thinkingHeader")
        self.header.setCursor(Qt.CursorShape.PointingHandCursor)
        self.toggle = QToolButton(self.header)
        self.toggle.setObjectName("thinkingToggle")
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAccessibleName("Show or hide the thinking")
        self.toggle.clicked.connect(self._on_toggle)
        self.header.clicked.connect(self._on_toggle)
        self.live_answer_now = QPushButton("Answer now", self.header)
        self.live_answer_now.setObjectName("answerNowButton")
        self.live_answer_now.setAccessibleName("Answer now")
        self.live_answer_now.setToolTip("Stop thinking and write the answer now")
        self.live_answer_now.clicked.connect(self.answer_now_requested)
        row = QHBoxLayout(self.header)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(self.toggle)
        row.addStretch(1)
        row.addWidget(self.live_answer_now)
        self._header_row = row
        self._budget: tuple[QProgressBar, QLabel] | None = None  # built when a budget shows

        # The full text box and the notice are built when first needed: most replies are only
        # ever seen collapsed, and building them for every message made adding one slow.
        self._text: QPlainTextEdit | None = None
        self._notice: QFrame | None = None

        self.preview = QLabel(self)
        self.preview.setObjectName("thinkingPreview")
        self.preview.setWordWrap(True)
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.preview.setAccessibleName("Newest thinking")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.preview)
        self._layout = layout

        self._clock = QTimer(self)
        self._clock.setInterval(TICK_MS)
        self._clock.timeout.connect(self._refresh_header)

    # --- parts built on first use ---

    @property
    def text(self) -> QPlainTextEdit:
        """The full thinking (shown when the pane is open)."""
        if self._text is None:
            text = QPlainTextEdit(self)
            text.setObjectName("thinkingText")
            text.setReadOnly(True)
            text.setFrameShape(QFrame.Shape.NoFrame)
            text.setAccessibleName("Thinking")
            text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            text.setPlainText(self._shown)
            text.hide()
            self._layout.insertWidget(self._layout.indexOf(self.preview) + 1, text)
            self._text = text
            text.document().documentLayout().documentSizeChanged.connect(lambda _: self._fit_height())
        return self._text

    @property
    def budget_bar(self) -> QProgressBar:
        """The thinking budget filling up (with budget_text, '812 / 1,024')."""
        return self._budget_parts()[0]

    @property
    def budget_text(self) -> QLabel:
        return self._budget_parts()[1]

    def _budget_parts(self) -> tuple[QProgressBar, QLabel]:
        if self._budget is None:
            bar = QProgressBar(self.header)
            bar.setObjectName("thinkingBudget")
            bar.setTextVisible(False)
            bar.setFixedSize(80, 6)
            bar.setAccessibleName("Thinking budget used")
            label = QLabel(self.header)
            label.setObjectName("thinkingBudgetText")
            label.setToolTip("Thinking tokens used of this effort's budget")
            bar.hide()
            label.hide()
            index = self._header_row.indexOf(self.live_answer_now)
            self._header_row.insertWidget(index, label)
            self._header_row.insertWidget(index, bar)
            self._budget = (bar, label)
        return self._budget

    @property
    def notice(self) -> QFrame:
        """How the thinking ended, with Continue thinking / Answer now."""
        if self._notice is None:
            notice = QFrame(self)
            notice.setObjectName("thinkingNotice")
            self.notice_label = QLabel(notice)
            self.notice_label.setObjectName("thinkingNoticeText")
            self.notice_label.setWordWrap(True)
            self.continue_button = QPushButton("Continue thinking", notice)
            self.continue_button.setObjectName("continueThinkingButton")
            self.continue_button.setAccessibleName("Continue thinking")
            self.continue_button.clicked.connect(self.continue_requested)
            self.notice_answer_now = QPushButton("Answer now", notice)
            self.notice_answer_now.setObjectName("noticeAnswerNowButton")
            self.notice_answer_now.setAccessibleName("Answer now from this thinking")
            self.notice_answer_now.clicked.connect(self.answer_now_requested)
            row = QHBoxLayout(notice)
            row.setContentsMargins(10, 6, 6, 6)
            row.addWidget(self.notice_label, 1)
            row.addWidget(self.continue_button)
            row.addWidget(self.notice_answer_now)
            notice.hide()
            self._layout.addWidget(notice)
            self._notice = notice
        return self._notice

    def __getattr__(self, name: str):
        # notice_label, continue_button, notice_answer_now exist once the notice does.
        if name in ("notice_label", "continue_button", "notice_answer_now"):
            self.notice  # noqa: B018 - builds them
            return self.__dict__[name]
        raise AttributeError(name)

    # --- public ---

    @property
    def expanded(self) -> bool:
        return self._expanded

    def set_expanded(self, expanded: bool) -> None:
        """Open or close the pane (as a click does)."""
        if expanded != self._expanded:
            self._expanded = expanded
            self._layout_mode()
            self.expanded_changed.emit(expanded)

    def show_reply(self, reply: Reply, *, actionable: bool = True) -> None:
        """Render the reply's thinking state.

        actionable: "Continue thinking" and "Answer now" may be offered (the chat's last reply,
        with no turn running); on older replies they would act on another one.
        """
        self._reply = reply
        self._sync_text(reply.thinking)
        if reply.live and reply.thinking_live:
            if not self._clock.isActive():
                self._clock.start()
        else:
            self._clock.stop()
        self.live_answer_now.setVisible(reply.thinking_live)
        note = reply.finish_note() if reply.resumable else ""
        if note or self._notice is not None:
            self.notice_label.setText(note)
            self.notice.setVisible(bool(note))
            self.continue_button.setVisible(actionable and reply.resumable)
            self.notice_answer_now.setVisible(actionable and reply.needs_answer)
        self._refresh_header()
        self._layout_mode()

    # --- internals ---

    def _on_toggle(self) -> None:
        self.set_expanded(not self._expanded)

    def _sync_text(self, thinking: str) -> None:
        if thinking == self._shown:
            return
        text = self._text
        if text is None:  # not built yet: it takes the whole thinking when it is
            self._shown = thinking
            self._update_preview()
            return
        bar = text.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        if self._shown and thinking.startswith(self._shown):
            cursor = QTextCursor(text.document())
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(thinking[len(self._shown):])
        else:
            text.setPlainText(thinking)
        self._shown = thinking
        self._update_preview()
        if at_bottom:
            bar.setValue(bar.maximum())

    def _update_preview(self) -> None:
        width = self.preview.width() - 24  # the stylesheet's horizontal padding
        lines = last_lines(_tail(self._shown), self.preview.font(), max(80, width), PREVIEW_LINES)
        self.preview.setText("\n".join(lines))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.preview.isVisible():
            self._update_preview()
        if self._expanded and event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self, self._fit_height)  # after the text box took its new width

    def _previewing(self) -> bool:
        return self._reply is not None and self._reply.thinking_live and not self._expanded

    def _refresh_header(self) -> None:
        reply = self._reply
        if reply is None:
            return
        self.toggle.setText(header_text(reply))
        text = budget_text(reply)
        if not text and self._budget is None:
            return
        self.budget_bar.setVisible(bool(text))
        self.budget_text.setVisible(bool(text))
        if text:
            self.budget_bar.setRange(0, reply.budget or 1)
            self.budget_bar.setValue(min(reply.segment_thinking_tokens, reply.budget or 1))
            self.budget_text.setText(text)

    def _layout_mode(self) -> None:
        reply = self._reply
        has_text = bool(self._shown.strip())
        preview = self._previewing() and has_text
        if self._expanded and has_text:
            self.text.setVisible(True)
        elif self._text is not None:
            self._text.setVisible(False)
        self.preview.setVisible(preview)
        if preview:
            self._update_preview()
        self.preview.setFixedHeight(QFontMetrics(self.preview.font()).lineSpacing() * PREVIEW_LINES + 8)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if self._expanded else Qt.ArrowType.RightArrow)
        self.toggle.setIconSize(QSize(10, 10))
        self.setProperty("live", bool(reply and reply.thinking_live))
        self._fit_height()

    def _fit_height(self) -> None:
        if self._text is None:
            return
        # Count the wrapped lines at the width shown now: the document's own line count lags
        # behind a narrowing (QPlainTextEdit lays out blocks lazily) and the last line was cut.
        metrics = QFontMetrics(self.text.font())
        margin = self.text.document().documentMargin()
        margins = int(margin * 2) + 6
        width = max(40, self.text.viewport().width() - int(margin * 2))
        most = MAX_OPEN_HEIGHT // max(1, metrics.lineSpacing()) + 1
        lines = wrapped_line_count(self._shown, self.text.font(), width, most) if self._shown else 1
        height = min(lines * metrics.lineSpacing() + margins, MAX_OPEN_HEIGHT)
        self.text.setFixedHeight(max(height, metrics.lineSpacing() + margins))


def last_lines(text: str, font: QFont, width: int, count: int) -> list[str]:
    """The last `count` lines of text as it wraps at `width` pixels."""
    lines: list[str] = []
    for paragraph in text.splitlines()[-count:]:
        layout = QTextLayout(paragraph, font)
        layout.beginLayout()
        while (line := layout.createLine()).isValid():
            line.setLineWidth(width)
            lines.append(paragraph[line.textStart(): line.textStart() + line.textLength()].rstrip())
        layout.endLayout()
    return lines[-count:]


def wrapped_line_count(text: str, font: QFont, width: int, most: int) -> int:
    """How many lines text takes wrapped at `width` pixels (counting stops at `most`)."""
    count = 0
    for paragraph in text.split("\n"):
        layout = QTextLayout(paragraph, font)
        layout.beginLayout()
        while (line := layout.createLine()).isValid():
            line.setLineWidth(width)
            count += 1
        layout.endLayout()
        if count >= most:
            return most
    return max(1, count)


def _tail(text: str, chars: int = 600) -> str:
    """The end of the thinking, from a line start, without blank lines (the preview's text)."""
    tail = text[-chars:]
    if len(text) > chars and "\n" in tail:
        tail = tail.split("\n", 1)[1]
    return "\n".join(line for line in tail.splitlines() if line.strip())
