"""A quick-action request as it travels from a command line or hotkey to the running Ponder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from engine.errors import BadRequestError

SOURCES: tuple[str, ...] = ("selection", "clipboard", "region", "stdin")


@dataclass(frozen=True)
class QuickRequest:
    """What to capture and (optionally) what to do with it.

    Attributes:
        source: where the text comes from (SOURCES).
        action: an action key, or "" to show the popup.
        question: for Ask.
        language: for Translate.
        text: already captured text (stdin, or handed over); None means capture from source.
        model: a model spec to use instead of the running one's; "" keeps it.
    """

    source: str = "selection"
    action: str = ""
    question: str = ""
    language: str = ""
    text: str | None = None
    model: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> QuickRequest:
        """Parse a request line; BadRequestError for anything malformed."""
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise BadRequestError(f"Malformed quick-action request: {exc}") from exc
        if not isinstance(raw, dict):
            raise BadRequestError("Malformed quick-action request.")
        fields = {k: raw[k] for k in ("source", "action", "question", "language", "text", "model") if k in raw}
        for key, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise BadRequestError(f"Malformed quick-action request: {key} must be text.")
        request = cls(**fields)
        if request.source not in SOURCES:
            raise BadRequestError(f"Unknown source '{request.source}'.")
        return request
