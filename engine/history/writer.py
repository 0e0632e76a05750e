"""MessageWriter: saves an assistant message while it streams.

The message row is created (status "streaming") when the turn starts; text is committed at most
every `interval_s` and once more at the end. A crash therefore loses at most the last fraction
of a second of the message being generated, and never anything committed before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from engine.events import AnswerDelta, Failed, Finished, Stats, ThinkingDelta
from engine.history.records import MessageMeta, MessageStatus

if TYPE_CHECKING:
    from engine.history.store import HistoryStore


class MessageWriter:
    """Accumulates one assistant message and commits it periodically.

    Feed it engine event batches (`feed`) or text (`add_thinking`/`add_answer`), then call
    `finish()`. Each commit is one short transaction, cheap enough for every ~0.5 s.
    """

    def __init__(self, store: HistoryStore, message_id: int, *, interval_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.message_id = message_id
        self.interval_s = interval_s
        self._clock = clock
        self._thinking: list[str] = []
        self._answer: list[str] = []
        self._stats: Stats | None = None
        self._dirty = False
        self._last_commit = clock()
        self.finished = False

    @property
    def thinking(self) -> str:
        return "".join(self._thinking)

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    def add_thinking(self, text: str) -> None:
        self._thinking.append(text)
        self._dirty = True

    def add_answer(self, text: str) -> None:
        self._answer.append(text)
        self._dirty = True

    def set_text(self, thinking: str, answer: str) -> None:
        """Replace the text so far (for callers that keep the whole reply themselves)."""
        if [thinking] != self._thinking or [answer] != self._answer:
            self._thinking, self._answer = [thinking], [answer]
            self._dirty = True

    def feed(self, batch: Iterable[object], meta: MessageMeta | None = None) -> None:
        """Take one batch of engine events; commits when due, and finishes on Finished/Failed."""
        for event in batch:
            if isinstance(event, ThinkingDelta):
                self.add_thinking(event.text)
            elif isinstance(event, AnswerDelta):
                self.add_answer(event.text)
            elif isinstance(event, Stats):
                self._stats = event
            elif isinstance(event, Finished):
                self.finish(meta or MessageMeta(), finished=event)
                return
            elif isinstance(event, Failed):
                self.finish(meta or MessageMeta(), reason="error")
                return
        self.flush_if_due()

    def flush_if_due(self) -> bool:
        """Commit if there is new text and `interval_s` has passed since the last commit."""
        if self._dirty and self._clock() - self._last_commit >= self.interval_s:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        """Commit the text so far now."""
        if self.finished:
            return
        self.store._save_stream(self.message_id, self.answer, self.thinking, None,
                                MessageStatus.STREAMING)
        self._dirty = False
        self._last_commit = self._clock()

    def finish(self, meta: MessageMeta, *, finished: Finished | None = None,
               reason: str = "") -> None:
        """Commit the final text, stats and finish reason; the message is complete."""
        if self.finished:
            return
        if finished is not None:
            # The engine's final text is authoritative (it may differ from the streamed pieces
            # when the thinking was closed by the engine).
            self._thinking, self._answer = [finished.thinking], [finished.answer]
            self._stats = finished.stats
            reason = finished.reason.value
        stats = self._stats.as_dict() if self._stats is not None else dict(meta.stats)
        final = MessageMeta(model=meta.model, provider=meta.provider,
                            finish_reason=reason or meta.finish_reason, stats=stats)
        self.store._save_stream(self.message_id, self.answer, self.thinking, final,
                                MessageStatus.COMPLETE)
        self.finished = True
