"""Follow-ups through the local API: an OpenAI client resends the whole conversation every turn.

Runs `ponder serve`'s server in this process (its own loop thread, the engine host, port 0) and
drives a --turns conversation with the official `openai` client, greedy, --new-tokens a turn,
each answer sent back as the client would. Per turn it records the prompt tokens, how many came
from the cache (`usage.prompt_tokens_details.cached_tokens`) and were computed (the `ponder`
extension; both from onnxruntime-genai's usage), the engine's time to first token, the request's
wall time, and the idle-time work that followed (the user's typing time; `--no-wait-settled`
sends each follow-up at once).

    python -m bench.api_followups                       # the demo model, 10 turns
    python -m bench.api_followups --model bench/models/phi4-mini-shape-L8 --turns 4 --json out.json
    python -m bench.api_followups --conversations 2 --sessions 1   # two clients, one cached conversation
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from bench.common import machine


def question(turn: int, words: int) -> str:
    return "Please be careful. " * (words // 4) + f"What is {turn} plus {turn + 1}?"


class Server:
    """The API server on the engine host, on a loop thread of its own (as the CLI runs it)."""

    def __init__(self, model: str, threads: int | None, sessions: int) -> None:
        from engine.api.model import HostStatus
        from engine.api.security import ServerConfig
        from engine.api.server import ApiServer
        from engine.host import ModelHost
        from engine.service import InferenceService

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="api-bench-loop", daemon=True)
        self.thread.start()
        self.service = InferenceService()
        self.host = ModelHost(self.service)
        self.server = ApiServer(self.host.assistant, HostStatus(self.host), ServerConfig(port=0, sessions=sessions))
        self.call(self.server.start())
        self.call(self.host.load(model, "cpu", threads=threads), timeout=600)

    def call(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/v1"

    def settled(self) -> float:
        """Wait for the engine's idle-time work; its seconds."""
        started = time.perf_counter()
        self.service.settled().result(600)
        return time.perf_counter() - started

    def close(self) -> None:
        async def stop() -> None:
            await self.server.stop()
            self.host.close()

        self.call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def run(args: argparse.Namespace) -> dict:
    from openai import OpenAI

    from engine.paths import demo_model_dir

    model = str(demo_model_dir()) if args.model == "demo" else str(args.model)
    server = Server(model, args.threads, args.sessions)
    turns = []
    # --conversations of them, taking turns (clients that share one server).
    conversations: list[list[dict]] = [[] for _ in range(args.conversations)]
    try:
        with OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=600) as client:
            served = client.models.list().data[0].id
            for turn in range(1, args.turns + 1):
                for number, messages in enumerate(conversations, 1):
                    messages.append({"role": "user", "content": question(turn + 100 * (number - 1), args.question_tokens)})
                    row = ask(client, served, messages, args.new_tokens)
                    row = {"turn": turn, "conversation": number, **row,
                           "settle_s": server.settled() if args.wait_settled else None}
                    turns.append(row)
                    print(f"turn {turn:2d}{f' (conversation {number})' if args.conversations > 1 else ''}: "
                          f"prompt {row['prompt_tokens']:5d}  cached {row['cached']:5d}  "
                          f"computed {row['computed']:5d}  ttft {row['ttft_s']:6.3f} s  request {row['request_s']:6.3f} s"
                          + (f"  idle work after it {row['settle_s']:6.2f} s" if args.wait_settled else ""),
                          flush=True)
    finally:
        server.close()
    turns_first = [t for t in turns if t["turn"] == 1]
    follow_ups = [t for t in turns if t["turn"] > 1]
    first_ttft = statistics.median(t["ttft_s"] for t in turns_first)
    ratios = [t["ttft_s"] / first_ttft for t in follow_ups if first_ttft]
    summary = {
        "ttft_ratio_median": statistics.median(ratios) if ratios else None,
        "ttft_ratio_max": max(ratios, default=None),
        "first_turn_computed": turns_first[0]["computed"],
        "follow_up_computed_max": max((t["computed"] for t in follow_ups), default=None),
        "follow_ups_with_no_cache": sum(1 for t in follow_ups if t["cached"] == 0),
    }
    if ratios:
        print(f"follow-up ttft / turn-1 ttft: median {summary['ttft_ratio_median']:.2f}, "
              f"max {summary['ttft_ratio_max']:.2f}; follow-ups with nothing cached: "
              f"{summary['follow_ups_with_no_cache']}")
    return {"machine": machine().__dict__, "args": {k: str(v) for k, v in vars(args).items()}, "turns": turns,
            "summary": summary}


def ask(client, served: str, messages: list[dict], new_tokens: int) -> dict:
    """One request, greedy; its answer is appended to `messages` as the client sends it back."""
    started = time.perf_counter()
    completion = client.chat.completions.create(model=served, messages=messages, temperature=0,
                                                max_tokens=new_tokens)
    wall = time.perf_counter() - started
    usage, extra = completion.usage, completion.model_extra["ponder"]
    messages.append({"role": "assistant", "content": completion.choices[0].message.content or ""})
    return {"prompt_tokens": usage.prompt_tokens, "cached": usage.prompt_tokens_details.cached_tokens,
            "computed": extra["computed_prompt_tokens"], "ttft_s": extra["time_to_first_token_s"],
            "request_s": wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="'demo' or a model folder")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--question-tokens", type=int, default=40, help="about this many words per question")
    parser.add_argument("--new-tokens", type=int, default=64,
                        help="cap on each turn's new tokens (the demo answers within 64; a turn cut inside "
                             "its thinking is not settled, so the next one computes the whole history)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--conversations", type=int, default=1, help="conversations taking turns (default: 1)")
    parser.add_argument("--sessions", type=int, default=2,
                        help="the server's API sessions (`ponder serve --sessions`; 1 = main before prompt caching)")
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
