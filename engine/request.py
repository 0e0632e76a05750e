"""What a caller asks the engine for: messages, sampling, thinking budget."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from engine.budget import ThinkingBudget
from engine.errors import BadRequestError


class Role(enum.Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True)
class Message:
    """One message of a conversation. Assistant messages keep their thinking separately so it is
    never sent back to the model."""

    role: Role
    content: str
    thinking: str = ""


@dataclass(frozen=True)
class Sampling:
    """Search options. Microsoft's configs default to greedy (top_k=1), so every field is set
    explicitly on each turn."""

    greedy: bool = False
    temperature: float = 0.8
    top_p: float = 0.95
    top_k: int = 50

    def __post_init__(self) -> None:
        if not 0 < self.temperature <= 5:
            raise BadRequestError("Temperature must be above 0 and at most 5.")
        if not 0 < self.top_p <= 1:
            raise BadRequestError("top_p must be above 0 and at most 1.")
        if self.top_k < 0:
            raise BadRequestError("top_k must not be negative.")


@dataclass(frozen=True)
class ChatRequest:
    """One turn: the whole conversation so far, ending with the user's message."""

    messages: tuple[Message, ...]
    sampling: Sampling = field(default_factory=Sampling)
    budget: ThinkingBudget = field(default_factory=ThinkingBudget)
    #: Cap on tokens generated this turn (thinking + answer); None = what the context allows.
    max_new_tokens: int | None = None
    #: Extra system prompt, appended to the model's own.
    system_prompt: str = ""
    #: Thinking this turn already produced (a stopped turn): generation continues from it.
    resume_thinking: str | None = None
    #: With resume_thinking: close the thinking and go straight to the answer.
    close_thinking: bool = False
    #: Text written into the thinking when the budget ends it, before the closing marker
    #: (e.g. "Time to answer."), as llama.cpp's reasoning_budget_message.
    budget_message: str = ""

    def __post_init__(self) -> None:
        if not self.messages or self.messages[-1].role is not Role.USER:
            raise BadRequestError("A request must end with the user's message.")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise BadRequestError("max_new_tokens must be at least 1.")


def ask(question: str, **options: object) -> ChatRequest:
    """A one-question request (the command line's `ponder ask`)."""
    return ChatRequest(messages=(Message(Role.USER, question),), **options)  # type: ignore[arg-type]
