"""Runs one summary for the window: files and options in, progress and the result out.

Qt-free (plain asyncio), like the chat's controller: the view calls start()/cancel() and
implements SummaryListener. Nothing here can raise into the event loop: every failure becomes
summary_failed(text).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

from app.errors import user_text
from engine.errors import CancelledError
from engine.summarize.events import PointsFound, Summary, SummaryProgress
from engine.summarize.options import SummaryOptions
from engine.summarize.pipeline import Summarizer
from engine.summarize.points import Point
from engine.summarize.steps import SummaryControl

log = logging.getLogger(__name__)

SummarizerFactory = Callable[[], Awaitable[Summarizer]]


class SummaryListener(Protocol):
    """What the view implements."""

    def summary_progress(self, event: SummaryProgress) -> None: ...
    def summary_points(self, points: Sequence[Point]) -> None: ...
    def summary_notes(self, notes: Sequence[str]) -> None: ...
    def summary_finished(self, summary: Summary) -> None: ...
    def summary_failed(self, text: str) -> None: ...
    def busy_changed(self, busy: bool) -> None: ...


class SummarySession:
    """One summary at a time; start() again after it ends to re-run with other options."""

    def __init__(self, summarizer: SummarizerFactory, listener: SummaryListener | None = None) -> None:
        self._factory = summarizer
        self.listener = listener
        self.control: SummaryControl | None = None
        self.task: asyncio.Task[None] | None = None
        self.points: list[Point] = []
        self.result: Summary | None = None
        self.files: list[Path] = []
        self.text: str | None = None
        self.text_name = ""

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self, files: Sequence[str | Path], options: SummaryOptions, *, fresh: bool = False,
              text: str | None = None, text_name: str = "clipboard text") -> bool:
        """Begin summarising files (or a text: pasted, from the clipboard); False while one runs."""
        if self.busy or not (files or text is not None):
            return False
        self.files = [Path(f) for f in files]
        self.text, self.text_name = text, text_name
        self.control = SummaryControl()
        self.points, self.result = [], None
        self.task = asyncio.ensure_future(self._run(self.control, options, fresh))
        self._tell(lambda view: view.busy_changed(True))
        return True

    def cancel(self) -> None:
        """Stop; the points found so far are kept (and saved, so a later run resumes)."""
        if self.control is not None:
            self.control.cancel()

    async def _run(self, control: SummaryControl, options: SummaryOptions, fresh: bool) -> None:
        from engine.summarize.job import read_documents

        try:
            outcome = await read_documents(self.files, emit=self._on_event, cancel=control.event,
                                           skip_unreadable=True)
            if self.text is not None:
                from engine.documents.reader import text_document

                pasted = text_document(self.text, name=self.text_name)
                outcome = type(outcome)((pasted, *outcome.documents), outcome.skipped)
            notes = [f"Skipped {e.user_message()}" for e in outcome.skipped]
            notes += [n for d in outcome.documents for n in d.notes]
            if notes:
                self._tell(lambda view: view.summary_notes(notes))
            summarizer = await self._factory()
            summary = await summarizer.run(outcome.documents, options, emit=self._on_event, control=control,
                                           fresh=fresh)
            self.result = summary
            self._tell(lambda view: view.summary_finished(summary))
        except (CancelledError, asyncio.CancelledError):
            self._tell(lambda view: view.summary_failed("Stopped before any section was summarised."))
        except Exception as exc:  # noqa: BLE001 - the window must survive any document or engine failure
            log.info("summary failed: %s", exc, exc_info=not type(exc).__module__.startswith("engine"))
            text = user_text(exc)
            self._tell(lambda view: view.summary_failed(text))
        finally:
            self._tell(lambda view: view.busy_changed(False))

    def _on_event(self, event: object) -> None:
        if isinstance(event, PointsFound):
            self.points += event.points
            self._tell(lambda view: view.summary_points(list(self.points)))
        elif isinstance(event, SummaryProgress):
            self._tell(lambda view: view.summary_progress(event))

    def _tell(self, call: Callable[[SummaryListener], None]) -> None:
        """Call the view (typed: a SummaryListener method, never a name in a string)."""
        if self.listener is not None:
            try:
                call(self.listener)
            except Exception:  # noqa: BLE001 - a view bug must not kill the job
                log.exception("the summary view failed")
