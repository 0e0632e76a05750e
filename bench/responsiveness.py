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
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import finish_turn, machine, median, write_json
from bench.generator_path import GeneratorPath
from bench.lateness import TICK_S, ControlTicker, Phase, Ticker



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


async def engine_path(assistant, question: str, new_tokens: int) -> tuple[float, float, int, int, float]:
    """Returns (submitted, first token) times, prompt tokens, generated tokens, decode step ms."""
    from engine.request import Sampling, ask

    request = ask(question, sampling=Sampling(greedy=True), max_new_tokens=new_tokens)
    await assistant.new_conversation()
    submitted = time.perf_counter()
    finished = await finish_turn(assistant, request)
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

    control = ControlTicker()
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
        control_samples = await control.stop()
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
