"""Hostile input: every file ends quickly, in bounded memory, with a typed error naming the file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.documents import errors
from engine.documents.reader import read_document
from engine.documents.sandbox import SandboxLimits, run_sandboxed
from tests.engine.documents import corpus


def _truncated_pdf(tmp_path: Path) -> Path:
    whole = corpus.make_pdf(tmp_path / "whole.pdf", pages=3).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(whole[: len(whole) // 3])
    return path


def _binary(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)
    return path


CORPUS = {
    "encrypted pdf": (lambda p: corpus.encrypted_pdf(p / "secret.pdf"), errors.EncryptedDocumentError, "password"),
    "garbage pdf": (lambda p: _binary(p, "garbage.pdf"), errors.CorruptDocumentError, "damaged"),
    "truncated pdf": (_truncated_pdf, errors.CorruptDocumentError, "truncated"),
    "binary as txt": (lambda p: _binary(p, "program.txt"), errors.NotTextError, "binary"),
    "binary as md": (lambda p: _binary(p, "image.md"), errors.NotTextError, "binary"),
    "empty file": (lambda p: (p / "empty.txt").open("w").close() or p / "empty.txt", errors.EmptyDocumentError, "empty"),
    "500 MB text": (lambda p: corpus.sparse_text(p / "huge.txt"), errors.DocumentTooLargeError, "500 MB"),
    "zip bomb docx": (lambda p: corpus.zip_bomb_docx(p / "bomb.docx"), errors.DocumentTooLargeError, "bomb"),
    "deflate bomb pdf": (lambda p: corpus.deflate_bomb_pdf(p / "bomb.pdf"), errors.DocumentTooLargeError, "expands"),
    "not a docx": (lambda p: _binary(p, "fake.docx"), errors.CorruptDocumentError, "Word"),
    "not an rtf": (lambda p: _binary(p, "fake.rtf"), errors.CorruptDocumentError, "RTF"),
    "unsupported": (lambda p: _binary(p, "archive.zip"), errors.UnsupportedDocumentError, "not supported"),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("case", CORPUS)
def test_hostile_file_fails_with_a_clear_typed_error(tmp_path, case):
    build, error_type, words = CORPUS[case]
    path = build(tmp_path)
    with pytest.raises(error_type) as caught:
        read_document(path)
    message = caught.value.user_message()
    assert message.startswith(path.name + ": ")
    assert words.lower() in message.lower()
    assert "\n" not in message and "Traceback" not in message


# Readers the sandbox tests run in the child (module level, so the child can import them).

def greedy_reader(path: Path):
    hoard = bytearray(1536 * 2**20)  # more than the 512 MB the child may have
    yield str(len(hoard))


def stuck_reader(path: Path):
    time.sleep(120)
    yield "never"


def crashing_reader(path: Path):
    import os

    os._exit(9)
    yield "never"


def test_the_memory_limit_stops_a_reader_that_allocates_too_much(tmp_path):
    with pytest.raises(errors.DocumentTooLargeError, match="512 MB"):
        run_sandboxed(greedy_reader, tmp_path / "x.txt", SandboxLimits())


@pytest.mark.timeout(20)
def test_a_reader_that_stops_sending_is_killed(tmp_path):
    with pytest.raises(errors.ReaderTimeoutError):
        run_sandboxed(stuck_reader, tmp_path / "x.txt", SandboxLimits(stall_s=1.0))


def test_a_reader_that_dies_is_reported_not_waited_for(tmp_path):
    with pytest.raises(errors.DocumentError, match="exit code 9"):
        run_sandboxed(crashing_reader, tmp_path / "x.txt", SandboxLimits())


def test_cancel_stops_reading(tmp_path):
    import threading

    from engine.errors import CancelledError

    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(CancelledError):
        run_sandboxed(stuck_reader, tmp_path / "x.txt", SandboxLimits(stall_s=60), cancel)


def test_text_beyond_the_character_limit_is_refused(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(("many words here " * 50 + "\n\n") * 200)
    with pytest.raises(errors.DocumentTooLargeError, match="characters"):
        read_document(path, limits=SandboxLimits(max_chars=50_000))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(errors.DocumentNotFoundError, match="no such file"):
        read_document(tmp_path / "nope.pdf")
