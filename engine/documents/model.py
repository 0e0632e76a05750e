"""What a document reader returns: sections of text, each labelled with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: File extensions the readers understand, mapped to the reader's kind.
KINDS: dict[str, str] = {
    ".txt": "text", ".text": "text", ".log": "text", ".csv": "text",
    ".md": "markdown", ".markdown": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".rtf": "rtf",
}


@dataclass(frozen=True)
class Section:
    """A run of text and the place a reader would look for it.

    Attributes:
        text: the section's text, as extracted.
        label: where it is in the document, as a person says it: "p. 3", "§ Results", "lines 1–40".
        page: the 1-based page number for paged formats (PDF), else None.
    """

    text: str
    label: str
    page: int | None = None


@dataclass(frozen=True)
class Document:
    """A whole document as sections, in reading order.

    Attributes:
        path: the file it was read from.
        kind: the reader used ("pdf", "docx", "markdown", "html", "text", "rtf").
        sections: the text, in order; never empty.
        sha256: hash of the file's bytes, to recognise the same document later (resume).
        notes: things the user should know, e.g. pages without text that OCR could not read.
    """

    path: Path
    kind: str
    sections: tuple[Section, ...]
    sha256: str
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sections)


def kind_of(path: Path) -> str | None:
    """The reader for a file name, or None when the extension is not supported."""
    return KINDS.get(path.suffix.lower())
