"""Local API overhead: decode tokens/s through `ponder serve`'s server vs the engine directly.

Direct path: `Assistant.chat()` consumed on the asyncio loop (what `ponder ask` does). API path:
the same Assistant behind engine/api's ApiServer on that loop, and a streaming HTTP client (SSE,
http.client) in another process (as a real client is) timing from sending the request to the last chunk holding text;
the token count comes from the stream's usage chunk. Same model copy, greedy, the same fixed
number of new tokens (the demo model's end-of-sequence id is replaced by one it never emits, as in
bench/streaming_overhead.py), the cache reset before every turn, repetitions interleaved.
Then N clients at once: total tokens over the wall time from the first request to the last end.

    python -m bench.api_overhead                         # demo model, 512 tokens, 6 reps, 4 clients
    python -m bench.api_overhead --tokens 1024 --reps 10 --json bench/out/api.json
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import copy_without_eos, finish_turn, machine, median, write_json

PROMPT = "What is 37 plus 45?"


def stream_once(port: int, model: str, tokens: int) -> tuple[int, float]:
    """(completion tokens, seconds from request to the last text chunk) of one streamed request."""
    body = json.dumps({"model": model, "stream": True, "stream_options": {"include_usage": True},
                       "temperature": 0, "max_tokens": tokens, "max_thinking_tokens": 1_000_000,
                       "messages": [{"role": "user", "content": PROMPT}]})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start = time.perf_counter()
    connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    last, count = start, 0
    for line in response:
        if not line.startswith(b"data: {"):
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            count = chunk["usage"]["completion_tokens"]
        elif chunk["choices"] and any(chunk["choices"][0]["delta"].get(k) for k in ("content", "reasoning_content")):
            last = time.perf_counter()
    connection.close()
    return count, last - start


async def measure(folder: Path, tokens: int, reps: int, clients: int) -> dict:
    from engine.api.model import HostStatus, served_model
    from engine.api.security import ServerConfig
    from engine.api.server import ApiServer
    from engine.host import ModelHost
    from engine.request import Sampling, ask
    from engine.service import InferenceService

    host = ModelHost(InferenceService())  # as `ponder serve` runs it
    assistant = host.assistant
    server = ApiServer(assistant, HostStatus(host), ServerConfig(port=0, waiting=clients))
    pool = ProcessPoolExecutor(max(clients, 1))  # clients are other programs: no shared GIL
    loop = asyncio.get_running_loop()
    try:
        ready = await host.load(str(folder), "cpu")
        model = served_model(ready.result, ready.setup)
        await server.start()
        request = ask(PROMPT, sampling=Sampling(greedy=True), max_new_tokens=tokens)

        cpu_ms: dict[str, list[float]] = {"direct": [], "through_api": []}

        async def direct() -> float:
            await assistant.new_conversation()
            cpu, start = time.process_time(), time.perf_counter()
            finished = await finish_turn(assistant, request)
            count = finished.stats.thinking_tokens + finished.stats.answer_tokens
            cpu_ms["direct"].append(1000 * (time.process_time() - cpu) / count)
            return count / (time.perf_counter() - start)

        async def through_api() -> float:
            await assistant.new_conversation()
            cpu = time.process_time()  # this (the server's) process only; the client is another one
            count, seconds = await loop.run_in_executor(pool, stream_once, server.port, model.id, tokens)
            cpu_ms["through_api"].append(1000 * (time.process_time() - cpu) / count)
            return count / seconds

        await direct()
        await through_api()  # warm-up, not counted
        for values in cpu_ms.values():
            values.clear()
        pairs = []
        for rep in range(reps):
            order = [direct, through_api] if rep % 2 == 0 else [through_api, direct]
            results = {fn.__name__: await fn() for fn in order}
            pairs.append((results["direct"], results["through_api"]))
            print(f"rep {rep + 1}/{reps}: direct {results['direct']:6.0f} tok/s, API {results['through_api']:6.0f} "
                  f"tok/s, ratio {results['through_api'] / results['direct']:.1%}", flush=True)
        await assistant.new_conversation()
        start = time.perf_counter()
        done = await asyncio.gather(*(loop.run_in_executor(pool, stream_once, server.port, model.id, tokens)
                                      for _ in range(clients)))
        wall = time.perf_counter() - start
        return {
            "tokens_per_turn": tokens, "reps": reps,
            "direct_tps_median": median([d for d, _ in pairs]),
            "api_tps_median": median([a for _, a in pairs]),
            "ratio_median": median([a / d for d, a in pairs]),
            "ratio_min": min(a / d for d, a in pairs), "ratio_max": max(a / d for d, a in pairs),
            "direct_cpu_ms_per_token_median": median(cpu_ms["direct"]),
            "api_cpu_ms_per_token_median": median(cpu_ms["through_api"]),
            "clients": clients, "aggregate_tps": sum(c for c, _ in done) / wall,
            "aggregate_tokens": sum(c for c, _ in done),
        }
    finally:
        await server.stop()
        pool.shutdown()
        host.close()


def main(argv: list[str] | None = None) -> int:
    from engine.environment import prepare_environment

    prepare_environment()
    parser = argparse.ArgumentParser(description="Decode tokens/s through the local API vs the engine directly.")
    parser.add_argument("--tokens", type=int, default=512, help="new tokens per turn (fixed)")
    parser.add_argument("--reps", type=int, default=6, help="interleaved repetitions per path")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for the aggregate figure")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    from engine.paths import demo_model_dir

    folder, eos = copy_without_eos(demo_model_dir())
    host = machine()
    print(host.describe())
    print(f"model: demo (eos id replaced by {eos} in a temporary copy)")
    try:
        summary = asyncio.run(measure(folder, args.tokens, args.reps, args.clients))
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    print(f"\n{args.tokens} tokens/turn, {args.reps} interleaved pairs (consumer's clock):")
    print(f"  engine directly  median {summary['direct_tps_median']:7.0f} tok/s")
    print(f"  through the API  median {summary['api_tps_median']:7.0f} tok/s")
    print(f"  API / direct     median {summary['ratio_median']:.1%} (range {summary['ratio_min']:.1%} .. "
          f"{summary['ratio_max']:.1%}); goal >= 97%")
    print(f"  server-process CPU per token: direct {summary['direct_cpu_ms_per_token_median']:.3f} ms, "
          f"API {summary['api_cpu_ms_per_token_median']:.3f} ms")
    print(f"  {summary['clients']} concurrent clients: {summary['aggregate_tps']:.0f} tok/s in total "
          f"({summary['aggregate_tokens']} tokens)")
    write_json(args.json, {"machine": host, "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(main())
