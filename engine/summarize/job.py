"""Glue for the command line and the window: read the files, build the Summarizer for a loaded model."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.documents.errors import DocumentError
from engine.documents.model import Document
from engine.documents.reader import expand_inputs, read_document
from engine.errors import CancelledError
from engine.model_folder import ModelFolder
from engine.paths import Paths
from engine.summarize.events import Stage, SummaryEvent, SummaryProgress
from engine.summarize.pipeline import Summarizer
from engine.summarize.steps import ChatBackend
from engine.summarize.store import journal_store

if TYPE_CHECKING:
    from engine.remote.service import RemoteLoadResult
    from engine.service import LoadResult


@dataclass(frozen=True)
class ReadOutcome:
    """The documents read, and the files of a folder that were skipped (with the reason)."""

    documents: tuple[Document, ...]
    skipped: tuple[DocumentError, ...]


async def read_documents(inputs: Sequence[str | Path], *, emit: Callable[[SummaryEvent], None] = lambda e: None,
                         cancel: threading.Event | None = None, skip_unreadable: bool = False) -> ReadOutcome:
    """Read every file (and the supported files of every folder), each in its own sandbox.

    A file named explicitly that cannot be read raises its DocumentError (unless skip_unreadable,
    as in the window, where dropping five files should not fail on one); a file found inside a
    folder is skipped and reported, so one bad file does not block a whole folder. When no file
    at all can be read, the first error is raised.
    """
    named = set() if skip_unreadable else {Path(i).expanduser() for i in inputs if not Path(i).expanduser().is_dir()}
    if not inputs:
        return ReadOutcome((), ())
    files = list(expand_inputs(inputs))
    documents: list[Document] = []
    skipped: list[DocumentError] = []
    for index, path in enumerate(files, 1):
        if cancel is not None and cancel.is_set():
            raise CancelledError()
        emit(SummaryProgress(Stage.READING, index, len(files), path.name))
        try:
            documents.append(await asyncio.to_thread(read_document, path, cancel=cancel))
        except DocumentError as exc:
            if path in named:
                raise
            skipped.append(exc)
    if not documents:
        raise skipped[0]
    return ReadOutcome(tuple(documents), tuple(skipped))


def context_of(folder: ModelFolder) -> int:
    """The tokens one request may use: search.max_length capped by the context (as the engine does)."""
    search = folder.config.get("search", {})
    return int(min(search.get("max_length") or folder.context_length, folder.context_length))


#: Share of a remote model's context a summary plans with: the token counts are estimates, and
#: llama.cpp reports the trained context, which its server may run below.
REMOTE_CONTEXT_SHARE = 0.85


def remote_context(result: RemoteLoadResult) -> int:
    """The tokens a summary plans with on a remote model: what the server says (else
    DEFAULT_CONTEXT), less a safety margin for the estimated counts."""
    from engine.remote.context import DEFAULT_CONTEXT

    return int((result.context_length or DEFAULT_CONTEXT) * REMOTE_CONTEXT_SHARE)


def make_summarizer(backend: ChatBackend, model: ModelFolder | LoadResult | RemoteLoadResult,
                    paths: Paths | None) -> Summarizer:
    """A Summarizer for the loaded model (a local model's folder, or a remote model's load
    result: `Ready.result` of either kind), saving progress under the cache folder."""
    from engine.summarize.calibrate import ServedCounter
    from engine.summarize.tokens import ModelTokenCounter, TokenCounter

    store = journal_store(paths) if paths is not None else None
    folder = getattr(model, "folder", model)  # a local LoadResult holds its folder
    if isinstance(folder, ModelFolder):
        counter: TokenCounter = ModelTokenCounter(folder.path)
        context, key = context_of(folder), f"{folder.name}:{folder.path}"
    else:  # served elsewhere: no tokenizer here
        context = remote_context(model)  # type: ignore[arg-type]
        counter = ServedCounter(context)  # estimated, checked against the server's count per job
        key = f"remote:{model.endpoint.base_url}:{model.endpoint.model}"  # type: ignore[union-attr]
    return Summarizer(backend, counter, context=context, model=key, store=store)
