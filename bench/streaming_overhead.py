"""Streaming overhead: tokens/s through the whole engine path vs a bare onnxruntime-genai loop.

Engine path: `Assistant.chat()` → the InferenceService worker thread (`run_turn`: detokenise,
split thinking/answer, typed events) → `EventBridge` → an asyncio consumer iterating the
`ChatTurn`'s batches. Bare path: the same og.Engine API on its own worker thread with the same
request and turn options and the same prompt ids, decoding each token to text and nothing
else. Same model folder, same thread count, greedy, the same fixed number of new tokens;
repetitions are interleaved (the order alternates) and each rep gives a paired ratio.

Both clocks run on the consumer (the asyncio thread): from the call that starts the turn to the
moment the consumer holds the last token, so the figure includes every hop a user waits for.
The worker-side decode rate (first to last token, on the worker) is reported too, to split
the overhead into "per-token work on the worker" and "delivery to the consumer".

The demo model answers in ~30 tokens and stops; to time decoding, the run uses a temporary
copy of the folder whose end-of-sequence id is a token the model never emits (same weights).

    python -m bench.streaming_overhead                        # demo model, 1024 tokens, 10 reps
    python -m bench.streaming_overhead --tokens 512 --reps 5 --json bench/out/overhead.json
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.common import copy_without_eos, finish_turn, machine, median, write_json

PROMPT = "What is 37 plus 45?"


@dataclass(frozen=True)
class Run:
    """One timed turn."""

    path: str  # "engine" | "bare"
    tokens: int
    seconds: float  # consumer clock: start call -> last token held by the consumer
    cpu_seconds: float  # CPU time of the whole process (all threads) over the same span
    worker_decode_tps: float | None  # first -> last token on the worker

    @property
    def tps(self) -> float:
        return self.tokens / self.seconds

    @property
    def cpu_ms_per_token(self) -> float:
        return 1000 * self.cpu_seconds / self.tokens


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


class BareLoop:
    """A bare og.Engine loop on its own thread, with the engine path's options."""

    def __init__(self, folder: Path, threads: int | None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bare-og")
        self._loaded = self._executor.submit(self._load, folder, threads).result()

    @staticmethod
    def _load(folder: Path, threads: int | None):
        from engine.model_folder import validate_model_folder
        from engine.providers import find_candidate
        from engine.runtime import load_model

        return load_model(validate_model_folder(folder), find_candidate("cpu"), threads=threads)

    async def run(self, request, max_new: int) -> Run:
        cpu, start = time.process_time(), time.perf_counter()
        tokens, first, last = await asyncio.wrap_future(self._executor.submit(self._turn, request, max_new))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        decode = (tokens - 1) / (last - first) if tokens > 1 and last > first else None
        return Run("bare", tokens, seconds, cpu, decode)

    def _turn(self, request, max_new: int) -> tuple[int, float, float]:
        import onnxruntime_genai as og

        from engine.prompt import ChatFormat, render_prompt

        loaded = self._loaded
        tokenizer, engine = loaded.tokenizer, loaded.engine
        ids = tokenizer.encode(render_prompt(tokenizer, request, ChatFormat()))
        options = og.RequestOptions()
        options.set_max_session_tokens(min(loaded.max_length, _round_up(len(ids) + max_new, 256)))
        og_request = engine.create_request(options=options)
        turn = og.TurnOptions(og_request)
        turn.set_max_generated_tokens(max_new)
        turn.set_do_sample(False)
        turn.set_top_k(1)
        stream = tokenizer.create_stream()
        buffer = engine.create_event_buffer(16)
        text: list[str] = []
        tokens, first, last = 0, 0.0, 0.0
        og_request.begin_turn(ids, turn)
        while engine.has_pending_requests():
            for event in engine.run(buffer):
                if event.flags & og.EngineEventFlags.TOKEN:
                    last = time.perf_counter()
                    first = first or last
                    tokens += 1
                    text.append(stream.decode(event.token))
        og_request.close()
        return tokens, first, last

    def close(self) -> None:
        self._executor.submit(setattr, self, "_loaded", None)
        self._executor.shutdown(wait=True)


async def engine_run(assistant, request) -> Run:
    """One turn through Assistant/ChatTurn, timed on the consumer."""
    await assistant.new_conversation()  # a fresh og request, like the bare loop's
    cpu, start = time.process_time(), time.perf_counter()
    finished = await finish_turn(assistant, request)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = finished.stats
    return Run("engine", stats.thinking_tokens + stats.answer_tokens, seconds, cpu, stats.decode_tokens_per_s)


async def measure(folder: Path, tokens: int, reps: int, threads: int | None) -> list[Run]:
    from engine.assistant import Assistant
    from engine.request import ask
    from engine.request import Sampling
    from engine.service import InferenceService, ModelChoice

    service = InferenceService()
    assistant = Assistant(service)
    bare = BareLoop(folder, threads)
    try:
        await assistant.load(ModelChoice(spec=str(folder), provider="cpu", threads=threads))
        request = ask(PROMPT, sampling=Sampling(greedy=True), max_new_tokens=tokens)
        await engine_run(assistant, request)  # warm-up, not counted
        await bare.run(request, tokens)
        runs: list[Run] = []
        for rep in range(reps):
            order = (engine_run(assistant, request), bare.run(request, tokens))
            pair = [await coro for coro in (order if rep % 2 == 0 else order[::-1])]
            runs.extend(pair)
            by_path = {r.path: r for r in pair}
            engine, bare_run = by_path["engine"], by_path["bare"]
            print(f"rep {rep + 1}/{reps}: engine {engine.tps:6.0f} tok/s {engine.cpu_ms_per_token:.3f} cpu-ms/tok, "
                  f"bare {bare_run.tps:6.0f} tok/s {bare_run.cpu_ms_per_token:.3f} cpu-ms/tok, "
                  f"ratio {engine.tps / bare_run.tps:6.1%}", flush=True)
        return runs
    finally:
        bare.close()
        service.close()


def report(runs: list[Run], tokens: int) -> dict:
    """Print the medians; return them for --json."""
    engine = [r for r in runs if r.path == "engine"]
    bare = [r for r in runs if r.path == "bare"]
    mismatched = [r for r in runs if r.tokens != tokens]
    ratios = [e.tps / b.tps for e, b in zip(engine, bare)]
    cpu_ratios = [b.cpu_ms_per_token / e.cpu_ms_per_token for e, b in zip(engine, bare)]
    worker_ratios = [e.worker_decode_tps / b.worker_decode_tps for e, b in zip(engine, bare)
                     if e.worker_decode_tps and b.worker_decode_tps]
    summary = {
        "tokens_per_turn": tokens,
        "reps": len(ratios),
        "engine_tps_median": median([r.tps for r in engine]),
        "bare_tps_median": median([r.tps for r in bare]),
        "ratio_median": median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "engine_cpu_ms_per_token_median": median([r.cpu_ms_per_token for r in engine]),
        "bare_cpu_ms_per_token_median": median([r.cpu_ms_per_token for r in bare]),
        "cpu_ratio_median": median(cpu_ratios),
        "worker_decode_engine_tps_median": median([r.worker_decode_tps or 0.0 for r in engine]),
        "worker_decode_bare_tps_median": median([r.worker_decode_tps or 0.0 for r in bare]),
        "worker_decode_ratio_median": median(worker_ratios),
        "turns_with_wrong_token_count": len(mismatched),
    }
    print()
    print(f"tokens/s on the consumer's clock (call -> last token at the consumer), {tokens} tokens/turn, "
          f"{len(ratios)} interleaved pairs:")
    print(f"  engine path   median {summary['engine_tps_median']:8.0f}")
    print(f"  bare og loop  median {summary['bare_tps_median']:8.0f}")
    print(f"  engine / bare median {summary['ratio_median']:.1%} (pairs range {summary['ratio_min']:.1%}"
          f" .. {summary['ratio_max']:.1%}); goal >= 97%")
    print("process CPU time per token (all threads; less sensitive to other load than wall time):")
    print(f"  engine {summary['engine_cpu_ms_per_token_median']:.3f} ms, bare "
          f"{summary['bare_cpu_ms_per_token_median']:.3f} ms, bare / engine median {summary['cpu_ratio_median']:.1%}")
    print("worker-side decode tokens/s (first -> last token, on the worker's clock):")
    print(f"  engine {summary['worker_decode_engine_tps_median']:.0f}, bare "
          f"{summary['worker_decode_bare_tps_median']:.0f}, engine / bare median {summary['worker_decode_ratio_median']:.1%}")
    if mismatched:
        print(f"WARNING: {len(mismatched)} turns did not produce exactly {tokens} tokens")
    return summary


def main(argv: list[str] | None = None) -> int:
    from engine.environment import prepare_environment

    prepare_environment()
    parser = argparse.ArgumentParser(description="Engine-path vs bare og.Engine decode tokens/s.")
    parser.add_argument("--model", default="demo", help="'demo' or a model folder")
    parser.add_argument("--tokens", type=int, default=1024, help="new tokens per turn (fixed)")
    parser.add_argument("--reps", type=int, default=10, help="interleaved repetitions per path")
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (default: onnxruntime's)")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = parser.parse_args(argv)

    from engine.paths import demo_model_dir

    source = demo_model_dir() if args.model == "demo" else Path(args.model)
    if not (source / "genai_config.json").is_file():
        parser.error(f"{source} is not a model folder")
    folder, eos = copy_without_eos(source)
    host = machine()
    print(host.describe())
    print(f"model: {source} (eos id replaced by {eos} in a temporary copy), threads: {args.threads or 'default'}")
    try:
        runs = asyncio.run(measure(folder, args.tokens, args.reps, args.threads))
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    summary = report(runs, args.tokens)
    write_json(args.json, {"machine": host, "model": str(source), "threads": args.threads,
                           "summary": summary, "runs": [r.__dict__ | {"tps": r.tps, "cpu_ms_per_token": r.cpu_ms_per_token} for r in runs]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
