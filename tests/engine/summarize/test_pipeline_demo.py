"""The whole pipeline on the real demo model: chunks, sources, progress, cancel and resume."""

from __future__ import annotations

import pytest

from engine.assistant import Assistant
from engine.model_folder import validate_model_folder
from engine.service import InferenceService, ModelChoice
from engine.summarize.chunking import chunk_documents
from engine.summarize.events import PointsFound, Stage, SummaryProgress
from engine.summarize.job import context_of
from engine.summarize.options import SummaryOptions
from engine.summarize.pipeline import Summarizer
from engine.summarize.plan import make_plan
from engine.summarize.steps import SummaryControl
from engine.summarize.store import ProgressStore
from engine.summarize.tokens import ModelTokenCounter
from tests.engine.summarize.conftest import run

pytestmark = pytest.mark.slow


class Recording:
    """Wraps the real Assistant: counts requests and can cancel in the middle of the nth one."""

    def __init__(self, assistant: Assistant, control: SummaryControl, cancel_during: int | None = None) -> None:
        self.assistant, self.control, self.cancel_during = assistant, control, cancel_during
        self.calls = 0

    def chat(self, request):
        self.calls += 1
        turn = self.assistant.chat(request)
        if self.calls == self.cancel_during:
            self.control.cancel()  # the turn is already running on the inference thread
        return turn


async def _summarise(model_dir, documents, *, store=None, cancel_during=None, options=SummaryOptions()):
    service = InferenceService()
    try:
        assistant = Assistant(service)
        await assistant.load(ModelChoice(str(model_dir)))
        control = SummaryControl()
        backend = Recording(assistant, control, cancel_during)
        folder = validate_model_folder(model_dir)
        summarizer = Summarizer(backend, ModelTokenCounter(model_dir), context=context_of(folder),
                                model="demo", store=store)
        events = []
        summary = await summarizer.run(documents, options, emit=events.append, control=control)
        return summary, events, backend.calls
    finally:
        service.close()


def _expected_chunks(model_dir, documents, options=SummaryOptions()):
    counter = ModelTokenCounter(model_dir)
    plan = make_plan(context_of(validate_model_folder(model_dir)), options, counter)
    return chunk_documents(documents, counter, plan.chunk)


def test_a_long_pdf_is_summarised_section_by_section_with_page_sources(model_dir, report):
    chunks = _expected_chunks(model_dir, [report])
    assert len(chunks) >= 3, "the test document must be longer than one request"
    summary, events, calls = run(_summarise(model_dir, [report]))

    assert not summary.partial
    assert summary.sections == len(chunks)
    progress = [e for e in events if isinstance(e, SummaryProgress) and e.stage is Stage.SECTIONS]
    assert [(e.step, e.total) for e in progress] == [(i, len(chunks)) for i in range(1, len(chunks) + 1)]
    assert progress[0].eta_s is None and all(e.eta_s is not None and e.eta_s >= 0 for e in progress[1:])
    assert isinstance(events[-1], SummaryProgress) and events[-1].stage is Stage.WRITING
    assert calls == len(chunks) + 1  # one map step per chunk, one final reduce

    # Each section's points cite pages of that section, and those pages hold the section's text.
    found = [e for e in events if isinstance(e, PointsFound)]
    assert [e.step for e in found] == list(range(1, len(chunks) + 1))
    for event, chunk in zip(found, chunks):
        for point in event.points:
            assert point.sources and set(point.sources) <= set(chunk.sources)
        for source in chunk.sources:
            assert f"Page {source.page} discusses" in chunk.text
    # Every final point cites at least one real page.
    assert summary.points
    for point in summary.points:
        assert point.sources and all(1 <= s.page <= 6 for s in point.sources)
    assert "(p. " in summary.markdown or "(pp. " in summary.markdown


def test_cancel_keeps_the_partial_result_and_the_next_run_resumes(model_dir, report, tmp_path):
    store = ProgressStore(tmp_path / "summaries")
    chunks = _expected_chunks(model_dir, [report])
    partial, events, calls = run(_summarise(model_dir, [report], store=store, cancel_during=3))

    assert partial.partial
    found = [e for e in events if isinstance(e, PointsFound)]
    assert len(found) == 2  # sections 1 and 2 finished; 3 was stopped mid-way
    assert list(partial.points) == [p for e in found for p in e.points]
    assert partial.markdown.strip()
    assert len(list((tmp_path / "summaries").glob("*.jsonl"))) == 1

    resumed, events, calls = run(_summarise(model_dir, [report], store=store))
    assert not resumed.partial
    assert resumed.stats.resumed_steps == 2
    assert calls == len(chunks) - 2 + 1  # only the sections left, then the reduce
    first = next(e for e in events if isinstance(e, SummaryProgress) and e.stage is Stage.SECTIONS)
    assert first.step == 3 and first.resumed == 2
    assert list(resumed.points) and list((tmp_path / "summaries").glob("*.jsonl")) == []
