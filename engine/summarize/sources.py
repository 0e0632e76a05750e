"""Where a point came from, and how to say it: "p. 3", "pp. 3–5", "report.pdf p. 2; notes.md § Risks"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Source:
    """One section of one document.

    Attributes:
        doc: index of the document in the job (orders sources across documents).
        order: index of the section in its document (orders sources inside one).
        document: the document's file name.
        label: the section's label ("p. 3", "§ Methods", "lines 1–40").
        page: the page number for paged documents, else None.
    """

    doc: int
    order: int
    document: str
    label: str
    page: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"doc": self.doc, "order": self.order, "document": self.document, "label": self.label,
                "page": self.page}


def merge(sources: Iterable[Source]) -> tuple[Source, ...]:
    """Unique sources in document order."""
    return tuple(sorted(set(sources)))


def describe(sources: Iterable[Source], *, with_document: bool) -> str:
    """Human text for a set of sources: consecutive pages become ranges."""
    by_doc: dict[tuple[int, str], list[Source]] = {}
    for source in merge(sources):
        by_doc.setdefault((source.doc, source.document), []).append(source)
    parts = []
    for (_, name), items in by_doc.items():
        text = _describe_one(items)
        parts.append(f"{name} {text}" if with_document else text)
    return "; ".join(parts)


def _describe_one(items: list[Source]) -> str:
    pages = [s.page for s in items if s.page is not None]
    labels = [s.label for s in items if s.page is None]
    out = []
    if pages:
        ranges = _ranges(pages)
        plural = len(pages) > 1
        out.append(("pp. " if plural else "p. ") + ", ".join(ranges))
    out.extend(labels)
    return ", ".join(out)


def _ranges(numbers: list[int]) -> list[str]:
    out: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return out
