"""What kind of text was captured, so the popup can offer the likely action first."""

from __future__ import annotations

import enum
import re


class ContentKind(enum.Enum):
    """The broad kind of a captured text."""

    MATH = "math"
    CODE = "code"
    LONG = "long"
    SHORT = "short"
    PROSE = "prose"


#: Words that make a short text a question about numbers.
_MATH_WORDS = re.compile(
    r"\b(plus|minus|times|divided by|multiplied|sum|product|difference|quotient|solve|equation|"
    r"integral|derivative|simplify|factor|percent|square root|how many|how much)\b",
    re.IGNORECASE,
)
_EXPRESSION = re.compile(r"\d\s*[-+*/×÷^=<>]\s*[\d(a-z]|[a-z]\s*\^\s*\d|\b\d+\s*%|[∫√∑π≤≥≠]", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_CODE = re.compile(
    r"(^|\n)\s*(def |class |import |from \S+ import |function |const |let |var |#include|public |"
    r"fn |for \(|if \(|return\b)|[{};]\s*(\n|$)|=>|::|\)\s*\{"
)
LONG_WORDS = 120
SHORT_WORDS = 12


def looks_like_math(text: str) -> bool:
    """A calculation or a word problem: digits with operators, or numbers with math words."""
    sample = text[:4000]
    if not _NUMBER.search(sample) and not re.search(r"[∫√∑π]", sample):
        return False
    if _EXPRESSION.search(sample):
        return True
    return bool(_MATH_WORDS.search(sample)) and len(sample.split()) <= 200


def classify(text: str) -> ContentKind:
    """The kind of text; math wins over code, code over length."""
    if looks_like_math(text) and not _CODE.search(text[:4000]):
        return ContentKind.MATH
    if len(_CODE.findall(text[:4000])) >= 2:
        return ContentKind.CODE
    words = len(text.split())
    if words >= LONG_WORDS:
        return ContentKind.LONG
    if words <= SHORT_WORDS:
        return ContentKind.SHORT
    return ContentKind.PROSE
