"""32 clients at once, each with a short loop of requests: every answer complete, none lost or mixed
up with another client's, and time to first token reported."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from openai import OpenAI

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

CLIENTS = 32
ROUNDS = 3


def question(client: int, round_: int) -> str:
    return f"What is {10 + client} plus {20 + 7 * round_}?"


def run_client(base_url: str, index: int) -> list[tuple[str, str, str, float | None]]:
    """(question, reasoning, answer, time to first token) for each of this client's requests."""
    out = []
    with OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120) as client:
        for round_ in range(ROUNDS):
            text = question(index, round_)
            messages = [{"role": "user", "content": text}]
            if (index + round_) % 2:
                started, first = time.monotonic(), None
                reasoning, answer, finish = [], [], None
                for chunk in client.chat.completions.create(model="demo", messages=messages, stream=True):
                    choice = chunk.choices[0]
                    part = (choice.delta.model_extra or {}).get("reasoning_content") or ""
                    if (part or choice.delta.content) and first is None:
                        first = time.monotonic() - started
                    reasoning.append(part)
                    answer.append(choice.delta.content or "")
                    finish = choice.finish_reason or finish
                assert finish == "stop"
                out.append((text, "".join(reasoning), "".join(answer), first))
            else:
                completion = client.chat.completions.create(model="demo", messages=messages)
                assert completion.choices[0].finish_reason == "stop"
                message = completion.choices[0].message
                out.append((text, message.model_extra["reasoning_content"], message.content, None))
    return out


def test_32_concurrent_clients_get_their_own_complete_answers(live, client):
    expected = {}
    for index in range(CLIENTS):
        for round_ in range(ROUNDS):
            text = question(index, round_)
            completion = client.chat.completions.create(model="demo", messages=[{"role": "user", "content": text}])
            expected[text] = (completion.choices[0].message.model_extra["reasoning_content"],
                              completion.choices[0].message.content)
    assert len(set(expected.values())) > CLIENTS  # the questions really differ
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda i: run_client(live.base_url, i), range(CLIENTS)))
    ttfts = []
    for index, answers in enumerate(results):
        assert [text for text, *_ in answers] == [question(index, r) for r in range(ROUNDS)]
        for text, reasoning, answer, ttft in answers:
            assert (reasoning, answer) == expected[text], f"client {index} got a wrong or mixed answer"
            if ttft is not None:
                ttfts.append(ttft)
    ttfts.sort()
    p99 = ttfts[min(len(ttfts) - 1, round(0.99 * (len(ttfts) - 1)))]
    print(f"\n{CLIENTS} clients x {ROUNDS}: time to first token p50 {statistics.median(ttfts) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms over {len(ttfts)} streams")
    deadline = time.monotonic() + 5
    while live.run(lambda: (live.server.gate.running, live.server.gate.waiting)) != (0, 0):
        assert time.monotonic() < deadline, "a slot was never handed back"
        time.sleep(0.01)
