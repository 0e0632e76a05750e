"""The summariser: chunk → map (key points per chunk, carrying the points so far) → reduce → cite.

A pure async function of its inputs in Orange3's TaskState style: the model comes in as a
ChatBackend, progress goes out through `emit`, and a SummaryControl stops it. Each finished step
is saved, so a stopped or crashed job resumes where it was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.documents.model import Document
from engine.errors import CancelledError, ContextTooLongError
from engine.summarize import prompts
from engine.summarize.chunking import Chunk, chunk_documents
from engine.summarize.events import PointsFound, Stage, Summary, SummaryEvent, SummaryProgress, SummaryStats
from engine.summarize.options import Form, SummaryOptions
from engine.summarize.plan import Plan, make_plan
from engine.summarize.points import Point, best_match, parse_answer, render
from engine.summarize.reduce import Reducer
from engine.summarize.sources import describe, merge
from engine.summarize.steps import ChatBackend, StepCounts, SummaryControl, run_step
from engine.summarize.store import ProgressStore, job_key, points_from_json, points_to_json
from engine.summarize.tokens import CachedCounter, TokenCounter

#: Most key points kept from one chunk.
MAX_POINTS_PER_CHUNK = 8
#: A chunk is not split below this many characters when the model's prompt needs more room.
MIN_PIECE_CHARS = 200


def _split_text(text: str, size: int) -> list[str]:
    """Consecutive pieces of at most `size` characters, cut at a space where there is one."""
    pieces = []
    while len(text) > size:
        cut = text.rfind(" ", size // 2, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


class Summarizer:
    """Summarises documents with one model. Build one per loaded model."""

    def __init__(self, backend: ChatBackend, counter: TokenCounter, *, context: int, model: str,
                 store: ProgressStore | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend, self.counter, self.context, self.model = backend, counter, context, model
        self.store, self.clock = store, clock

    async def run(self, documents: Sequence[Document], options: SummaryOptions, *,
                  emit: Callable[[SummaryEvent], None] = lambda event: None,
                  control: SummaryControl | None = None, fresh: bool = False) -> Summary:
        """The summary; a stopped job returns its partial result (Summary.partial) instead of raising.

        fresh: start over, ignoring the saved progress of an earlier run of the same job.
        """
        job = _Job(self, documents, options, emit, control or SummaryControl())
        job.fresh = fresh
        return await job.run()


class _Job:
    """State of one run."""

    def __init__(self, owner: Summarizer, documents: Sequence[Document], options: SummaryOptions,
                 emit: Callable[[SummaryEvent], None], control: SummaryControl) -> None:
        self.owner, self.documents, self.options, self.emit, self.control = owner, documents, options, emit, control
        self.counts = StepCounts()
        self.counter = CachedCounter(owner.counter)
        self.started = owner.clock()
        self.with_document = len(documents) > 1
        self.points: list[Point] = []
        self.resumed = 0
        self.key = ""
        self.state: dict[str, Any] = {"map": {}, "reduce": {}}
        self.fresh = False
        self.chunks: list[Chunk] = []

    async def run(self) -> Summary:
        owner = self.owner
        calibrate = getattr(owner.counter, "calibrate", None)  # a remote model's estimate: engine/summarize/calibrate.py
        if calibrate is not None:
            try:
                await calibrate(owner.backend, self.documents, self.control)
            except CancelledError:
                return self._summary([], partial=True)
        plan = await asyncio.to_thread(make_plan, owner.context, self.options, owner.counter)
        chunks = await asyncio.to_thread(chunk_documents, self.documents, owner.counter, plan.chunk)
        self.chunks = chunks
        self.key = job_key(self.documents, self.options, owner.model, plan.chunk)
        if owner.store is not None:
            if self.fresh:
                owner.store.discard(self.key)
            self.state = owner.store.load(self.key)
        try:
            await self._map(plan, chunks)
            reducer = Reducer(plan, self.options, self.counter, self._cached_step, self._progress)
            final = await reducer.run(self.points)
        except CancelledError:
            return self._summary(self.points, partial=True)
        if owner.store is not None:
            owner.store.discard(self.key)
        return self._summary(final, partial=False)

    # --- map ---

    async def _map(self, plan: Plan, chunks: list[Chunk]) -> None:
        total_tokens = sum(c.tokens for c in chunks) or 1
        done_tokens, spent, measured = 0, 0.0, 0
        for chunk in chunks:
            saved = self.state["map"].get(str(chunk.index))
            if saved is not None:
                found = points_from_json(saved)
                self.resumed += 1
            else:
                remaining = total_tokens - done_tokens
                eta = spent / measured * remaining if measured else None
                self._progress(Stage.SECTIONS, chunk.index + 1, len(chunks), chunk.sources, eta)
                began = self.owner.clock()
                answer = await self._map_step(plan, chunk, len(chunks))
                spent += self.owner.clock() - began
                measured += chunk.tokens
                found = _chunk_points(answer, chunk)
                self._record("map", str(chunk.index), points_to_json(found))
            done_tokens += chunk.tokens
            self.points += found
            self.emit(PointsFound(chunk.index + 1, tuple(found)))
        self.map_rate = spent / measured if measured else None

    async def _map_step(self, plan: Plan, chunk: Chunk, total: int) -> str:
        """One map request. If the model's template needs more room than planned (a long system
        prompt of its own), retry without the carried points, then in pieces that fit: every
        part of the text is read (cutting it to fit dropped the sections at its end)."""
        carried, pieces, answers = self._carried(plan.carry), [chunk.text], []
        while pieces:
            text = pieces[0]
            try:
                answers.append(await run_step(
                    self.owner.backend, self.control, self.counts,
                    prompt=prompts.map_prompt(
                        text=text, step=chunk.index + 1, total=total,
                        where=describe(chunk.sources, with_document=self.with_document),
                        carried=carried, options=self.options, max_points=MAX_POINTS_PER_CHUNK),
                    thinking=plan.map_thinking, max_new=plan.map_new))
                pieces.pop(0)
            except ContextTooLongError as exc:
                if carried:
                    carried = []
                    continue
                size = min(len(text) // 2, int(len(text) * exc.available / exc.needed * 0.9))
                if size < MIN_PIECE_CHARS:
                    raise
                pieces[:1] = _split_text(text, size)
        return "\n".join(answers)

    def _carried(self, budget: int) -> list[str]:
        """The most recent points that fit the carry budget, oldest first."""
        out: list[str] = []
        used = 0
        for point in reversed(self.points):
            cost = self.counter.count(point.text) + 3
            if used + cost > budget:
                break
            out.append(point.text)
            used += cost
        return out[::-1]

    # --- reduce, with saved answers ---

    async def _cached_step(self, prompt_key: str, prompt: str, thinking: int, max_new: int) -> str:
        saved = self.state["reduce"].get(prompt_key)
        if saved is not None:
            return saved
        answer = await run_step(self.owner.backend, self.control, self.counts, prompt=prompt,
                                thinking=thinking, max_new=max_new)
        self._record("reduce", prompt_key, answer)
        return answer

    def _progress(self, stage: Stage, step: int, total: int, sources=(), eta: float | None = None) -> None:
        if self.control.cancelled:
            raise CancelledError()
        self.emit(SummaryProgress(stage, step, total, describe(sources, with_document=self.with_document),
                                  eta, len(self.points), self.resumed))

    def _record(self, kind: str, step: str, value: Any) -> None:
        self.state[kind][step] = value
        if self.owner.store is not None:
            self.owner.store.record(self.key, kind, step, value)

    def _summary(self, points: Sequence[Point], *, partial: bool) -> Summary:
        paragraph = self.options.form is Form.PARAGRAPH and not partial
        markdown = render(points, paragraph=paragraph, with_document=self.with_document) if points else (
            "_No key points were found._\n")
        stats = SummaryStats(
            documents=len(self.documents), sections=len(self.chunks),
            map_steps=len(self.state["map"]), reduce_steps=len(self.state["reduce"]),
            resumed_steps=self.resumed, prompt_tokens=self.counts.prompt_tokens,
            generated_tokens=self.counts.generated_tokens, thinking_tokens=self.counts.thinking_tokens,
            document_tokens=sum(c.tokens for c in self.chunks),
            elapsed_s=self.owner.clock() - self.started)
        notes = tuple(n for d in self.documents for n in d.notes)
        return Summary(markdown, tuple(points), stats.sections, tuple(d.name for d in self.documents),
                       stats, partial, notes)


def _chunk_points(answer: str, chunk: Chunk) -> list[Point]:
    """Key points of one map answer, each given the section of the chunk it shares most words with."""
    by_source: dict = {}
    for part in chunk.parts:
        by_source.setdefault(part.source, []).append(part.text)
    sources = list(by_source)
    texts = ["\n".join(t) for t in by_source.values()]
    out = []
    for item in parse_answer(answer)[:MAX_POINTS_PER_CHUNK]:
        best = best_match(item.text, texts) if len(sources) > 1 else 0
        out.append(Point(item.text, (sources[best],) if best is not None else merge(sources)))
    return out
