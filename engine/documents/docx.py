"""Word .docx through python-docx: one section per heading. The zip is checked for bombs first."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from engine.documents.errors import CorruptDocumentError, DocumentTooLargeError, EncryptedDocumentError
from engine.documents.model import Section
from engine.documents.text import plain_sections

#: Largest total unpacked size and compression ratio accepted for a .docx archive.
MAX_UNPACKED = 200 * 2**20
MAX_RATIO = 200


def check_zip(path: Path) -> None:
    """Refuse zip bombs by the sizes the archive declares (python-docx trusts them)."""
    with open(path, "rb") as file:
        magic = file.read(8)
    if magic == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # An OLE container: a password-protected .docx, or an old .doc renamed.
        raise EncryptedDocumentError(path, "the document is protected by a password or is an old "
                                           "Word (.doc) file; save it as .docx without a password")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocumentError(path, "the file is damaged or is not a Word document") from exc
    unpacked = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    if unpacked > MAX_UNPACKED or unpacked / packed > MAX_RATIO:
        raise DocumentTooLargeError(path, "the document unpacks to far more data than it holds "
                                          "(a decompression bomb?)")


def read_docx(path: Path) -> Iterator[Section]:
    """A .docx file: sections start at Title/Heading paragraphs, labelled "§ Heading"."""
    check_zip(path)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CorruptDocumentError(path, "the file is damaged or is not a Word document") from exc
    except Exception as exc:  # lxml's XMLSyntaxError and friends
        raise CorruptDocumentError(path, f"the document cannot be parsed ({type(exc).__name__})") from exc
    heading: str | None = None
    body: list[str] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = paragraph.text.strip()
        if text and (style.startswith("Heading") or style == "Title"):
            yield from _section(heading, body)
            heading, body = text, [text]
        elif text:
            body.append(text)
    yield from _section(heading, body)
    rows = ["\t".join(cell.text.strip() for cell in row.cells) for table in document.tables for row in table.rows]
    if any(r.strip() for r in rows):
        yield Section("\n".join(rows), "tables")


def _section(heading: str | None, body: list[str]) -> Iterator[Section]:
    text = "\n\n".join(body).strip()
    if not text:
        return
    if heading is None:
        yield from plain_sections(text, unit="paragraphs")
    else:
        yield Section(text, f"§ {heading}")
