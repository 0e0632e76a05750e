"""Render a conversation into the model's prompt with its chat template.

The whole history is rendered every turn (the KV cache is reused by common prefix), and
earlier turns' thinking is never sent back to the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from engine.reasoning import THINK_END, THINK_START
from engine.request import ChatRequest, Message, Role


@dataclass(frozen=True)
class ChatFormat:
    """How a model family wants its prompt; comes from the model catalog."""

    #: The model's official system prompt, sent when the template does not hard-code one.
    system_prompt: str = ""
    think_start: str = THINK_START
    think_end: str = THINK_END
    #: A Jinja template to use instead of the folder's own (None: the folder's).
    template: str | None = None
    #: Text the engine inserts to end thinking when the budget is spent.
    forced_think_end: str = THINK_END


def template_messages(
    messages: tuple[Message, ...], fmt: ChatFormat, extra_system: str = ""
) -> list[dict[str, str]]:
    """The messages as the template wants them: system first, no thinking anywhere."""
    system = " ".join(part for part in (fmt.system_prompt, extra_system.strip()) if part)
    out = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role is Role.SYSTEM:
            continue  # folded into the system message above
        out.append({"role": message.role.value, "content": message.content})
    return out


def render_prompt(tokenizer, request: ChatRequest, fmt: ChatFormat) -> str:
    """The full prompt text, including any thinking this turn already produced."""
    messages = template_messages(request.messages, fmt, request.system_prompt)
    text = tokenizer.apply_chat_template(
        json.dumps(messages), template_str=fmt.template, add_generation_prompt=True
    )
    if request.resume_thinking is not None:
        text += fmt.think_start + request.resume_thinking
        if request.close_thinking:
            text += fmt.forced_think_end
    return text
