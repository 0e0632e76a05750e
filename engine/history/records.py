"""What the store hands out: plain frozen dataclasses, never rows or dicts."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field

from engine.settings import EFFORTS

#: Marks around a search hit inside SearchHit.snippet (control characters never typed by users).
HIT_START, HIT_END = "\x02", "\x03"


class MessageStatus(enum.Enum):
    """Where a message is in its life."""

    COMPLETE = "complete"
    STREAMING = "streaming"  # being generated (or the process died while generating it)


@dataclass(frozen=True)
class MessageMeta:
    """How an assistant message was produced."""

    model: str = ""
    provider: str = ""
    finish_reason: str = ""
    stats: dict[str, float | int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredMessage:
    """One saved message."""

    id: int
    conversation_id: int
    role: str  # "user" | "assistant" | "system"
    content: str
    thinking: str
    status: MessageStatus
    created: float
    meta: MessageMeta = field(default_factory=MessageMeta)


@dataclass(frozen=True)
class ConversationSummary:
    """A row of the sidebar / `ponder history list`."""

    id: int
    uid: str
    title: str
    pinned: bool
    created: float
    updated: float
    message_count: int


@dataclass(frozen=True)
class ChatSettings:
    """A chat's own settings, saved with it; None means "the app's setting"."""

    system_prompt: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    effort: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> ChatSettings:
        """Parsed leniently: a value that is missing, of the wrong type or out of range is the default."""
        try:
            data = json.loads(text or "{}")
        except (ValueError, RecursionError):
            return cls()
        return cls.from_dict(data if isinstance(data, dict) else {})

    @classmethod
    def from_dict(cls, data: dict) -> ChatSettings:
        def number(key: str, low: float, high: float) -> float | None:
            value = data.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return None
            return float(value) if low <= value <= high else None

        prompt, effort = data.get("system_prompt"), data.get("effort")
        return cls(system_prompt=prompt if isinstance(prompt, str) else None,
                   temperature=number("temperature", 0.05, 2.0), top_p=number("top_p", 0.05, 1.0),
                   effort=effort if effort in EFFORTS else None)


@dataclass(frozen=True)
class Conversation:
    """A conversation with all its messages, oldest first, and its own settings."""

    summary: ConversationSummary
    messages: tuple[StoredMessage, ...]
    settings: ChatSettings = field(default_factory=ChatSettings)


@dataclass(frozen=True)
class SearchHit:
    """One match: a title (message_id None) or a message's text or thinking."""

    conversation_id: int
    conversation_title: str
    message_id: int | None
    field: str  # "title" | "content" | "thinking"
    snippet: str  # with HIT_START/HIT_END around each matched term

    def segments(self) -> list[tuple[str, bool]]:
        """The snippet as (text, is_hit) pieces, for highlighting without parsing markup."""
        out: list[tuple[str, bool]] = []
        rest = self.snippet
        while rest:
            start = rest.find(HIT_START)
            if start < 0:
                out.append((rest, False))
                break
            end = rest.find(HIT_END, start)
            end = len(rest) if end < 0 else end
            if start:
                out.append((rest[:start], False))
            out.append((rest[start + 1:end], True))
            rest = rest[end + 1:]
        return [piece for piece in out if piece[0]]

    @property
    def plain(self) -> str:
        """The snippet without markers."""
        return self.snippet.replace(HIT_START, "").replace(HIT_END, "")
