"""Plain text, Markdown and RTF: decode safely, then cut into labelled sections."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from engine.documents.errors import NotTextError
from engine.documents.model import Section

#: A plain-text section holds about this many characters (cut at paragraph ends).
SECTION_CHARS = 4000
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def decode_text(data: bytes, path: Path) -> str:
    """Bytes of a text file as str: BOM, UTF-8, UTF-16 without BOM, else Windows-1252.

    Raises NotTextError for binary data (an executable or image renamed to .txt).
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(codec, errors="replace"), path)
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        # Every other byte NUL: UTF-16 written without a byte-order mark.
        odd_nuls = sample[1::2].count(0)
        codec = "utf-16-le" if odd_nuls >= sample[0::2].count(0) else "utf-16-be"
        return _checked(data.decode(codec, errors="replace"), path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return _checked(text, path)


def _checked(text: str, path: Path) -> str:
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > max(2, len(sample) // 200):
        raise NotTextError(path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def plain_sections(text: str, *, unit: str = "lines") -> Iterator[Section]:
    """Paragraph-aligned sections of about SECTION_CHARS, labelled by line (or paragraph) range."""
    lines = text.split("\n")
    start, size, paragraph, first_paragraph, previous_blank = 0, 0, 1, 1, True
    for index, line in enumerate(lines):
        size += len(line) + 1
        blank = not line.strip()
        if blank and not previous_blank:
            paragraph += 1
        previous_blank = blank
        if blank:
            if size >= SECTION_CHARS:
                yield from _emit(lines, start, index + 1, unit, first_paragraph, paragraph - 1)
                start, size, first_paragraph = index + 1, 0, paragraph
    last = paragraph - 1 if previous_blank and paragraph > first_paragraph else paragraph
    yield from _emit(lines, start, len(lines), unit, first_paragraph, last)


def _emit(lines: list[str], start: int, end: int, unit: str, p_first: int, p_last: int) -> Iterator[Section]:
    body = "\n".join(lines[start:end]).strip()
    if not body:
        return
    while not lines[start].strip():  # label the lines that hold text, not the blank ones around it
        start += 1
    while not lines[end - 1].strip():
        end -= 1
    if unit == "paragraphs":
        label = f"para. {p_first}" if p_first == p_last else f"paras. {p_first}–{p_last}"
    else:
        label = f"line {start + 1}" if end - start == 1 else f"lines {start + 1}–{end}"
    yield Section(body, label)


def markdown_sections(text: str) -> Iterator[Section]:
    """One section per heading ("§ Heading"), ignoring '#' lines inside code fences."""
    heading, fenced = None, False
    body: list[str] = []
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match:
            yield from _markdown_section(heading, body)
            heading, body = match.group(2).strip(), [line]
        else:
            body.append(line)
    yield from _markdown_section(heading, body)


def _markdown_section(heading: str | None, body: list[str]) -> Iterator[Section]:
    text = "\n".join(body).strip()
    if not text:
        return
    if heading is None:
        # Text before the first heading: label it by lines like plain text.
        yield from plain_sections(text)
    else:
        yield Section(text, f"§ {heading}")


def read_text(path: Path) -> Iterator[Section]:
    """A .txt file."""
    yield from plain_sections(decode_text(path.read_bytes(), path))


def read_markdown(path: Path) -> Iterator[Section]:
    """A .md file."""
    yield from markdown_sections(decode_text(path.read_bytes(), path))


def read_rtf(path: Path) -> Iterator[Section]:
    """An .rtf file, through striprtf."""
    from striprtf.striprtf import rtf_to_text

    from engine.documents.errors import CorruptDocumentError

    raw = path.read_bytes().decode("latin-1")
    if not raw.lstrip().startswith("{\\rtf"):
        raise CorruptDocumentError(path, "this is not an RTF file")
    yield from plain_sections(rtf_to_text(raw, errors="replace"), unit="paragraphs")
