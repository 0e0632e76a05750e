"""Responsiveness: how late a 5 ms timer on the consumer's event loop runs during inference.

While a model prefills a ~2,048-token prompt and then decodes, a coroutine on the consumer's
loop sleeps 5 ms again and again and records how late each wake-up is. Lateness is reported
separately for the prefill and the decode phase (p50 / p99 / max), for:

* engine: Ponder's real path (Assistant.chat → InferenceService worker → og.Engine.run(),
  which releases the GIL → EventBridge → the loop);
* generator: the same prompt with og.Generator on a worker thread (append_tokens() for the
  whole prompt, then generate_next_token()), delivered through the same EventBridge.
  Both calls hold the GIL for their whole duration, so the loop cannot run meanwhile;
* generator-chunked (with --chunk N): the prompt appended N tokens at a time.

Goal: engine p99 lateness <= 16 ms (one 60 Hz frame) in both phases, on a model whose decode
step takes >= 50 ms: a Phi-4-mini-shaped model from tools/build_bench_model.py. A sample is
counted in the phase in which its sleep began; the phase boundary is the first token's time on
the worker. Idle lateness (no inference) is measured first, as the loop's own floor.

Control: a separate process runs the same 5 ms ticker on plain asyncio for the whole run. It
shares no GIL with the engine, so its lateness is what the machine's scheduler alone costs
(other processes, inference threads on every core); lateness above the control's is ours.

    python tools/build_bench_model.py --layers 2 --tokenizer resources/models/demo
    python -m bench.responsiveness --model bench/models/phi4-mini-shape-L2
    python -m bench.responsiveness --model bench/models/phi4-mini-shape-L2 --loop qasync
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import machine, median, percentile, write_json

TICK_S = 0.005
#: The control ticker: a plain asyncio loop in its own process, until its stdin closes.
#: perf_counter is CLOCK_MONOTONIC on Linux, so its samples line up with ours.
CONTROL = """
import asyncio, json, sys, time
async def main():
    loop, samples = asyncio.get_running_loop(), []
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
    while not stop.done():
        start = time.perf_counter()
        await asyncio.sleep(%r)
        samples.append((start, time.perf_counter() - start - %r))
    json.dump(samples, sys.stdout)
asyncio.run(main())
""" % (TICK_S, TICK_S)
FILLER = "What is 37 plus 45? Add the tens, then the ones, and carry when the ones pass nine. "


@dataclass
class Ticker:
    """Sleeps TICK_S on the running loop until stopped; keeps (start, lateness) samples."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        while self.running:
            start = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.samples.append((start, time.perf_counter() - start - TICK_S))


@dataclass(frozen=True)
class Phase:
    """Timer lateness while one phase ran."""

    samples: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    max_at_s: float  # when the latest tick began, from the start of the phase

    @staticmethod
    def of(samples: list[tuple[float, float]], begin: float, end: float) -> Phase:
        inside = [(lateness * 1000, start - begin) for start, lateness in samples if begin <= start < end]
        late = [ms for ms, _ in inside]
        worst = max(inside, default=(float("nan"), float("nan")))
        return Phase(len(late), end - begin, percentile(late, 50), percentile(late, 99), worst[0], worst[1])

    def line(self) -> str:
        return (f"{self.samples:5d} ticks over {self.seconds:7.2f} s   p50 {self.p50_ms:8.2f} ms   "
                f"p99 {self.p99_ms:9.2f} ms   max {self.max_ms:9.2f} ms (at +{self.max_at_s:.2f} s)")


@dataclass(frozen=True)
class Result:
    """One path's figures."""

    path: str
    prompt_tokens: int
    generated_tokens: int
    decode_step_ms: float
    prefill: Phase
    decode: Phase
    control_prefill: Phase
    control_decode: Phase
    #: Other spans of the path (loading and freeing the model), as measured on our loop.
    other: dict[str, Phase] = field(default_factory=dict)


