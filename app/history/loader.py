"""A stored conversation turned back into the chat's exchanges (no Qt here)."""

from __future__ import annotations

from app.chat.conversation import Exchange, Phase, Reply
from engine.events import FinishReason, Stats
from engine.history.records import Conversation, MessageStatus


def exchanges_from(conversation: Conversation) -> list[tuple[Exchange, int, int | None]]:
    """(exchange, question message id, answer message id) for each question, oldest first.

    Several answers to one question (regenerated) show the last; an answer that was cut off by a
    crash shows as stopped, so it can be regenerated.
    """
    out: list[tuple[Exchange, int, int | None]] = []
    for message in conversation.messages:
        if message.role == "user":
            out.append((Exchange(message.content), message.id, None))
        elif message.role == "assistant" and out:
            exchange, question_id, _ = out[-1]
            exchange.reply = _reply(message)
            out[-1] = (exchange, question_id, message.id)
    return out


def _reply(message) -> Reply:
    reply = Reply(thinking=message.thinking, answer=message.content, phase=Phase.DONE)
    try:
        reply.finish = FinishReason(message.meta.finish_reason)
    except ValueError:
        reply.finish = FinishReason.STOP
    if message.status is MessageStatus.STREAMING:
        reply.finish = FinishReason.CANCELLED
    known = {k: v for k, v in message.meta.stats.items() if k in Stats.__dataclass_fields__}
    try:
        reply.stats = Stats(**known) if known else None
    except TypeError:
        reply.stats = None
    if reply.stats is not None:
        reply.thinking_tokens = reply.stats.thinking_tokens
        reply.answer_tokens = reply.stats.answer_tokens
    if reply.finish is FinishReason.ERROR:
        reply.phase = Phase.FAILED
        reply.error = "This answer failed."
    return reply
