"""An OpenAI chat-completions body → the engine's ChatRequest, and the engine's finish → OpenAI's.

Earlier assistant turns' reasoning is dropped (the `reasoning_content`/`reasoning` fields and any
inline `<think>…</think>`), system and developer messages become the request's extra system
prompt, and the reasoning controls map onto Ponder's thinking budgets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from engine.api.errors import invalid
from engine.api.model import ServedModel
from engine.api.schema import ChatCompletionBody
from engine.budget import ThinkingBudget
from engine.errors import BadRequestError
from engine.events import FinishReason
from engine.reasoning import THINK_END, THINK_START
from engine.request import ChatRequest, Message, Role, Sampling

#: OpenAI's effort names that Ponder has no preset for, mapped onto the nearest one.
EFFORT_ALIASES = {"minimal": "low", "xhigh": "unlimited"}
_INLINE_THINKING = re.compile(re.escape(THINK_START) + r".*?(" + re.escape(THINK_END) + r"|$)", re.DOTALL)

SEED_NOTE = ("seed was ignored: onnxruntime-genai's engine takes one seed for the whole model, "
             "not one per request, so sampled answers are not reproducible per request.")


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may send (clear 400s instead of a slow failure)."""

    max_messages: int = 256
    max_prompt_chars: int = 1_000_000


@dataclass(frozen=True)
class Conversion:
    """The engine request plus what the server itself applies."""

    request: ChatRequest
    stops: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The thinking budget in force (None: unlimited; 0: no thinking).
    budget: int | None = None


def to_request(body: ChatCompletionBody, model: ServedModel, budgets: dict[str, int | None],
               limits: Limits = Limits()) -> Conversion:
    """Build the ChatRequest; raises ApiError 400 for what cannot be served."""
    if len(body.messages) > limits.max_messages:
        raise invalid(f"Too many messages ({len(body.messages)}); at most {limits.max_messages} are allowed.",
                      param="messages")
    system: list[str] = []
    messages: list[Message] = []
    for index, message in enumerate(body.messages):
        text = message.text(index)
        if message.role in ("system", "developer"):
            system.append(text)
        elif message.role == "user":
            messages.append(Message(Role.USER, text))
        elif message.role == "assistant":
            messages.append(Message(Role.ASSISTANT, _INLINE_THINKING.sub("", text).strip()))
        else:
            raise invalid(f"Messages with role '{message.role}' are not supported (no tools).",
                          param=f"messages.{index}.role")
    if not messages or messages[-1].role is not Role.USER:
        raise invalid("The last message must be the user's.", param="messages")
    chars = sum(len(m.content) for m in messages) + sum(len(s) for s in system)
    if chars > limits.max_prompt_chars:
        raise invalid(f"The messages are too long ({chars} characters; this model takes at most "
                      f"{limits.max_prompt_chars}).", param="messages", code="context_length_exceeded")
    budget = _budget(body, budgets)
    warnings = [SEED_NOTE] if body.seed is not None else []
    try:
        request = ChatRequest(
            messages=tuple(messages),
            sampling=_sampling(body, model.sampling),
            budget=ThinkingBudget(budget if budget else None),
            max_new_tokens=body.max_completion_tokens or body.max_tokens or model.max_new_tokens,
            system_prompt="\n\n".join(s for s in system if s.strip()),
            # No thinking: the prompt opens and closes the thinking, so the model answers at once.
            resume_thinking="" if budget == 0 else None,
            close_thinking=budget == 0,
            budget_message=body.reasoning_budget_message or "",
        )
    except BadRequestError as exc:
        raise invalid(exc.user_message()) from None
    return Conversion(request, list(body.stop or []), warnings, budget)


def _budget(body: ChatCompletionBody, budgets: dict[str, int | None]) -> int | None:
    """Thinking tokens allowed: an explicit number wins over the effort; no effort = medium."""
    explicit = body.max_thinking_tokens if body.max_thinking_tokens is not None else body.thinking_budget_tokens
    if explicit is not None:
        return explicit
    effort = body.reasoning_effort or "medium"
    if effort == "none":
        return 0
    return budgets.get(EFFORT_ALIASES.get(effort, effort))


def _sampling(body: ChatCompletionBody, default: Sampling) -> Sampling:
    """temperature 0 (or top_p 0) means greedy, as in OpenAI's API; unset fields keep the model's
    recommended values (greedy for the demo model)."""
    if body.temperature == 0 or body.top_p == 0:
        return replace(default, greedy=True)
    if body.temperature is None and body.top_p is None:
        return default
    return replace(default, greedy=False,
                   temperature=body.temperature if body.temperature is not None else default.temperature,
                   top_p=body.top_p if body.top_p is not None else default.top_p)


def finish_reason(reason: FinishReason, stopped_by_string: bool = False) -> str:
    """OpenAI's finish_reason: 'length' when a token cap cut the turn, else 'stop'."""
    if stopped_by_string:
        return "stop"
    return "length" if reason in (FinishReason.LENGTH, FinishReason.NO_ANSWER) else "stop"