class GeneratorPath:
    """og.Generator on its own worker thread: the GIL-holding alternative to og.Engine."""

    def __init__(self, folder: Path, threads: int | None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-generator")
        self._executor.submit(self._load, folder, threads).result()

    def _load(self, folder: Path, threads: int | None) -> None:
        import onnxruntime_genai as og

        config = og.Config(str(folder))
        config.clear_providers()
        if threads:
            config.overlay('{"model": {"decoder": {"session_options": {"intra_op_num_threads": %d}}}}' % threads)
        self.og, self.model = og, og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)

    def calibrate(self, tokens: int) -> tuple[str, list[int]]:
        """A question whose rendered prompt is as close to `tokens` tokens as possible (<=)."""
        return self._executor.submit(self._calibrate, tokens).result()

    def _calibrate(self, tokens: int) -> tuple[str, list[int]]:
        from engine.prompt import ChatFormat, render_prompt
        from engine.request import ask

        text = FILLER * (tokens // 8 + 8)

        def ids_for(chars: int) -> list[int]:
            return self.tokenizer.encode(render_prompt(self.tokenizer, ask(text[:chars]), ChatFormat())).tolist()

        low, high = 1, len(text)
        while len(ids_for(high)) < tokens:  # a tokenizer that packs more text per token
            text += text
            high = len(text)
        while low < high:  # the longest question whose prompt fits in `tokens`
            mid = (low + high + 1) // 2
            if len(ids_for(mid)) <= tokens:
                low = mid
            else:
                high = mid - 1
        return text[:low], ids_for(low)

    async def run(self, ids: list[int], new_tokens: int, chunk: int | None) -> tuple[float, float, int, list[float]]:
        """Returns (submitted, first token) perf_counter times, tokens, step durations."""
        from engine.bridge import EventBridge

        bridge = EventBridge(asyncio.get_running_loop())
        submitted = time.perf_counter()
        future = self._executor.submit(self._turn, ids, new_tokens, chunk, bridge.put)
        async for _ in bridge:
            pass
        first, steps = await asyncio.wrap_future(future)
        return submitted, first, len(steps) + 1, steps

    def _turn(self, ids, new_tokens, chunk, put):
        import numpy as np

        from engine.events import AnswerDelta, Finished, FinishReason

        og = self.og
        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=len(ids) + new_tokens, do_sample=False, top_k=1)
        generator = og.Generator(self.model, params)
        prompt = np.asarray(ids, dtype=np.int32)
        step = chunk or len(prompt)
        for at in range(0, len(prompt), step):
            generator.append_tokens(prompt[at : at + step])  # holds the GIL for the whole call
        stream = self.tokenizer.create_stream()
        times = []
        for _ in range(new_tokens):
            generator.generate_next_token()  # holds the GIL for the whole step
            times.append(time.perf_counter())
            put(AnswerDelta(stream.decode(int(generator.get_next_tokens()[0]))))
        put(Finished(FinishReason.LENGTH, "", ""))
        del generator
        return times[0], [b - a for a, b in zip(times, times[1:])]

    def close(self) -> None:
        def drop() -> None:
            self.model = self.tokenizer = None

        self._executor.submit(drop).result()
        self._executor.shutdown(wait=True)


async def engine_path(assistant, question: str, new_tokens: int) -> tuple[float, float, int, int, float]:
    """Returns (submitted, first token) times, prompt tokens, generated tokens, decode step ms."""
    from engine.events import Failed, Finished
    from engine.request import Sampling, ask

    request = ask(question, sampling=Sampling(greedy=True), max_new_tokens=new_tokens)
    await assistant.new_conversation()
    submitted = time.perf_counter()
    finished = None
    async for batch in assistant.chat(request):
        for event in batch:
            if isinstance(event, Failed):
                raise event.error
            if isinstance(event, Finished):
                finished = event
    stats = finished.stats
    generated = stats.thinking_tokens + stats.answer_tokens
    step_ms = 1000 / stats.decode_tokens_per_s if stats.decode_tokens_per_s else float("nan")
    return submitted, submitted + stats.time_to_first_token_s, stats.prompt_tokens, generated, step_ms


@dataclass(frozen=True)
class Timed:
    """One path's run before the control process's samples are in."""

    path: str
    prompt_tokens: int
    generated_tokens: int
    decode_step_ms: float
    submitted: float
    first_token: float
    end: float
    other: dict[str, tuple[float, float]] = field(default_factory=dict)

    def result(self, ours: list[tuple[float, float]], control: list[tuple[float, float]]) -> Result:
        return Result(self.path, self.prompt_tokens, self.generated_tokens, self.decode_step_ms,
                      Phase.of(ours, self.submitted, self.first_token), Phase.of(ours, self.first_token, self.end),
                      Phase.of(control, self.submitted, self.first_token), Phase.of(control, self.first_token, self.end),
                      {name: Phase.of(ours, begin, end) for name, (begin, end) in self.other.items()})


