"""The context meter: how much of the model's context the conversation fills, next to Effort,
and how much of the memory reserved for its KV cache that takes.

The conversation's size is the last turn's prompt plus what was generated (the thinking of
earlier turns is left out of later prompts, so only the running turn counts it). Near the limit
it warns that the oldest exchanges will soon be left out, before it happens. The engine reserves
the KV cache up front (engine/memory.py: the turn's need plus room for the next question), so the
tokens in use cost their share of that reservation; the reservation grows when it must.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from dataclasses import dataclass

from engine.events import Stats
from engine.memory import size_text

#: From this share of the context on, the meter warns.
WARN_SHARE = 0.8
BAR_WIDTH = 70


def used_tokens(stats: Stats, *, live: bool) -> int:
    """Tokens the conversation takes: the prompt, the answer, and the thinking while it runs."""
    return stats.prompt_tokens + stats.answer_tokens + (stats.thinking_tokens if live else 0)


@dataclass(frozen=True)
class KvMemory:
    """The conversation's KV cache: bytes its tokens take, and bytes the engine reserved for it."""

    used: int
    reserved: int


def kv_memory(used_tokens: int, per_token: int, reserved: int | None) -> KvMemory | None:
    """What `used_tokens` take of the reservation (None when the engine reported none)."""
    if reserved is None or per_token <= 0:
        return None
    return KvMemory(min(used_tokens * per_token, reserved), reserved)


def amount(n: int) -> str:
    """A KV size as the status bar writes it; below a megabyte (the demo model) in KB."""
    return size_text(n) if n >= 2**20 else f"{max(1, round(n / 1024)):,} KB"


def short_text(used: int, context: int, memory: KvMemory | None = None) -> str:
    """The meter's words where the full ones do not fit: '1,234 / 2,048 · 12 MB / 48 MB'."""
    text = f"{used:,} / {context:,}"
    return text + (f" · {amount(memory.used)} / {amount(memory.reserved)}" if memory is not None else "")


def meter_text(used: int, context: int, memory: KvMemory | None = None) -> tuple[str, str]:
    """('Context 1,234 / 2,048 · Memory 12 MB / 48 MB', tooltip) for the meter."""
    text = f"Context {used:,} / {context:,}"
    if used >= context * WARN_SHARE:
        tip = ("The conversation nearly fills the model's context: the oldest exchanges will "
               "be left out of the next questions. Start a new chat (Ctrl+N) to keep them all.")
    else:
        tip = "How much of the model's context this conversation uses, in tokens."
    if memory is not None:
        text += f" · Memory {amount(memory.used)} / {amount(memory.reserved)}"
        tip += (f"\nMemory: the conversation's KV cache uses {amount(memory.used)} of the "
                f"{amount(memory.reserved)} reserved for it. The reservation follows the conversation and "
                "the effort (room for the next question included) and grows when needed, within the "
                "memory that is free.")
    return text, tip


class ContextMeter(QWidget):
    """A thin bar and 'Context 1,234 / 2,048'; hidden until a model and a turn give numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contextMeter")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("contextBar")
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(BAR_WIDTH, 6)
        self.label = QLabel(self)
        self.label.setObjectName("contextText")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.bar)
        row.addWidget(self.label)
        self.context = 0
        #: (words, bar width), widest first: the first that fits is shown.
        self._forms: tuple[tuple[str, int], ...] = (("", BAR_WIDTH),)
        self.hide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # The first thing to give way in a narrow window: never over Effort or Send.
        return QSize(0, self.label.sizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self._width(*self._forms[0]), self.label.sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit(event.size().width())

    def _width(self, text: str, bar: int) -> int:
        margins = self.label.contentsMargins()
        return bar + 6 + self.label.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right() + 2

    def _fit(self, width: int) -> None:
        """The widest form that fits; too narrow to read: nothing rather than a clipped stub."""
        text, bar = next((form for form in self._forms if width >= self._width(*form)), ("", BAR_WIDTH))
        self.bar.setFixedWidth(bar)
        self.label.setText(text)
        self.bar.setVisible(bool(text))
        self.label.setVisible(bool(text))

    def set_context(self, tokens: int) -> None:
        """The loaded model's context length (0: no model)."""
        self.context = tokens
        if not tokens:
            self.hide()

    def show_usage(self, used: int, memory: KvMemory | None = None) -> None:
        """`used` tokens of the context, and (when known) what they take of the KV reservation."""
        if not self.context:
            return
        text, tip = meter_text(used, self.context, memory)
        # Narrower: short words, then the context alone, then a shorter bar (the tooltip has everything).
        alone = short_text(used, self.context)
        self._forms = ((text, BAR_WIDTH), (short_text(used, self.context, memory), BAR_WIDTH),
                       (alone, BAR_WIDTH), (alone, BAR_WIDTH // 2))
        self.setToolTip(tip)
        self.updateGeometry()
        self._fit(self.width())
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
