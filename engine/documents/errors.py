"""Why a document could not be read. Each names the file and says what to do, in one line."""

from __future__ import annotations

from pathlib import Path

from engine.errors import PonderError


class DocumentError(PonderError):
    """A document that cannot be summarised; the message starts with the file's name."""

    exit_code = 10
    reason = "cannot be read"

    def __init__(self, path: Path | str, detail: str = "") -> None:
        super().__init__(f"{path}: {detail or self.reason}")
        self.path, self.detail = Path(path), detail

    def user_message(self) -> str:
        return f"{self.path.name}: {self.detail or self.reason}"


class UnsupportedDocumentError(DocumentError):
    reason = "this kind of file is not supported (use .txt, .md, .html, .pdf, .docx or .rtf)"


class EncryptedDocumentError(DocumentError):
    reason = "the document is protected by a password; remove the protection and try again"


class CorruptDocumentError(DocumentError):
    reason = "the file is damaged or is not what its name says"


class NotTextError(DocumentError):
    reason = "the file holds binary data, not text"


class EmptyDocumentError(DocumentError):
    reason = "the document has no text to summarise"


class DocumentTooLargeError(DocumentError):
    reason = "the document is too large to read"


class ReaderTimeoutError(DocumentError):
    reason = "reading the document took too long and was stopped"


class DocumentNotFoundError(DocumentError):
    exit_code = 2
    reason = "no such file"
