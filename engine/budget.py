"""Thinking budgets: a cap on thinking tokens, by preset or number."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import BadRequestError

#: Default thinking tokens per effort level; the GUI's settings can override them.
PRESETS: dict[str, int | None] = {
    "low": 256,
    "medium": 1024,
    "high": 4096,
    "unlimited": None,
}


@dataclass(frozen=True)
class ThinkingBudget:
    """At most `tokens` thinking tokens; None means no cap."""

    tokens: int | None = None

    @classmethod
    def parse(cls, value: str | int | None, presets: dict[str, int | None] | None = None) -> ThinkingBudget:
        """'low'/'medium'/'high'/'unlimited', a positive number, or None (unlimited)."""
        table = PRESETS if presets is None else presets
        if value is None:
            return cls(None)
        if isinstance(value, int):
            return cls._checked(value)
        text = str(value).strip().lower()
        if text in table:
            return cls(table[text])
        if text.isdigit():
            return cls._checked(int(text))
        names = "|".join(table)
        raise BadRequestError(f"Thinking budget must be a number or one of {names}, not '{value}'.")

    @classmethod
    def _checked(cls, tokens: int) -> ThinkingBudget:
        if tokens < 1:
            raise BadRequestError("Thinking budget must be at least 1 token.")
        return cls(tokens)

    def exhausted(self, used: int) -> bool:
        return self.tokens is not None and used >= self.tokens
