"""The conversation as plain data: what the window shows, built from the engine's typed events.

No Qt here: the controller feeds events in, widgets read the state out, and tests check the
state directly.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.chat.attachments import Attachment, with_attachment
from engine.events import AnswerDelta, Event, Failed, Finished, FinishReason, PromptProgress, Stats, ThinkingDelta
from engine.request import Message, Role


class Phase(enum.Enum):
    """Where a reply is."""

    WAITING = "waiting"  # sent; the model is loading or reading the prompt
    THINKING = "thinking"
    ANSWERING = "answering"
    DONE = "done"
    FAILED = "failed"


#: Finish reasons after which the thinking can be continued.
_RESUMABLE = (FinishReason.THINKING_BUDGET, FinishReason.ANSWER_NOW, FinishReason.NO_ANSWER)


@dataclass
class Reply:
    """One assistant reply: its thinking, its answer and how it ended."""

    thinking: str = ""
    answer: str = ""
    phase: Phase = Phase.WAITING
    thinking_tokens: int = 0
    answer_tokens: int = 0
    #: Thinking time of earlier segments (a continued reply), and when the live one started.
    thought_s: float = 0.0
    segment_started: float | None = None
    finish: FinishReason | None = None
    thinking_forced: bool = False
    error: str = ""
    stats: Stats | None = None
    #: The thinking budget of the running turn (None: unlimited), for the pane's bar.
    budget: int | None = None
    #: Prompt tokens read so far and in all, while a long prompt is read (PromptProgress).
    prompt_done: int = 0
    prompt_total: int = 0
    #: Thinking tokens of earlier segments (the engine counts each turn from zero).
    _base_tokens: int = 0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    # --- what the widgets ask ---

    @property
    def live(self) -> bool:
        return self.phase in (Phase.WAITING, Phase.THINKING, Phase.ANSWERING)

    @property
    def thinking_live(self) -> bool:
        """The model is (or is about to be) thinking: the pane's clock runs."""
        return self.phase in (Phase.WAITING, Phase.THINKING)

    def thinking_seconds(self) -> float:
        if self.thinking_live and self.segment_started is not None:
            return self.thought_s + self.clock() - self.segment_started
        return self.thought_s

    @property
    def segment_thinking_tokens(self) -> int:
        """Thinking tokens of the running (or last) engine turn: what its budget limits."""
        return self.thinking_tokens - self._base_tokens

    @property
    def resumable(self) -> bool:
        """The thinking can be continued (budget, answer-now, no answer, or stopped while thinking)."""
        if self.phase is not Phase.DONE or not self.thinking:
            return False
        if self.finish in _RESUMABLE:
            return True
        return self.finish is FinishReason.CANCELLED and not self.answer.strip()

    @property
    def needs_answer(self) -> bool:
        """Thinking and no answer: 'Answer now' makes sense."""
        return self.resumable and not self.answer.strip()

    def finish_note(self) -> str:
        """Plain words about how the reply ended, or '' when it ended normally."""
        if self.phase is not Phase.DONE:
            return ""
        reason = self.finish
        if reason is FinishReason.THINKING_BUDGET:
            return ("The thinking budget ran out, so the model was asked to answer with what it had. "
                    "The answer may be less careful.")
        if reason is FinishReason.ANSWER_NOW:
            return "You asked for the answer before the model finished thinking."
        if reason is FinishReason.NO_ANSWER:
            return "The model stopped while still thinking and gave no answer."
        if reason is FinishReason.CANCELLED:
            return "Stopped while thinking." if not self.answer.strip() else "Stopped."
        if reason is FinishReason.LENGTH:
            return "The answer was cut off at the length limit."
        return ""

    # --- fed by the controller ---

    def start(self) -> None:
        """A turn for this reply begins (first send, regenerate or continue)."""
        self.phase = Phase.WAITING
        self.segment_started = self.clock()
        self.finish, self.error = None, ""
        self.prompt_done = self.prompt_total = 0

    def continue_from_thinking(self) -> None:
        """Keep the thinking, drop the answer: the engine resumes the thinking."""
        self._base_tokens = self.thinking_tokens
        self.answer, self.answer_tokens, self.thinking_forced = "", 0, False
        self.start()

    def apply(self, event: Event) -> None:
        """Update from one engine event."""
        if isinstance(event, ThinkingDelta):
            if self.phase is Phase.WAITING:
                self.phase = Phase.THINKING
                if not self.thinking:  # thinking time starts now, not while the prompt was read
                    self.segment_started = self.clock()
            self.thinking += event.text
        elif isinstance(event, PromptProgress):
            self.prompt_done, self.prompt_total = event.done, event.total
        elif isinstance(event, AnswerDelta):
            self._end_thinking()
            self.phase = Phase.ANSWERING
            self.answer += event.text
        elif isinstance(event, Stats):
            self.stats = event
            self.thinking_tokens = self._base_tokens + event.thinking_tokens
            self.answer_tokens = event.answer_tokens
        elif isinstance(event, Finished):
            self._end_thinking()
            self.phase, self.finish = Phase.DONE, event.reason
            self.thinking, self.answer = event.thinking, event.answer
            self.thinking_forced = event.thinking_forced
            self.stats = event.stats
            self.thinking_tokens = self._base_tokens + event.stats.thinking_tokens
            self.answer_tokens = event.stats.answer_tokens
        elif isinstance(event, Failed):
            self.fail(event.error)

    def apply_cancel_before_start(self) -> None:
        """Stopped before the engine produced anything (e.g. while the model was loading)."""
        self._end_thinking()
        self.phase, self.finish = Phase.DONE, FinishReason.CANCELLED

    def fail(self, error: BaseException) -> None:
        from app.errors import user_text

        self._end_thinking()
        self.phase, self.finish = Phase.FAILED, FinishReason.ERROR
        self.error = user_text(error)

    def _end_thinking(self) -> None:
        if self.thinking_live and self.segment_started is not None:
            self.thought_s += self.clock() - self.segment_started
        self.segment_started = None


@dataclass
class Exchange:
    """A question and its reply."""

    question: str
    attachment: Attachment | None = None
    reply: Reply = field(default_factory=Reply)
    #: Told to the user under the reply (attachment cut, old turns dropped).
    notices: list[str] = field(default_factory=list)

    def user_message(self) -> Message:
        return Message(Role.USER, with_attachment(self.question, self.attachment))


@dataclass
class Conversation:
    """The exchanges of one chat, oldest first."""

    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    def messages_until(self, exchange: Exchange) -> tuple[Message, ...]:
        """The history before `exchange` plus its question. Exchanges without an answer are
        left out (a failed or stopped turn), so the model never sees two questions in a row."""
        messages: list[Message] = []
        for earlier in self.exchanges:
            if earlier is exchange:
                break
            answer = earlier.reply.answer.strip()
            if answer and earlier.reply.phase is Phase.DONE:
                messages.append(earlier.user_message())
                messages.append(Message(Role.ASSISTANT, answer, earlier.reply.thinking))
        messages.append(exchange.user_message())
        return tuple(messages)
