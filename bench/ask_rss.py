"""Peak RSS of answering "What is 2 plus 2?" at each effort level, one fresh process each.

Each process does what `ponder ask --thinking-budget EFFORT` does (InferenceService, the request
`ask` builds) and stops the turn after its first few tokens: the KV reservation is made before
the first token, so the peak includes it, and a random-weight benchmark model never ends a turn.
Optionally with a history of about --history-tokens tokens before the question.

    python -m bench.ask_rss --model bench/models/phi4-mini-shape-L32 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from bench.common import BENCH_MODELS, ROOT, machine

CHILD = r"""
import json, resource, sys
from engine.budget import ThinkingBudget
from engine.events import AnswerDelta, Finished, PromptProgress, Stats, ThinkingDelta
from engine.generation import TurnControl
from engine.request import ChatRequest, Message, Role
from engine.service import InferenceService, ModelChoice
model, effort, history, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
service = InferenceService(frame_s=0)
service.load(ModelChoice(model, threads=threads)).result()
loaded_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
messages = ()
if history:
    messages = (Message(Role.USER, "Please be careful. " * (history // 12)), Message(Role.ASSISTANT, "Yes."))
request = ChatRequest(messages=messages + (Message(Role.USER, "What is 2 plus 2?"),),
                      budget=ThinkingBudget.parse(effort))
control, seen = TurnControl(), {"n": 0, "stats": None}
def emit(event):
    if isinstance(event, Stats):
        seen["n"] += 1
        seen["stats"] = event
        if seen["n"] >= 3:
            control.cancel.set()
    if isinstance(event, Finished):
        seen["stats"] = event.stats
service.generate(request, control, emit).result()
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "after_load_peak_mb": loaded_kb / 1024, "prompt_tokens": seen["stats"].prompt_tokens}))
service.close()
"""


def measure(model: Path, effort: str, history: int, threads: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD, str(model), effort, str(history), str(threads)],
                         capture_output=True, text=True, env=env, check=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=BENCH_MODELS / "phi4-mini-shape-L32")
    parser.add_argument("--efforts", default="low,medium,high,unlimited")
    parser.add_argument("--history-tokens", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for effort in args.efforts.split(","):
        row = {"effort": effort, **measure(args.model, effort, args.history_tokens, args.threads)}
        rows.append(row)
        print(f"{effort:>9}: peak RSS {row['peak_mb']:7.0f} MB (after load {row['after_load_peak_mb']:.0f} MB), "
              f"prompt {row['prompt_tokens']} tokens", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine().__dict__, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
