"""Chunked against one-shot prefill, stop latency during prefill and decoding, and how long a
second session waits while another streams.

* prefill: the same prompt prefilled by one og.Engine turn (one-shot) and by the engine's chunked
  feed (KvCache.feed: chunks sized to ~0.75 s each), interleaved, --reps times; ratio of speeds.
* stop: a turn of --prompt-tokens is started through the InferenceService and stopped at a random
  moment (uniform over the measured prefill time, then over decoding); latency = from setting the
  stop flag to the Finished event.
* wait: a chat turn streams in session "chat"; a quick question is posted in session "quick" at a
  random moment; wait = from posting to the quick turn's first event (progress or token).

    python -m bench.prefill_stop --model bench/models/phi4-mini-shape-L8 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from bench.common import BENCH_MODELS, machine, percentile


def prompt_of(tokens: int) -> str:
    return "Please be careful. " * max(1, tokens // 12) + "What is 2 plus 2?"  # ~12 tokens a sentence


def prefill(args: argparse.Namespace) -> dict:
    import onnxruntime_genai as og

    from engine.kv_cache import KvCache

    config = og.Config(str(args.model))
    config.overlay(json.dumps({"model": {"decoder": {"session_options": {"intra_op_num_threads": args.threads}}}}))
    model = og.Model(config)
    tokenizer = og.Tokenizer(model)
    engine = og.Engine(model)
    buffer = engine.create_event_buffer(16)
    ids = tokenizer.encode(prompt_of(args.prompt_tokens)).tolist()

    def one_shot() -> float:
        cache = KvCache()
        cache.renew(og, engine, len(ids) + 16)
        options = og.TurnOptions(cache.request)
        options.set_max_generated_tokens(1)
        options.set_do_sample(False)
        options.set_top_k(1)
        started = time.perf_counter()
        cache.begin_turn(ids, options)
        while engine.has_pending_requests():
            engine.run(buffer)
        elapsed = time.perf_counter() - started
        cache.close()
        return elapsed

    def chunked() -> tuple[float, float]:
        cache = KvCache()
        cache.renew(og, engine, len(ids) + 16)
        started, longest, last = time.perf_counter(), 0.0, time.perf_counter()
        for _ in cache.feed(og, engine, ids, buffer):
            now = time.perf_counter()
            longest, last = max(longest, now - last), now
        elapsed = time.perf_counter() - started
        cache.close()
        return elapsed, longest

    runs = []
    for rep in range(args.reps):
        a = one_shot()
        b, longest = chunked()
        runs.append({"one_shot_s": a, "chunked_s": b, "ratio": a / b, "longest_chunk_s": longest})
        print(f"prefill {len(ids)} tokens: one-shot {a:.2f} s ({len(ids) / a:.1f} tok/s), chunked {b:.2f} s "
              f"({len(ids) / b:.1f} tok/s), ratio {a / b:.3f}, longest chunk {longest:.2f} s", flush=True)
    ratios = sorted(r["ratio"] for r in runs)
    return {"prompt_tokens": len(ids), "runs": runs, "ratio_median": percentile(ratios, 50)}


def stop_and_wait(args: argparse.Namespace) -> dict:
    from engine.events import (
        AnswerDelta,
        Finished,
        PromptProgress,
        Stats,
        ThinkingDelta,
    )
    from engine.generation import TurnControl
    from engine.request import Sampling, ask
    from engine.service import InferenceService, ModelChoice

    rng = random.Random(args.seed)
    service = InferenceService(frame_s=0)
    service.load(ModelChoice(str(args.model), threads=args.threads)).result()
    greedy = Sampling(greedy=True)
    try:
        # Calibrate: how long the prefill and a decode step take here, now.
        events: list = []
        service.generate(ask(prompt_of(args.prompt_tokens), sampling=greedy, max_new_tokens=4), TurnControl(),
                         events.append, session="calibrate").result()
        stats = events[-1].stats
        prefill_s = stats.time_to_first_token_s
        decode_s = 1 / stats.decode_tokens_per_s if stats.decode_tokens_per_s else 0.5
        service.forget("calibrate").result()
        print(f"calibration: {stats.prompt_tokens} prompt tokens in {prefill_s:.1f} s, {decode_s:.2f} s a token", flush=True)
        stops = []
        for phase, span, offset in (("prefill", prefill_s, 0.0), ("decode", 8 * decode_s, prefill_s)):
            for _ in range(args.stops):
                at = offset + rng.uniform(0.05, 0.95) * span
                control, done = TurnControl(), threading.Event()
                ended: dict = {}

                def emit(event, done=done, ended=ended):
                    if isinstance(event, Stats) and event.thinking_tokens + event.answer_tokens > 0:
                        ended.setdefault("decoding_since", time.perf_counter())
                    if isinstance(event, Finished):
                        ended["at"] = time.perf_counter()
                        ended["reason"] = event.reason.value
                        done.set()

                service.forget("stop").result()
                future = service.generate(ask(prompt_of(args.prompt_tokens), sampling=greedy, max_new_tokens=64),
                                          control, emit, session="stop")
                time.sleep(at)
                stopped = time.perf_counter()
                control.cancel.set()
                future.result()
                latency = ended["at"] - stopped if ended.get("at", 0) >= stopped else 0.0
                # Where the turn really was when stopped (the calibrated prefill time is only a guess).
                actual = "decode" if ended.get("decoding_since", stopped + 1) <= stopped else "prefill"
                stops.append({"phase": phase, "actual_phase": actual, "at_s": at, "latency_s": latency,
                              "reason": ended.get("reason")})
                print(f"stop aimed at {phase}, landed in {actual}, at {at:5.1f} s: ended {latency:.2f} s later "
                      f"({ended.get('reason')})", flush=True)
        waits = []
        for _ in range(args.waits):
            service.forget("chat").result()
            service.forget("quick").result()
            streaming, first = threading.Event(), threading.Event()
            got: dict = {}

            def chat_emit(event, streaming=streaming):
                # Stats count tokens even when a random-weight model's text decodes to nothing.
                if isinstance(event, Stats) and event.thinking_tokens + event.answer_tokens > 0:
                    streaming.set()

            def quick_emit(event, first=first, got=got):
                if isinstance(event, (PromptProgress, ThinkingDelta, AnswerDelta)) and not first.is_set():
                    got["at"] = time.perf_counter()
                    first.set()

            chat = service.generate(ask(prompt_of(64), sampling=greedy, max_new_tokens=48), TurnControl(),
                                    chat_emit, session="chat")
            streaming.wait()
            time.sleep(rng.uniform(0, 4 * decode_s))
            posted = time.perf_counter()
            quick = service.generate(ask("What is 2 plus 2?", sampling=greedy, max_new_tokens=4), TurnControl(),
                                     quick_emit, session="quick")
            first.wait()
            waits.append(got["at"] - posted)
            print(f"quick action waited {got['at'] - posted:.2f} s while the chat streamed", flush=True)
            chat.result()
            quick.result()
    finally:
        service.close()
    by_phase = {p: [s["latency_s"] for s in stops if s["phase"] == p] for p in ("prefill", "decode")}
    return {"prefill_s": prefill_s, "decode_step_s": decode_s, "stops": stops,
            "stop_p100_s": {p: max(v) if v else None for p, v in by_phase.items()},
            "quick_wait_s": waits, "quick_wait_max_s": max(waits) if waits else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=BENCH_MODELS / "phi4-mini-shape-L8")
    parser.add_argument("--prompt-tokens", type=int, default=400)
    parser.add_argument("--reps", type=int, default=3, help="prefill comparisons")
    parser.add_argument("--stops", type=int, default=5, help="stops per phase")
    parser.add_argument("--waits", type=int, default=3, help="quick actions during a streaming chat")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-s", type=float, default=None, help="target seconds per prefill chunk")
    parser.add_argument("--only", choices=("prefill", "stop"), default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.chunk_s is not None:
        from engine import kv_cache

        kv_cache.CHUNK_S = args.chunk_s
    figures: dict = {"machine": machine().__dict__, "args": {k: str(v) for k, v in vars(args).items()}}
    if args.only in (None, "prefill"):
        figures["prefill"] = prefill(args)
    if args.only in (None, "stop"):
        figures["stop"] = stop_and_wait(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
