"""What a chat title written by the model costs the user's follow-up, titles on vs off.

The window (app/history/titles.py) writes a new chat's title on its own engine session after
the first answer, and cancels it when the user sends. This bench runs that on the engine the
window uses (InferenceService, one worker thread, sessions interleaved step by step): turn 1 on
the chat's session; then, with titles on, the window's own title request (`title_request`) on
the title session; after `--read` seconds (the user reading) the title is cancelled as the
window does and the follow-up is sent on the chat's session. It is timed from the send to its
first token. Rounds alternate titles on and off in one process.

The window itself cannot run this on the bench model: its tokens decode to no text with the
demo tokenizer, and a chat whose answer has no text gets no title. The title request here is
built from the real question and a stand-in answer ("The answer is N."), as short as a real one.

    python -m bench.title_followup --model bench/models/phi4-mini-shape-L32 --rounds 3 --read 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

QUESTION = "Please be careful and explain each step. " * 12 + "What is {a} plus {b}?"
CHAT, TITLE = "bench-chat", "title"


class FirstToken:
    """An emit callback that notes when the first token was counted, and the Finished event."""

    def __init__(self) -> None:
        self.first_at: float | None = None
        self.finished = None
        self.done = threading.Event()

    def __call__(self, event) -> None:
        from engine.events import Failed, Finished, Stats

        if self.first_at is None and isinstance(event, Stats) and event.thinking_tokens + event.answer_tokens:
            self.first_at = time.perf_counter()
        if isinstance(event, (Finished, Failed)):
            self.finished = event
            self.done.set()


def run(args: argparse.Namespace) -> list[dict]:
    from app.chat.conversation import Exchange, Phase, Reply
    from app.history.titles import TITLE_SESSION, title_request
    from engine.budget import ThinkingBudget
    from engine.generation import TurnControl
    from engine.request import ChatRequest, Message, Role, Sampling
    from engine.service import InferenceService, ModelChoice

    assert TITLE == TITLE_SESSION
    service = InferenceService()
    service.load(ModelChoice(str(args.model), threads=args.threads)).result()
    budget = ThinkingBudget(args.thinking_tokens)

    def chat(messages: tuple[Message, ...]) -> ChatRequest:
        return ChatRequest(messages=messages, sampling=Sampling(greedy=True), budget=budget,
                           max_new_tokens=args.new_tokens)

    rounds = []
    try:
        for n in range(args.rounds * 2):
            titles_on = n % 2 == 0
            service.forget(CHAT).result()
            first_q = Message(Role.USER, QUESTION.format(a=n, b=n + 1))
            turn1 = FirstToken()
            service.generate(chat((first_q,)), TurnControl(), turn1, session=CHAT).result()
            answer = "The answer is %d." % (2 * n + 1)  # the bench model's own text is unreadable
            title = FirstToken()
            title_control = TurnControl()
            if titles_on:
                exchange = Exchange(first_q.content, reply=Reply(answer=answer, phase=Phase.DONE))
                service.generate(title_request(exchange), title_control, title, session=TITLE)
            time.sleep(args.read)
            title_running = titles_on and not title.done.is_set()
            title_control.cancel.set()  # the window cancels the title when the user sends
            follow = FirstToken()
            messages = (first_q, Message(Role.ASSISTANT, answer), Message(Role.USER, QUESTION.format(a=n + 7, b=n)))
            sent = time.perf_counter()
            future = service.generate(chat(messages), TurnControl(), follow, session=CHAT)
            if titles_on:
                service.forget(TITLE)  # as the window does once the title turn ends
            future.result()
            if follow.first_at is None:
                raise SystemExit(f"round {n}: the follow-up produced no token: {follow.finished}")
            rounds.append({"titles": titles_on, "title_running_at_send": title_running,
                           "followup_ttft_s": follow.first_at - sent,
                           "followup_s": time.perf_counter() - sent})
            print(json.dumps(rounds[-1]), flush=True)
            service.settled().result()
    finally:
        service.close()
    return rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per arm")
    parser.add_argument("--read", type=float, default=2.0, help="seconds between the answer and the follow-up")
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--thinking-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    from bench.common import machine

    print(machine().describe())
    rounds = run(args)
    print(f"model {args.model.name}, follow-up {args.read:.1f} s after the answer, turns capped at "
          f"{args.new_tokens} tokens")
    for arm in (True, False):
        ttfts = [r["followup_ttft_s"] for r in rounds if r["titles"] is arm]
        print(f"titles {'on ' if arm else 'off'}: follow-up TTFT median {statistics.median(ttfts):.2f} s "
              f"(all: {', '.join(f'{t:.2f}' for t in ttfts)})")
    on = statistics.median(r["followup_ttft_s"] for r in rounds if r["titles"])
    off = statistics.median(r["followup_ttft_s"] for r in rounds if not r["titles"])
    print(f"on ÷ off (median follow-up TTFT): {on / off:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
