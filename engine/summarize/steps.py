"""One model step of a summary (a map or reduce request) and the job's cancel switch."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from engine.budget import ThinkingBudget
from engine.errors import CancelledError
from engine.events import Failed, Finished, FinishReason
from engine.request import ChatRequest, Message, Role, Sampling
from engine.summarize.prompts import SYSTEM


class ChatBackend(Protocol):
    """What the summariser needs of the engine: engine.assistant.Assistant implements it."""

    def chat(self, request: ChatRequest) -> Any:
        """Start a turn: an async iterator of event batches with a cancel() method."""
        ...


class SummaryControl:
    """Stop switch shared by the caller (Cancel button, Ctrl-C) and the running job."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._turn: Any = None

    def cancel(self) -> None:
        """Stop after (or in the middle of) the current step; the job returns its partial result."""
        self.event.set()
        turn = self._turn
        if turn is not None:
            turn.cancel()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()


@dataclass
class StepCounts:
    """Running token totals over the steps of one job."""

    steps: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    thinking_tokens: int = 0


async def run_step(backend: ChatBackend, control: SummaryControl, counts: StepCounts, *,
                   prompt: str, thinking: int | None, max_new: int) -> str:
    """Send one request and return the answer text; raises CancelledError or the engine's error."""
    if control.cancelled:
        raise CancelledError()
    request = ChatRequest(
        messages=(Message(Role.USER, prompt),),
        sampling=Sampling(greedy=True),  # a summary should be reproducible, and resumable
        budget=ThinkingBudget(thinking),
        max_new_tokens=max_new,
        system_prompt=SYSTEM,
    )
    turn = backend.chat(request)
    control._turn = turn
    try:
        if control.cancelled:
            turn.cancel()
        async for batch in turn:
            for event in batch:
                if isinstance(event, Failed):
                    raise event.error
                if isinstance(event, Finished):
                    if event.reason is FinishReason.CANCELLED:
                        raise CancelledError()
                    counts.steps += 1
                    counts.prompt_tokens += event.stats.prompt_tokens
                    counts.thinking_tokens += event.stats.thinking_tokens
                    counts.generated_tokens += event.stats.thinking_tokens + event.stats.answer_tokens
                    return event.answer
        raise CancelledError()  # the stream ended without a final event: treat as stopped
    finally:
        control._turn = None
