"""Follow-up time to first token over a multi-turn conversation, with computed tokens per turn.

Each turn asks a new question of about --question-tokens tokens through the engine's own
InferenceService (the window's path), greedy, --new-tokens generated, and sends the answer back
as history. Per turn it records the prompt tokens, how many were computed and cached (the
engine's Stats: onnxruntime-genai's usage where the engine has it), the time to first token, and
the idle-time work that followed the turn (`settled()`, the user's typing time) where the engine
has it. Run it against an older tree by putting that tree first on PYTHONPATH.

    python -m bench.kv_reuse --model bench/models/phi4-mini-shape-L8 --turns 10 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from bench.common import BENCH_MODELS, machine


def question(turn: int, words: int) -> str:
    return "Please be careful. " * (words // 4) + f"What is {turn} plus {turn + 1}?"


def run(args: argparse.Namespace) -> dict:
    from engine.events import Finished
    from engine.generation import TurnControl
    from engine.request import ChatRequest, Message, Role, Sampling
    from engine.service import InferenceService, ModelChoice

    service = InferenceService()
    service.load(ModelChoice(str(args.model), threads=args.threads)).result()
    history: tuple[Message, ...] = ()
    turns = []
    try:
        for turn in range(1, args.turns + 1):
            history += (Message(Role.USER, question(turn, args.question_tokens)),)
            request = ChatRequest(messages=history, sampling=Sampling(greedy=True), max_new_tokens=args.new_tokens)
            events: list = []
            service.generate(request, TurnControl(), events.append).result()
            done = events[-1]
            if not isinstance(done, Finished):
                raise SystemExit(f"turn {turn} failed: {done}")
            stats = done.stats
            computed = getattr(stats, "computed_prompt_tokens", stats.prompt_tokens - stats.cached_prompt_tokens)
            settle_s = None
            if args.wait_settled and hasattr(service, "settled"):
                started = time.perf_counter()
                service.settled().result()
                settle_s = time.perf_counter() - started
            turns.append({"turn": turn, "prompt_tokens": stats.prompt_tokens, "computed": computed,
                          "cached": stats.prompt_tokens - computed, "ttft_s": stats.time_to_first_token_s,
                          "settle_s": settle_s})
            print(f"turn {turn:2d}: prompt {stats.prompt_tokens:5d}  computed {computed:5d}  "
                  f"cached {stats.prompt_tokens - computed:5d}  ttft {stats.time_to_first_token_s:6.2f} s"
                  + (f"  idle work after it {settle_s:6.2f} s" if settle_s is not None else ""), flush=True)
            history += (Message(Role.ASSISTANT, done.answer.strip()),)  # as the window sends it back
    finally:
        service.close()
    first = turns[0]["ttft_s"]
    ratios = [t["ttft_s"] / first for t in turns[1:]]
    first_new = turns[0]["computed"]
    summary = {"ttft_ratio_max": max(ratios, default=None), "ttft_ratio_median": statistics.median(ratios) if ratios else None,
               "first_turn_computed": first_new,
               "follow_up_computed_max": max((t["computed"] for t in turns[1:]), default=None)}
    print(f"follow-up ttft / turn-1 ttft: median {summary['ttft_ratio_median']:.2f}, max {summary['ttft_ratio_max']:.2f}")
    return {"machine": machine().__dict__, "args": {k: str(v) for k, v in vars(args).items()}, "turns": turns,
            "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=BENCH_MODELS / "phi4-mini-shape-L8")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--question-tokens", type=int, default=40, help="about this many words per question")
    parser.add_argument("--new-tokens", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-wait-settled", dest="wait_settled", action="store_false",
                        help="send each follow-up at once, without the idle time a user's typing gives")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    figures = run(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
