"""A conversation as Markdown (for people) or Ponder JSON (for import), and JSON back in."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from engine.history.errors import HistoryImportError
from engine.history.records import ChatSettings, Conversation, MessageMeta, MessageStatus
from engine.history.store import HistoryStore

FORMAT = "ponder-conversation"
FORMAT_VERSION = 1
ROLES = ("user", "assistant", "system")
_SPEAKER = {"user": "You", "assistant": "Ponder", "system": "System"}


def to_markdown(conversation: Conversation) -> str:
    """Readable Markdown; each answer's thinking sits in a collapsible <details> block."""
    summary = conversation.summary
    lines = [f"# {summary.title or 'Untitled conversation'}", "",
             f"*Exported from Ponder · started {_when(summary.created)}*", ""]
    for message in conversation.messages:
        heading = _SPEAKER.get(message.role, message.role)
        source = ", ".join(part for part in (message.meta.model, message.meta.provider) if part)
        lines += [f"## {heading}" + (f" ({source})" if source else ""), ""]
        if message.thinking.strip():
            lines += ["<details>", "<summary>Thinking</summary>", "",
                      message.thinking.strip(), "", "</details>", ""]
        lines += [message.content.strip() or "*(no answer)*", ""]
        if message.status is MessageStatus.STREAMING:
            lines += ["*(this answer was interrupted)*", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_json(conversation: Conversation) -> str:
    """Ponder JSON: everything needed to import the conversation again."""
    summary = conversation.summary
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "conversation": {
            "uid": summary.uid,
            "title": summary.title,
            "pinned": summary.pinned,
            "created": summary.created,
            "updated": summary.updated,
            "settings": json.loads(conversation.settings.to_json()),
            "messages": [
                {
                    "role": m.role,
                    "content": m.content,
                    "thinking": m.thinking,
                    "created": m.created,
                    "complete": m.status is MessageStatus.COMPLETE,
                    "model": m.meta.model,
                    "provider": m.meta.provider,
                    "finish_reason": m.meta.finish_reason,
                    "stats": m.meta.stats,
                }
                for m in conversation.messages
            ],
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def import_json(store: HistoryStore, text: str, *, source: str = "the file") -> int:
    """Add a conversation from Ponder JSON; returns its new id.

    Everything is validated before anything is written. Importing the same file twice gives two
    conversations (the second gets a new uid) rather than silently merging.
    """
    conv = _validated(text, source)
    uid = conv["uid"] if conv["uid"] and store.find_uid(conv["uid"]) is None else None
    summary = store.create_conversation(conv["title"], uid=uid, created=conv["created"])
    try:
        for m in conv["messages"]:
            store.add_message(summary.id, m["role"], m["content"], thinking=m["thinking"],
                              created=m["created"], meta=m["meta"],
                              status=MessageStatus.COMPLETE if m["complete"]
                              else MessageStatus.STREAMING)
        if conv["pinned"]:
            store.set_pinned(summary.id, True)
        if conv["settings"] != ChatSettings():
            store.set_chat_settings(summary.id, conv["settings"])
    except BaseException:
        store.delete(summary.id)  # never leave half a conversation visible
        raise
    return summary.id


def _validated(text: str, source: str) -> dict[str, Any]:
    def bad(reason: str) -> HistoryImportError:
        return HistoryImportError(source, reason)

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise bad("it is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad("it is not a conversation exported by Ponder")
    if data.get("version") != FORMAT_VERSION:
        raise bad(f"its format version {data.get('version')!r} is not supported")
    conv = data.get("conversation")
    if not isinstance(conv, dict) or not isinstance(conv.get("messages"), list):
        raise bad("it has no conversation")
    messages = []
    for index, m in enumerate(conv["messages"], 1):
        if not isinstance(m, dict) or m.get("role") not in ROLES \
                or not isinstance(m.get("content", ""), str) \
                or not isinstance(m.get("thinking", ""), str):
            raise bad(f"message {index} is malformed")
        stats = m["stats"] if isinstance(m.get("stats"), dict) else {}
        messages.append({
            "role": m["role"], "content": m.get("content", ""), "thinking": m.get("thinking", ""),
            "created": _number(m.get("created")), "complete": m.get("complete", True) is not False,
            "meta": MessageMeta(model=_text(m.get("model")), provider=_text(m.get("provider")),
                                finish_reason=_text(m.get("finish_reason")),
                                stats={str(k): v for k, v in stats.items()
                                       if isinstance(v, (int, float)) or v is None}),
        })
    settings = conv.get("settings")
    return {"uid": _text(conv.get("uid")), "title": _text(conv.get("title")),
            "pinned": conv.get("pinned") is True, "created": _number(conv.get("created")),
            "settings": ChatSettings.from_dict(settings if isinstance(settings, dict) else {}),
            "messages": messages}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        return None
    return float(value) if 0 <= value < 1e11 else None


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
