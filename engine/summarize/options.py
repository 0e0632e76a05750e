"""What the user asks of a summary: length, form and an optional focus question."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.errors import BadRequestError


class Length(enum.Enum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class Form(enum.Enum):
    PARAGRAPH = "paragraph"
    BULLETS = "bullets"
    KEY_POINTS = "key-points"  # key points, then action items


#: Per length: bullet points wanted, paragraphs wanted, answer tokens allowed for the final step.
_TARGETS = {Length.SHORT: (4, 1, 320), Length.MEDIUM: (7, 2, 640), Length.LONG: (12, 4, 1280)}


@dataclass(frozen=True)
class SummaryOptions:
    """Options of one summary. Invalid values raise BadRequestError when parsed."""

    length: Length = Length.MEDIUM
    form: Form = Form.BULLETS
    focus: str = ""

    @classmethod
    def parse(cls, *, length: str = "medium", form: str = "bullets", focus: str | None = None) -> SummaryOptions:
        """From the command line's or the window's strings."""
        try:
            parsed_length = Length(length.strip().lower())
        except ValueError:
            raise BadRequestError(f"Length must be short, medium or long, not '{length}'.") from None
        aliases = {"keypoints": "key-points", "key_points": "key-points", "paragraphs": "paragraph", "bullet": "bullets"}
        name = form.strip().lower()
        try:
            parsed_form = Form(aliases.get(name, name))
        except ValueError:
            raise BadRequestError(f"Form must be paragraph, bullets or key-points, not '{form}'.") from None
        focus_text = " ".join((focus or "").split())
        if len(focus_text) > 500:
            raise BadRequestError("The focus question is too long (at most 500 characters).")
        return cls(parsed_length, parsed_form, focus_text)

    @property
    def bullets(self) -> int:
        return _TARGETS[self.length][0]

    @property
    def paragraphs(self) -> int:
        return _TARGETS[self.length][1]

    @property
    def answer_tokens(self) -> int:
        return _TARGETS[self.length][2]
