"""Typed events from the engine to its consumers (GUI, command line).

The GUI renders by event type; nothing downstream inspects strings to decide what a piece of
text is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from engine.errors import PonderError


class FinishReason(enum.Enum):
    """Why a turn ended."""

    STOP = "stop"  # the model ended its answer
    LENGTH = "length"  # the turn's token cap was reached
    CANCELLED = "cancelled"
    THINKING_BUDGET = "thinking_budget"  # budget reached; the engine closed the thinking
    ANSWER_NOW = "answer_now"  # the user asked for the answer; the engine closed the thinking
    NO_ANSWER = "no_answer"  # generation ended inside thinking, with no answer
    ERROR = "error"


@dataclass(frozen=True)
class ThinkingDelta:
    """New reasoning text."""

    text: str


@dataclass(frozen=True)
class AnswerDelta:
    """New answer text."""

    text: str


@dataclass(frozen=True)
class PromptProgress:
    """The prompt is being read (prefilled) in chunks: `done` of `total` new tokens so far.

    Sent before the first thinking token of a long prompt, so the window can say "Reading your
    message… 1,024 / 2,037 tokens" instead of looking stuck.
    """

    done: int
    total: int


@dataclass(frozen=True)
class Stats:
    """Timing and counts for the turn so far."""

    prompt_tokens: int = 0
    #: Of prompt_tokens, how many came from the session's KV cache and how many were computed
    #: this turn (onnxruntime-genai's own usage counts).
    cached_prompt_tokens: int = 0
    computed_prompt_tokens: int = 0
    thinking_tokens: int = 0
    answer_tokens: int = 0
    time_to_first_token_s: float | None = None
    prefill_tokens_per_s: float | None = None
    decode_tokens_per_s: float | None = None
    dropped_turns: int = 0
    #: Memory the session's KV cache has reserved for this conversation (None: not known).
    kv_reserved_bytes: int | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        """Plain values for JSON output."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "cached_prompt_tokens": self.cached_prompt_tokens,
            "computed_prompt_tokens": self.computed_prompt_tokens,
            "thinking_tokens": self.thinking_tokens,
            "answer_tokens": self.answer_tokens,
            "time_to_first_token_s": self.time_to_first_token_s,
            "prefill_tokens_per_s": self.prefill_tokens_per_s,
            "decode_tokens_per_s": self.decode_tokens_per_s,
            "dropped_turns": self.dropped_turns,
            "kv_reserved_bytes": self.kv_reserved_bytes,
        }


@dataclass(frozen=True)
class Finished:
    """The turn is over; the engine is idle again."""

    reason: FinishReason
    thinking: str
    answer: str
    stats: Stats = field(default_factory=Stats)
    #: True when the engine itself closed the thinking (budget or answer-now).
    thinking_forced: bool = False


@dataclass(frozen=True)
class Failed:
    """The turn failed; always followed by nothing else."""

    error: PonderError


Event = ThinkingDelta | AnswerDelta | PromptProgress | Stats | Finished | Failed


def coalesce(events: list[Event]) -> list[Event]:
    """Merge adjacent deltas of the same kind and keep only the newest Stats.

    A fast model can produce thousands of deltas a second; consumers get one batch per frame.
    Stats are a snapshot, so the newest one goes after the deltas (before a final event).
    """
    out: list[Event] = []
    stats: Stats | None = None
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, Stats):
            stats = event
        elif isinstance(event, PromptProgress) and isinstance(last, PromptProgress):
            out[-1] = event  # only the newest count matters
        elif isinstance(event, ThinkingDelta) and isinstance(last, ThinkingDelta):
            out[-1] = ThinkingDelta(last.text + event.text)
        elif isinstance(event, AnswerDelta) and isinstance(last, AnswerDelta):
            out[-1] = AnswerDelta(last.text + event.text)
        else:
            out.append(event)
    if stats is not None:
        final = out and isinstance(out[-1], (Finished, Failed))
        out.insert(len(out) - 1 if final else len(out), stats)
    return out