async def measure(args: argparse.Namespace) -> dict:
    from engine.assistant import Assistant
    from engine.service import InferenceService, ModelChoice

    control = subprocess.Popen([sys.executable, "-c", CONTROL], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ticker = Ticker()
    ticking = asyncio.create_task(ticker.run())
    idle_start = time.perf_counter()
    await asyncio.sleep(1.0)
    idle = Phase.of(ticker.samples, idle_start, time.perf_counter())
    print(f"idle loop          : {idle.line()}", flush=True)

    generator = GeneratorPath(args.model, args.threads)
    question, ids = generator.calibrate(args.prompt_tokens)
    print(f"prompt: {len(ids)} tokens", flush=True)
    timed: list[Timed] = []
    paths = args.paths.split(",")
    if "engine" in paths:
        service = InferenceService()
        other: dict[str, tuple[float, float]] = {}
        try:
            assistant = Assistant(service)
            begin = time.perf_counter()
            await assistant.load(ModelChoice(spec=str(args.model), provider="cpu", threads=args.threads))
            other["load (assistant.load)"] = (begin - TICK_S, time.perf_counter())  # with the tick it delays
            submitted, first, prompt_tokens, generated, step_ms = await engine_path(assistant, question, args.decode_tokens)
            end = time.perf_counter()
        finally:
            # close() joins the worker thread: off the loop, or the loop's own wait would count.
            begin = time.perf_counter()
            await asyncio.get_running_loop().run_in_executor(None, service.close)
            await asyncio.sleep(0.05)  # let the tick that spans the end of close() land
            other["unload (service.close)"] = (begin - TICK_S, time.perf_counter())
        timed.append(Timed("engine (og.Engine.run)", prompt_tokens, generated, step_ms, submitted, first, end, other))
        print(f"{timed[-1].path}: done", flush=True)
    variants = [("generator", None)] if "generator" in paths else []
    if args.chunk:
        variants.append((f"generator, {args.chunk}-token chunks", args.chunk))
    try:
        for name, chunk in variants:
            submitted, first, generated, steps = await generator.run(ids, args.decode_tokens, chunk)
            timed.append(Timed(name, len(ids), generated, 1000 * median(steps), submitted, first, time.perf_counter()))
            print(f"{name}: done", flush=True)
    finally:
        await asyncio.get_running_loop().run_in_executor(None, generator.close)
        ticker.running = False
        await ticking
        stdout, _ = await asyncio.get_running_loop().run_in_executor(None, control.communicate, b"")
    control_samples = [tuple(sample) for sample in json.loads(stdout)]
    results = [t.result(ticker.samples, control_samples) for t in timed]
    for result in results:
        _print(result)
    return {"idle": idle, "results": results}


def _print(result: Result) -> None:
    print(f"{result.path}: {result.prompt_tokens} prompt tokens, {result.generated_tokens} generated, "
          f"decode step median {result.decode_step_ms:.0f} ms")
    print(f"  prefill          : {result.prefill.line()}")
    print(f"  decode           : {result.decode.line()}")
    print(f"  control, prefill : {result.control_prefill.line()}")
    print(f"  control, decode  : {result.control_decode.line()}")
    for name, phase in result.other.items():
        print(f"  {name}: {phase.line()}")
    sys.stdout.flush()


def run_qasync(coro_factory):
    """Run the measurement on a qasync QEventLoop (offscreen), as the GUI does."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(coro_factory())


def main(argv: list[str] | None = None) -> int:
    from engine.environment import prepare_environment

    prepare_environment()
    parser = argparse.ArgumentParser(description="Event-loop timer lateness during prefill and decode.")
    parser.add_argument("--model", type=Path, default=Path("bench/models/phi4-mini-shape-L2"))
    parser.add_argument("--prompt-tokens", type=int, default=2048)
    parser.add_argument("--decode-tokens", type=int, default=40)
    parser.add_argument("--paths", default="engine,generator", help="comma-separated: engine, generator")
    parser.add_argument("--chunk", type=int, default=None, help="also run the Generator with chunked prefill")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default: onnxruntime's)")
    parser.add_argument("--loop", choices=("asyncio", "qasync"), default="asyncio")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = parser.parse_args(argv)
    if not (args.model / "genai_config.json").is_file():
        parser.error(f"{args.model} is not a model folder; build one with tools/build_bench_model.py")

    host = machine()
    print(host.describe())
    print(f"model: {args.model}, loop: {args.loop}, threads: {args.threads or 'default'}, tick {TICK_S * 1000:.0f} ms")
    if args.loop == "qasync":
        figures = run_qasync(lambda: measure(args))
    else:
        figures = asyncio.run(measure(args))
    write_json(args.json, {"machine": host, "model": str(args.model), "loop": args.loop,
                           "threads": args.threads, **figures})
    return 0


if __name__ == "__main__":
    sys.exit(main())
