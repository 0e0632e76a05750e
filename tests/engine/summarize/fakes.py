"""A scripted stand-in for the Assistant, for what the demo model cannot say (citations, prose).

It implements the same interface as engine.assistant.Assistant.chat: a turn that is an async
iterator of event batches with cancel()."""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.events import AnswerDelta, Finished, FinishReason, Stats
from engine.request import ChatRequest


class ScriptedTurn:
    def __init__(self, answer: str, prompt_tokens: int) -> None:
        self.answer, self.prompt_tokens = answer, prompt_tokens
        self.cancelled, self.sent = False, False

    def cancel(self) -> None:
        self.cancelled = True

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.sent:
            raise StopAsyncIteration
        self.sent = True
        stats = Stats(prompt_tokens=self.prompt_tokens, answer_tokens=len(self.answer.split()))
        if self.cancelled:
            return [Finished(FinishReason.CANCELLED, "", "", stats)]
        return [AnswerDelta(self.answer), stats, Finished(FinishReason.STOP, "", self.answer, stats)]


class ScriptedBackend:
    """Answers each request with script(prompt); records every prompt."""

    def __init__(self, script: Callable[[str], str]) -> None:
        self.script = script
        self.prompts: list[str] = []
        self.requests: list[ChatRequest] = []

    def chat(self, request: ChatRequest) -> ScriptedTurn:
        prompt = request.messages[-1].content
        self.prompts.append(prompt)
        self.requests.append(request)
        return ScriptedTurn(self.script(prompt), len(prompt) // 4)


def numbered_points(prompt: str) -> list[tuple[int, str]]:
    """The "[n] text" lines of a reduce prompt."""
    return [(int(n), text) for n, text in re.findall(r"^\[(\d+)\] (.*)$", prompt, re.MULTILINE)]


class WordCounter:
    """A token counter for fake-engine tests: one token per word (plus punctuation runs)."""

    def count(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]+", text))
