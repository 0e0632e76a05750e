"""Idle-time work that keeps a follow-up cheap: after a turn, the session's cache is made to
hold exactly what the next prompt will start with (the history with this answer but without its
thinking, which is never sent back). og.Engine cannot drop the thinking cheaply (a rewind
recomputes everything before it, see kv_cache.py), so the history is fed again into a new
request, in chunks, while the user reads and types; a follow-up then computes only its message.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from engine.errors import PonderError
from engine.kv_cache import common_prefix
from engine.memory import HEADROOM, STEP, KvPolicy
from engine.prompt import ChatFormat, render_prompt
from engine.request import ChatRequest, Message, Role
from engine.runtime import LoadedModel
from engine.sessions import Session


def settle_steps(og: Any, loaded: LoadedModel, session: Session, policy: KvPolicy | None) -> Generator[None, None, None]:
    """Idle-time work: make the cache hold exactly what the next turn will start with (the
    history without the last turn's thinking), fed in chunks; stops cleanly between chunks."""
    target, cache = session.settle, session.cache
    if not target:
        session.settle = None
        return
    need = len(target) + session.last_max_new
    held = cache.reusable(target, need)
    if not held:
        try:
            capacity = capacity_for(policy, loaded, len(target), session.last_max_new, cache.capacity, session.flexible)
        except PonderError:
            session.settle = None  # the next turn will say so, with its own numbers
            return
        cache.renew(og, session.engine, capacity)
    for _ in cache.feed(og, session.engine, target[len(cache.tokens):], session.buffer):
        yield
    session.settle = None


def capacity_for(policy: KvPolicy | None, loaded: LoadedModel, prompt: int, max_new: int, held: int, flexible: bool,
                 next_question: bool = True) -> int:
    """Tokens to reserve for a request (the policy's choice; need-sized steps without one)."""
    if policy is None:
        return min(loaded.max_length, _round_up(prompt + max_new + (HEADROOM if next_question else 0), STEP))
    return policy.capacity(prompt, max_new, held_tokens=held, flexible=flexible, next_question=next_question)


def next_prefix(tokenizer: Any, request: ChatRequest, fmt: ChatFormat, answer: str) -> list[int]:
    """Tokens every follow-up's prompt starts with: the history plus this answer, as the
    template renders it before the next question."""
    # Stripped, as the window sends it back (app/chat/conversation.py).
    history = request.messages + (Message(Role.ASSISTANT, answer.strip()),)
    renders = []
    for probe in ("a", "b"):
        follow = ChatRequest(messages=history + (Message(Role.USER, probe),), system_prompt=request.system_prompt)
        renders.append(tokenizer.encode(render_prompt(tokenizer, follow, fmt)).tolist())
    return renders[0][: common_prefix(*renders)]


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step
