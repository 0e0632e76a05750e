"""Run a document reader in a child process with a memory limit and a stall timeout.

A hostile file (a decompression bomb, a parser loop, a 500 MB "text" file) can only cost the
child: rlimits stop one huge allocation that RSS sampling could not pre-empt, and the parent
kills a child that sends nothing for `stall_s`. The child streams sections as it reads them, so a
long but honest document is never cut off by the stall timeout.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.documents import errors
from engine.documents.errors import DocumentError, DocumentTooLargeError, ReaderTimeoutError
from engine.documents.model import Section

Reader = Callable[[Path], Iterator[object]]


@dataclass(frozen=True)
class SandboxLimits:
    """What one reader child may use.

    Attributes:
        memory_bytes: memory limit of the child (RLIMIT_DATA; address space at four times that).
        stall_s: the child is killed when it sends nothing for this long.
        total_s: the child is killed after this long whatever it sends.
        max_chars: text beyond this is refused as too large.
    """

    memory_bytes: int = 512 * 2**20
    stall_s: float = 8.0
    total_s: float = 900.0
    max_chars: int = 20_000_000


#: How long a child may take to start (spawn, import) before the stall timeout applies.
STARTUP_S = 60.0


@dataclass(frozen=True)
class ReadResult:
    """The sections and notes a reader produced."""

    sections: tuple[Section, ...]
    notes: tuple[str, ...]


def run_sandboxed(reader: Reader, path: Path, limits: SandboxLimits,
                  cancel: threading.Event | None = None) -> ReadResult:
    """Run reader(path) in a child process; raises a DocumentError on any failure.

    reader must be a module-level function (the child imports it by name).
    """
    context = multiprocessing.get_context("spawn")  # never fork a process that has threads
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(send, reader, path, limits), daemon=True,
                            name="ponder-document-reader")
    child.start()
    send.close()
    sections: list[Section] = []
    notes: list[str] = []
    started = last = time.monotonic()
    ready = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                from engine.errors import CancelledError

                raise CancelledError()
            now = time.monotonic()
            # A spawned Python can take longer than stall_s just to start on a busy machine.
            stall_s = limits.stall_s if ready else max(limits.stall_s, STARTUP_S)
            if now - last > stall_s or now - started > limits.total_s:
                raise ReaderTimeoutError(path)
            if not receive.poll(0.05):
                continue
            try:
                message = receive.recv()
            except (EOFError, OSError):
                raise _died(path, child) from None
            last = time.monotonic()
            kind = message[0]
            if kind == "ready":
                ready = True
            elif kind == "section":
                sections.append(Section(*message[1:]))
            elif kind == "note":
                notes.append(message[1])
            elif kind == "error":
                raise _rebuild(path, message[1], message[2])
            elif kind == "done":
                return ReadResult(tuple(sections), tuple(notes))
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join(2)


def _died(path: Path, child: multiprocessing.process.BaseProcess) -> DocumentError:
    child.join(2)
    return DocumentTooLargeError(
        path, f"the reader stopped unexpectedly (exit code {child.exitcode}); the file may be damaged "
              "or need more memory than allowed")


def _rebuild(path: Path, name: str, detail: str) -> DocumentError:
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, DocumentError)):
        cls = errors.CorruptDocumentError
    return cls(path, detail)


# --- child process ---

def _child_main(conn, reader: Reader, path: Path, limits: SandboxLimits) -> None:  # noqa: ANN001
    conn.send(("ready",))  # Python has started and imported the reader: the stall clock starts
    _limit_memory(limits.memory_bytes)
    chars = 0
    try:
        for item in reader(path):
            if isinstance(item, Section):
                chars += len(item.text)
                if chars > limits.max_chars:
                    raise DocumentTooLargeError(
                        path, f"the document holds more than {limits.max_chars:,} characters of text")
                conn.send(("section", item.text, item.label, item.page))
            else:
                conn.send(("note", str(item)))
        conn.send(("done",))
    except DocumentError as exc:
        conn.send(("error", type(exc).__name__, exc.detail))
    except MemoryError:
        conn.send(("error", "DocumentTooLargeError",
                   f"reading it needs more than {limits.memory_bytes // 2**20} MB of memory"))
    except RecursionError:
        conn.send(("error", "CorruptDocumentError", "the file is nested too deeply to read"))
    except Exception as exc:  # noqa: BLE001 - any parser failure is "damaged file" to the user
        conn.send(("error", "CorruptDocumentError", f"the file is damaged or not what its name says "
                                                    f"({type(exc).__name__})"))
    finally:
        conn.close()


def _limit_memory(limit: int) -> None:
    """RLIMIT_DATA (heap and private writable mappings: the memory a reader can fill) at `limit`,
    and RLIMIT_AS at four times that as a backstop. RLIMIT_AS alone at 512 MB breaks OCR:
    onnxruntime and OpenCV reserve ~850 MB of address space that they never touch."""
    try:
        resource = importlib.import_module("resource")
    except ImportError:  # Windows: no rlimits; the stall timeout still applies
        return
    for name, value in (("RLIMIT_DATA", limit), ("RLIMIT_AS", 4 * limit)):
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, hard))
