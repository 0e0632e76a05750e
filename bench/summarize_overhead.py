"""Summary overhead: `ponder summarize` on a 100-page PDF vs bare prefill + decode of the same tokens.

Pipeline: read the PDF in the sandboxed child, chunk it with the model's tokenizer, run every
map / merge / final step through Assistant.chat() (InferenceService thread, typed events,
EventBridge, thinking budget), parse and cite the points, save progress after each step.
Every step's request and result are recorded.

Bare: the same model folder, loaded once with onnxruntime-genai directly, runs each recorded step
as one og.Engine request: the exact prompt token ids the engine used (re-rendered with the
same chat template and checked against the engine's count), then exactly as many greedy decode
steps as the engine generated (plus the end-of-sequence step where the model stopped). To force
that count, the bare run uses a copy of the folder whose end-of-sequence id is never emitted
(same weights). No parsing, no events, no files: the floor for the same tokens.

The two are interleaved: right after each pipeline step, its bare replay runs (the pipeline
waits, and that wait is taken out of the pipeline's time), so both see the same machine load;
on a shared machine a whole-run-then-whole-run comparison mostly measures the neighbours.

The pipeline's KV-cache reuse between steps is switched off for the run (a new conversation
before each step), so both sides prefill the same tokens; in normal use the shared prompt prefix
is reused and the pipeline is a little faster than measured here.

    python -m bench.summarize_overhead                       # demo model, 100 pages
    python -m bench.summarize_overhead --pages 20 --json bench/out/summarize.json
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import copy_without_eos, machine, write_json

WORDS = ("market growth revenue quarter customers product launch team hiring budget risk supplier "
         "contract delivery schedule quality audit training office region sales costs margin "
         "forecast strategy research design testing release support security policy review").split()


@dataclass
class StepRecord:
    """One model step of the pipeline, as the engine ran it."""

    request: object
    prompt_tokens: int = 0
    generated: int = 0
    stopped: bool = False
    seconds: float = 0.0


@dataclass
class Recorder:
    """Wraps the Assistant: a fresh conversation before each step, a record of every step, and
    the bare replay of each step as soon as it ends."""

    assistant: object
    bare: Bare
    steps: list[StepRecord] = field(default_factory=list)
    paused_s: float = 0.0

    def chat(self, request):
        return _RecordedTurn(self, request)


class _RecordedTurn:
    def __init__(self, recorder: Recorder, request) -> None:
        self.recorder, self.request, self.turn = recorder, request, None
        self.record = StepRecord(request)
        self.started = 0.0

    def cancel(self) -> None:
        if self.turn is not None:
            self.turn.cancel()

    def __aiter__(self):
        return self

    async def __anext__(self):
        from engine.events import Finished, FinishReason

        if self.turn is None:
            await self.recorder.assistant.new_conversation()  # no prefix reuse: same work as bare
            self.started = time.perf_counter()
            self.turn = self.recorder.assistant.chat(self.request)
        batch = await self.turn.__anext__()
        for event in batch:
            if isinstance(event, Finished):
                self.record.seconds = time.perf_counter() - self.started
                self.record.prompt_tokens = event.stats.prompt_tokens
                self.record.generated = event.stats.thinking_tokens + event.stats.answer_tokens
                self.record.stopped = event.reason is not FinishReason.LENGTH
                self.recorder.steps.append(self.record)
                began = time.perf_counter()
                await self.recorder.bare.call(self.recorder.bare.replay, self.record)
                self.recorder.paused_s += time.perf_counter() - began
        return batch


def make_pdf(path: Path, pages: int, words_per_page: int, seed: int = 7) -> Path:
    """A report with a heading and pseudo-random business prose on every page."""
    from fpdf import FPDF

    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 14)
        pdf.cell(text=f"Section {page}: {rng.choice(WORDS).title()} {rng.choice(WORDS)}")
        pdf.ln(10)
        pdf.set_font("helvetica", size=7)
        sentences, count = [], 0
        while count < words_per_page:
            n = rng.randint(8, 18)
            sentences.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
            count += n
        pdf.multi_cell(0, 3.2, text=" ".join(sentences))
    pdf.output(str(path))
    return path


async def run_pipeline(spec: str, pdf: Path, store_dir: Path):
    from engine.assistant import Assistant
    from engine.documents.reader import read_document
    from engine.service import InferenceService, ModelChoice
    from engine.summarize.job import context_of
    from engine.summarize.options import SummaryOptions
    from engine.summarize.pipeline import Summarizer
    from engine.summarize.store import ProgressStore
    from engine.summarize.tokens import ModelTokenCounter

    service = InferenceService()
    try:
        assistant = Assistant(service)
        loaded = await assistant.load(ModelChoice(spec, provider="cpu"))
        bare = Bare()
        await bare.call(bare.load, loaded.folder.path)
        recorder = Recorder(assistant, bare)
        started = time.perf_counter()
        document = await asyncio.to_thread(read_document, pdf)
        read_s = time.perf_counter() - started
        summarizer = Summarizer(recorder, ModelTokenCounter(loaded.folder.path), context=context_of(loaded.folder),
                                model=spec, store=ProgressStore(store_dir))
        summary = await summarizer.run([document], SummaryOptions())
        total_s = time.perf_counter() - started - recorder.paused_s
        bare.close()
        return recorder, summary, read_s, total_s
    finally:
        service.close()


class Bare:
    """The same model through og.Engine directly, replaying recorded steps token for token.

    og.Engine must be used from the thread that created it: everything runs on one worker.
    """

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bare")
        self.seconds = 0.0
        self.matched = 0

    async def call(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.worker, function, *args)

    def load(self, folder: Path) -> None:
        from engine.model_folder import validate_model_folder
        from engine.providers import CANDIDATES
        from engine.runtime import import_og, load_model

        self.og = import_og()
        self.copy, _ = copy_without_eos(folder)
        cpu = next(c for c in CANDIDATES if c.key == "cpu")
        self.loaded = load_model(validate_model_folder(self.copy), cpu)
        self.buffer = self.loaded.engine.create_event_buffer(16)

    def replay(self, step: StepRecord) -> None:
        """Prefill the step's exact prompt ids and decode exactly as many tokens, greedily."""
        import numpy as np

        from engine.prompt import ChatFormat, render_prompt

        og, tokenizer = self.og, self.loaded.tokenizer
        ids = tokenizer.encode(render_prompt(tokenizer, step.request, ChatFormat())).tolist()
        self.matched += len(ids) == step.prompt_tokens
        new = step.generated + (1 if step.stopped else 0)
        array = np.asarray(ids, dtype=np.int32)
        started = time.perf_counter()
        options = og.RequestOptions()
        options.set_max_session_tokens(-(-(len(ids) + new) // 256) * 256)
        request = self.loaded.engine.create_request(options=options)
        turn = og.TurnOptions(request)
        turn.set_max_generated_tokens(max(1, new))
        turn.set_do_sample(False)
        turn.set_top_k(1)
        request.begin_turn(array, turn)
        while self.loaded.engine.has_pending_requests():
            for _event in self.loaded.engine.run(self.buffer):
                pass
        request.close()
        self.seconds += time.perf_counter() - started

    def close(self) -> None:
        self.worker.submit(self._unload).result()
        self.worker.shutdown()
        shutil.rmtree(self.copy.parent, ignore_errors=True)

    def _unload(self) -> None:
        self.loaded = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo")
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--words-per-page", type=int, default=330)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from engine.environment import prepare_environment

    prepare_environment()
    where = machine()
    work = Path(tempfile.mkdtemp(prefix="ponder-bench-summary-"))
    try:
        pdf = make_pdf(work / "report.pdf", args.pages, args.words_per_page)
        recorder, summary, read_s, total_s = asyncio.run(run_pipeline(args.model, pdf, work / "store"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    steps, bare_s, matched = recorder.steps, recorder.bare.seconds, recorder.bare.matched
    engine_s = sum(s.seconds for s in steps)
    prompt = sum(s.prompt_tokens for s in steps)
    generated = sum(s.generated for s in steps)
    ratio = total_s / bare_s
    report = {
        "machine": where, "model": args.model, "pages": args.pages, "sections": summary.sections,
        "steps": len(steps), "map_steps": summary.stats.map_steps, "reduce_steps": summary.stats.reduce_steps,
        "prompt_tokens": prompt, "generated_tokens": generated, "prompts_matching_engine_count": matched,
        "pipeline_s": total_s, "read_pdf_s": read_s, "engine_steps_s": engine_s, "bare_s": bare_s,
        "ratio": ratio, "overhead_pct": (ratio - 1) * 100, "summariser_own_s": total_s - engine_s,
        "engine_path_minus_bare_s": engine_s - bare_s,
    }
    print(f"machine: {where.describe()}")
    print(f"{args.pages}-page PDF, model {args.model}: {summary.sections} sections, {len(steps)} model steps "
          f"({summary.stats.map_steps} map, {summary.stats.reduce_steps} reduce), {prompt:,} prompt tokens, "
          f"{generated:,} generated tokens ({matched}/{len(steps)} prompts re-encoded to the engine's count)")
    print(f"  summarize pipeline      {total_s:8.2f} s   (reading the PDF {read_s:.2f} s, model steps "
          f"as seen by the pipeline {engine_s:.2f} s)")
    print(f"  bare prefill + decode   {bare_s:8.2f} s")
    print(f"  of the difference: the summariser's own work (read, chunk, parse, cite, save) "
          f"{total_s - engine_s:.2f} s; the engine path per step vs bare og.Engine {engine_s - bare_s:.2f} s")
    print(f"  ratio {ratio:.3f}  →  overhead {(ratio - 1) * 100:+.1f} % (goal ≤ 10 %)")
    write_json(args.json, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
