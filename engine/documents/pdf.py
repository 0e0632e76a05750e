"""PDF through pypdf, one section per page; pages without a text layer go through OCR if installed.

pypdf's own limits (75 MB per decoded stream, declared-length checks) stop decompression bombs;
the sandbox's memory limit catches whatever slips past them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.documents.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EncryptedDocumentError,
)
from engine.documents.model import Section

log = logging.getLogger(__name__)

#: A page with fewer characters than this is treated as scanned and sent to OCR.
MIN_PAGE_CHARS = 16


class Note(str):
    """Something the reader wants the user to know (not document text)."""


def read_pdf(path: Path) -> Iterator[Section | Note]:
    """A .pdf file: one Section per page with text, labelled "p. N"."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        _unlock(reader, path)
        pages = reader.pages
        count = len(pages)
    except (LimitReachedError, DocumentTooLargeError) as exc:
        raise DocumentTooLargeError(path, "the PDF expands to more data than is safe to read") from exc
    except (FileNotDecryptedError, DependencyError) as exc:
        raise EncryptedDocumentError(path) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise CorruptDocumentError(path, "the PDF is damaged and cannot be opened") from exc
    if count == 0:
        raise CorruptDocumentError(path, "the PDF has no pages (it may be truncated)")
    ocr = _Ocr()
    unread: list[int] = []
    for number in range(1, count + 1):
        try:
            page = pages[number - 1]
            text = page.extract_text() or ""
        except LimitReachedError as exc:
            raise DocumentTooLargeError(path, f"page {number} expands to more data than is safe to read") from exc
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
            log.info("page %d of %s could not be read", number, path.name)
            unread.append(number)
            continue
        if len(text.strip()) < MIN_PAGE_CHARS:
            _check_bomb(page, number, path)
            text = ocr.read(page) or text
        if text.strip():
            yield Section(text.strip(), f"p. {number}", page=number)
        else:
            unread.append(number)
    if unread:
        why = "" if ocr.available else " (scanned pages need OCR: install rapidocr-onnxruntime)"
        yield Note(f"{path.name}: no text on {_pages(unread)}{why}")


def _check_bomb(page: Any, number: int, path: Path) -> None:
    """pypdf's extract_text() hides a stream that hits its size limit; name it instead."""
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    except LimitReachedError as exc:
        raise DocumentTooLargeError(
            path, f"page {number} expands to more data than is safe to read (a decompression bomb?)") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        pass  # damaged content: the page is reported as unreadable by the caller


def _unlock(reader: Any, path: Path) -> None:
    """Open PDFs that only restrict printing or copying (empty user password); refuse the rest."""
    if not reader.is_encrypted:
        return
    from pypdf import PasswordType

    if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise EncryptedDocumentError(path)


class _Ocr:
    """The screen-OCR engine (engine.capture.ocr, rapidocr-onnxruntime), loaded on the first
    scanned page only; unavailable when rapidocr is not installed."""

    def __init__(self) -> None:
        self.engine: Any = None
        self.available = True

    def read(self, page: Any) -> str:
        if not self.available:
            return ""
        try:
            images = list(page.images)
        except Exception:  # noqa: BLE001 - a broken image stream only means no OCR for this page
            return ""
        if not images:
            return ""
        import numpy as np

        from engine.capture.ocr import CaptureError, OcrEngine

        if self.engine is None:
            self.engine = OcrEngine(threads=1)
        texts: list[str] = []
        for image in images:
            try:
                texts.append(self.engine.recognise(np.asarray(image.image.convert("RGB"))).text)
            except CaptureError as exc:
                if "not installed" in str(exc):
                    self.available = False
                    return ""
                log.info("OCR failed on an image: %s", exc)
            except Exception:  # noqa: BLE001 - one unreadable image must not lose the page
                continue
        return "\n".join(t for t in texts if t.strip())


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")
    return f"pages {shown}"
