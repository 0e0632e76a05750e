"""Which engine session an API request runs in: the one whose cached conversation it extends.

OpenAI clients resend the whole conversation with every request. The inference worker keeps one
KV cache per session name and reuses the longest common token prefix, so a follow-up is cheap
only if it lands in the session that ran the conversation before. The router remembers, per
API session, the messages of its last request plus the answer as the client will send it back,
and sends a request to the session with the longest matching message prefix; a request that
matches none (a new conversation) takes the least recently used session. The number of API
sessions is bounded because the worker keeps only a few engines resident (the window's chat,
quick actions and summaries have their own).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from engine.request import ChatRequest, Message, Role

#: API sessions by default: with the window's own sessions this stays within the worker's four.
DEFAULT_SESSIONS = 2


@dataclass(frozen=True)
class Conversation:
    """What a session's cache holds, as messages: the extra system prompt and the turns."""

    system_prompt: str
    turns: tuple[tuple[Role, str], ...]

    @classmethod
    def of(cls, request: ChatRequest, answer: str | None = None) -> Conversation:
        """The request's conversation, plus the answer when it has one."""
        turns = tuple(_key(m) for m in request.messages)
        if answer is not None:
            turns += ((Role.ASSISTANT, answer.strip()),)
        return cls(request.system_prompt, turns)

    def shared_turns(self, other: Conversation) -> int:
        """How many leading user/assistant turns the two have in common (0 if the system differs)."""
        if self.system_prompt != other.system_prompt:
            return 0
        count = 0
        for mine, theirs in zip(self.turns, other.turns, strict=False):
            if mine != theirs:
                break
            count += 1
        return count


def _key(message: Message) -> tuple[Role, str]:
    return message.role, message.content  # earlier thinking is never sent to the model


class SessionRouter:
    """Hands out API session names (`api-0`…) by conversation; one request per session at a time.

    Used from one asyncio loop. `count` must be at least the number of requests run at once.
    """

    def __init__(self, count: int = DEFAULT_SESSIONS, prefix: str = "api-") -> None:
        if count < 1:
            raise ValueError("at least one API session is needed")
        # Least recently used first; None: nothing remembered yet.
        self._known: OrderedDict[str, Conversation | None] = OrderedDict(
            (f"{prefix}{i}", None) for i in range(count))
        self._busy: set[str] = set()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._known)

    def take(self, request: ChatRequest) -> str:
        """The session to run `request` in, marked busy until finish() is called."""
        wanted = Conversation.of(request)
        free = [name for name in self._known if name not in self._busy]
        if not free:
            raise RuntimeError("more requests at once than API sessions")
        best, best_shared = free[0], 0  # the least recently used, unless one matches
        for name in free:
            known = self._known[name]
            shared = known.shared_turns(wanted) if known is not None else 0
            # Sharing only a first message is a new conversation that starts alike: do not
            # overwrite another conversation's cache for it.
            if shared > max(best_shared, 1 if len(wanted.turns) > 1 else 0):
                best, best_shared = name, shared
        self._busy.add(best)
        self._known.move_to_end(best)
        return best

    def finish(self, name: str, request: ChatRequest, answer: str | None) -> None:
        """The request in `name` ended; `answer` is what the client got (None: no whole answer,
        so only the request's own messages are known to be cached)."""
        self._busy.discard(name)
        self._known[name] = Conversation.of(request, answer)
