"""The context meter: how much of the model's context the conversation fills, next to Effort.

The conversation's size is the last turn's prompt plus what was generated (the thinking of
earlier turns is left out of later prompts, so only the running turn counts it). Near the limit
it warns that the oldest exchanges will soon be left out, before it happens.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from engine.events import Stats

#: From this share of the context on, the meter warns.
WARN_SHARE = 0.8


def used_tokens(stats: Stats, *, live: bool) -> int:
    """Tokens the conversation takes: the prompt, the answer, and the thinking while it runs."""
    return stats.prompt_tokens + stats.answer_tokens + (stats.thinking_tokens if live else 0)


def meter_text(used: int, context: int) -> tuple[str, str]:
    """('Context 1,234 / 2,048', tooltip) for the meter."""
    text = f"Context {used:,} / {context:,}"
    if used >= context * WARN_SHARE:
        return text, ("The conversation nearly fills the model's context: the oldest exchanges will "
                      "be left out of the next questions. Start a new chat (Ctrl+N) to keep them all.")
    return text, "How much of the model's context this conversation uses, in tokens."


class ContextMeter(QWidget):
    """A thin bar and 'Context 1,234 / 2,048'; hidden until a model and a turn give numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contextMeter")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("contextBar")
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(70, 6)
        self.label = QLabel(self)
        self.label.setObjectName("contextText")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.bar)
        row.addWidget(self.label)
        self.context = 0
        self.hide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # The first thing to give way in a narrow window: never over Effort or Send.
        return QSize(0, self.label.sizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.bar.width() + 6 + self.label.sizeHint().width(), self.label.sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # Too narrow to read: show nothing rather than a clipped stub.
        whole = event.size().width() >= self.sizeHint().width()
        self.bar.setVisible(whole)
        self.label.setVisible(whole)

    def set_context(self, tokens: int) -> None:
        """The loaded model's context length (0: no model)."""
        self.context = tokens
        if not tokens:
            self.hide()

    def show_usage(self, used: int) -> None:
        if not self.context:
            return
        text, tip = meter_text(used, self.context)
        self.label.setText(text)
        self.setToolTip(tip)
        warn = used >= self.context * WARN_SHARE
        self.setProperty("warn", warn)
        self.style().unpolish(self)
        self.style().polish(self)
        self.bar.setRange(0, self.context)
        self.bar.setValue(min(used, self.context))
        self.show()

    def reset(self) -> None:
        """A new chat: nothing used yet."""
        self.hide()
