"""Thinking budgets: a cap on thinking tokens, by preset or number, ended at a sentence end."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import BadRequestError

#: Default thinking tokens per effort level; the GUI's settings can override them.
PRESETS: dict[str, int | None] = {
    "low": 256,
    "medium": 1024,
    "high": 4096,
    "unlimited": None,
}


#: Tokens the thinking may run past its budget to reach the end of a sentence or paragraph,
#: so it is not cut mid-word (llama.cpp's reasoning budget cuts where it is).
BOUNDARY_GRACE = 64

#: A sentence end (. ! ? …, maybe closed by a quote or bracket) or a line end, then only spaces.
_BOUNDARY = re.compile(r"""(?:[.!?…。]["'”’)\]]?[ \t]*|\n\s*)$""")


def ends_at_boundary(tail: str) -> bool:
    """Whether decoded thinking ending in `tail` stops at a sentence or paragraph end.

    A period right after a digit counts ("…so 37+45=82."), although it may start a decimal:
    rare in thinking that has already run past its budget, and the grace ends it anyway.
    """
    return bool(_BOUNDARY.search(tail[-16:]))


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

    def should_close(self, used: int, tail: str) -> bool:
        """Whether to close the thinking now, `used` tokens in, the decoded thinking ending in
        `tail`: once the budget is spent, at the next sentence or paragraph end, and at the
        latest BOUNDARY_GRACE tokens later."""
        if self.tokens is None or used < self.tokens:
            return False
        return used >= self.tokens + BOUNDARY_GRACE or ends_at_boundary(tail)
