"""Points: parsed from the model's answers, attributed to sources, rendered as Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.summarize.sources import Source, describe, merge

_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,3}[.)])\s+(.*\S)\s*$")
_HEADING = re.compile(r"^\s*#{1,6}\s*(.+?)\s*#*\s*$|^\s*\*\*(.+?):?\*\*:?\s*$")
_CITE = re.compile(r"\s*[\[(]((?:\d{1,4}\s*(?:[-–,;]|and)?\s*)+)[\])]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|(?<=\])\s+(?=[A-Z\"'(])")
#: Reasoning markers a small model may repeat inside its answer: noise, not content.
_MARKERS = re.compile(r"</?think>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


@dataclass(frozen=True)
class Point:
    """One point of a summary and where it came from.

    Attributes:
        text: the point, without citation marks.
        sources: the sections it came from (never empty in a finished summary).
        group: the heading it sits under ("Key points", "Action items"), or "".
    """

    text: str
    sources: tuple[Source, ...]
    group: str = ""


@dataclass(frozen=True)
class Parsed:
    """A point as the model wrote it: text and the point numbers it cited (1-based)."""

    text: str
    cites: tuple[int, ...]
    group: str = ""


def parse_answer(answer: str) -> list[Parsed]:
    """Bullets (or sentences of prose) with their [n] citations; headings become groups."""
    out: list[Parsed] = []
    group = ""
    for line in _MARKERS.sub(" ", _CONTROL.sub("", answer)).splitlines():
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading:
            group = (heading.group(1) or heading.group(2)).strip()
            continue
        bullet = _BULLET.match(line)
        pieces = [bullet.group(1)] if bullet else _SENTENCE.split(line.strip())
        for piece in pieces:
            text, cites = _strip_cites(piece)
            if text and re.search(r"\w", text):
                out.append(Parsed(text, cites, group))
    return out


def _strip_cites(text: str) -> tuple[str, tuple[int, ...]]:
    cites: list[int] = []

    def collect(match: re.Match[str]) -> str:
        for a, b in re.findall(r"(\d+)(?:\s*[-–]\s*(\d+))?", match.group(1)):
            lo, hi = int(a), int(b or a)
            cites.extend(range(lo, min(hi, lo + 50) + 1))
        return ""

    stripped = _CITE.sub(collect, text).strip()
    stripped = re.sub(r"\s+([.,;:!?])", r"\1", stripped)
    return stripped, tuple(dict.fromkeys(cites))


def attribute(parsed: Sequence[Parsed], inputs: Sequence[Point], fallback: tuple[Source, ...]) -> list[Point]:
    """Give each parsed point the sources of the inputs it cites; uncited points go to the input
    they share most words with, and to `fallback` when they share none."""
    out = []
    for item in parsed:
        cited = [inputs[i - 1] for i in item.cites if 1 <= i <= len(inputs)]
        if cited:
            sources = merge(s for p in cited for s in p.sources)
        else:
            best = best_match(item.text, [p.text for p in inputs])
            sources = inputs[best].sources if best is not None else fallback
        out.append(Point(item.text, sources or fallback, item.group))
    return out


def best_match(text: str, candidates: Sequence[str]) -> int | None:
    """Index of the candidate sharing the most words (4+ letters) with text; None if none share any."""
    words = {w.lower() for w in _WORD.findall(text)}
    best, best_score = None, 0
    for index, candidate in enumerate(candidates):
        score = len(words & {w.lower() for w in _WORD.findall(candidate)})
        if score > best_score:
            best, best_score = index, score
    return best


def render(points: Sequence[Point], *, paragraph: bool, with_document: bool) -> str:
    """Markdown with each point's sources in parentheses."""
    lines: list[str] = []
    group = None
    prose: list[str] = []
    for point in points:
        cite = f" ({describe(point.sources, with_document=with_document)})" if point.sources else ""
        if paragraph and not point.group:
            prose.append(point.text.rstrip() + cite)
            continue
        if point.group != group:
            group = point.group
            if group:
                lines += (["", f"## {group}"] if lines else [f"## {group}"])
        lines.append(f"- {point.text}{cite}")
    if prose:
        lines.insert(0, " ".join(prose))
    return "\n".join(lines).strip() + "\n"
