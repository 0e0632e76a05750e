"""read_document(): check a file, pick its reader, run it sandboxed, return a Document."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from engine.documents.errors import (
    DocumentNotFoundError,
    DocumentTooLargeError,
    EmptyDocumentError,
    NotTextError,
    UnsupportedDocumentError,
)
from engine.documents.model import Document, kind_of
from engine.documents.sandbox import SandboxLimits, run_sandboxed
from engine.documents.text import decode_text

#: Largest file accepted, by reader kind: text is all read into memory, PDF pages are streamed.
MAX_BYTES = {"text": 32 * 2**20, "markdown": 32 * 2**20, "html": 32 * 2**20, "rtf": 64 * 2**20,
             "pdf": 256 * 2**20, "docx": 64 * 2**20}


def _readers() -> dict[str, Callable]:
    from engine.documents.docx import read_docx
    from engine.documents.html import read_html
    from engine.documents.pdf import read_pdf
    from engine.documents.text import read_markdown, read_rtf, read_text

    return {"text": read_text, "markdown": read_markdown, "html": read_html, "pdf": read_pdf,
            "docx": read_docx, "rtf": read_rtf}


def read_document(path: str | Path, *, limits: SandboxLimits | None = None,
                  cancel: threading.Event | None = None) -> Document:
    """Read one file into sections; raises a DocumentError naming the file and the reason."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DocumentNotFoundError(path, "no such file" if not path.exists() else "not a file")
    kind = kind_of(path) or sniff_kind(path)
    if kind is None:
        raise UnsupportedDocumentError(
            path, "" if path.suffix else "the file is neither text nor a PDF, Word, HTML or RTF document")
    size = path.stat().st_size
    if size == 0:
        raise EmptyDocumentError(path, "the file is empty")
    if size > MAX_BYTES[kind]:
        raise DocumentTooLargeError(
            path, f"the file is {size / 2**20:,.0f} MB; the limit for this kind of file is "
                  f"{MAX_BYTES[kind] // 2**20} MB")
    result = run_sandboxed(_readers()[kind], path, limits or SandboxLimits(), cancel)
    if not any(s.text.strip() for s in result.sections):
        detail = result.notes[0].split(": ", 1)[-1] if result.notes else ""
        raise EmptyDocumentError(path, f"the document has no text to summarise{'; ' + detail if detail else ''}")
    return Document(path=path.resolve(), kind=kind, sections=result.sections, sha256=file_hash(path),
                    notes=result.notes)


#: How much of a file without a known extension is looked at to tell its kind.
SNIFF_BYTES = 64 * 1024


def sniff_kind(path: Path) -> str | None:
    """The reader for a file by its content (a name without a known extension, like GPL-3):
    the formats' own signatures, else text when its start decodes as text; None for binary."""
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return None
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in head else None  # other zip files are not documents
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:256].lower()
    if start.startswith(b"{\\rtf"):
        return "rtf"
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    try:
        decode_text(head, path)
    except NotTextError:
        return None
    return "text"


def text_document(text: str, *, name: str = "pasted text", max_chars: int | None = None) -> Document:
    """Pasted or piped text as a Document (no sandbox needed: it is already text in memory).

    Markdown headings, when there are any, become the sections' labels; else line ranges.
    """
    from engine.documents.text import _HEADING, markdown_sections, plain_sections

    limit = SandboxLimits().max_chars if max_chars is None else max_chars
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not text.strip():
        raise EmptyDocumentError(Path(name), "there is no text to summarise")
    if len(text) > limit:
        raise DocumentTooLargeError(Path(name), f"the text holds more than {limit:,} characters")
    has_headings = any(_HEADING.match(line) for line in text.split("\n", 2000)[:2000])
    sections = tuple(markdown_sections(text) if has_headings else plain_sections(text))
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
    return Document(path=Path(name), kind="text", sections=sections, sha256=digest)


def file_hash(path: Path) -> str:
    """sha256 of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def expand_inputs(items: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, and the supported files inside folders (sorted, recursively)."""
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and kind_of(p) and not p.name.startswith("."))
            if not found:
                raise EmptyDocumentError(path, "the folder holds no .txt, .md, .html, .pdf, .docx or .rtf files")
            yield from found
        else:
            yield path
