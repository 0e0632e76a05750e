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
    # What the window showed when the reply ended (a continued reply counts every segment).
    shown = message.meta.stats
    reply.thought_s = _number(shown.get(SHOWN_THOUGHT_S), 0.0)
    reply.thinking_tokens = int(_number(shown.get(SHOWN_THINKING_TOKENS), reply.thinking_tokens))
    reply.answer_tokens = int(_number(shown.get(SHOWN_ANSWER_TOKENS), reply.answer_tokens))
    if reply.finish is FinishReason.ERROR:
        reply.phase = Phase.FAILED
        reply.error = "This answer failed."
    return reply


#: Keys of the figures shown live, saved with the message so a reopened chat shows the same.
SHOWN_THOUGHT_S = "shown_thought_s"
SHOWN_THINKING_TOKENS = "shown_thinking_tokens"
SHOWN_ANSWER_TOKENS = "shown_answer_tokens"


def shown_figures(reply: Reply) -> dict[str, float | int]:
    """The finished reply's figures as the window shows them, for saving with the message."""
    return {SHOWN_THOUGHT_S: round(reply.thought_s, 2), SHOWN_THINKING_TOKENS: reply.thinking_tokens,
            SHOWN_ANSWER_TOKENS: reply.answer_tokens}


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
