"""Aggregate decode speed with 1, 2 and 4 sessions generating at once.

Each session asks a short question and generates --tokens tokens (greedy; a random-weight model
never ends early). og.Engine with a classic model cannot batch continuing conversations (one
resident request per engine), so sessions run on their own engines, interleaved step by step on
the one inference thread: the aggregate is expected to equal one session's speed, shared fairly.

    python -m bench.sessions --model bench/models/phi4-mini-shape-L8 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from bench.common import BENCH_MODELS, machine


def run(args: argparse.Namespace) -> dict:
    from engine.events import Finished, Stats
    from engine.generation import TurnControl
    from engine.request import Sampling, ask
    from engine.service import InferenceService, ModelChoice

    service = InferenceService(frame_s=0)
    service.load(ModelChoice(str(args.model), threads=args.threads)).result()
    rows = []
    try:
        for count in args.sessions:
            tokens: dict[str, list[float]] = {}
            futures = []
            for i in range(count):
                name = f"s{i}"
                service.forget(name).result()
                tokens[name] = []

                def emit(event, mine=tokens[name]):
                    if isinstance(event, Stats) and event.thinking_tokens + event.answer_tokens > len(mine):
                        mine.append(time.perf_counter())

                request = ask(f"What is {i} plus 2?", sampling=Sampling(greedy=True), max_new_tokens=args.tokens)
                futures.append(service.generate(request, TurnControl(), emit, session=name))
            done = [f.result() for f in futures]
            assert all(isinstance(d, Finished) for d in done)
            generated = sum(d.stats.thinking_tokens + d.stats.answer_tokens for d in done)
            first = min(t[0] for t in tokens.values() if t)
            last = max(t[-1] for t in tokens.values() if t)
            aggregate = (generated - count) / (last - first) if last > first else float("nan")
            rows.append({"sessions": count, "generated": generated, "aggregate_tok_s": aggregate,
                         "per_session_tok_s": [d.stats.decode_tokens_per_s for d in done]})
            print(f"{count} session(s): {generated} tokens, aggregate {aggregate:.2f} tok/s, per session "
                  + ", ".join(f"{d.stats.decode_tokens_per_s or 0:.2f}" for d in done), flush=True)
    finally:
        service.close()
    return {"machine": machine().__dict__, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=BENCH_MODELS / "phi4-mini-shape-L8")
    parser.add_argument("--sessions", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 4])
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    figures = run(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
