"""Streamed chat-completion chunks → thinking and answer, plus the turn's counts.

Servers send thinking one of three ways, told apart by what arrives:
- a `reasoning_content` delta field (DeepSeek, vLLM ≤ 0.8, llama.cpp `--reasoning-format deepseek`),
- a `reasoning` delta field (vLLM ≥ 0.9, Ollama's OpenAI endpoint, OpenRouter),
- `<think>…</think>` inline in `content` (a server without a reasoning parser).
Once a reasoning field has been seen, `content` is answer; until then content goes through the
same ReasoningSplitter the local engine uses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.events import Stats
from engine.reasoning import Piece, ReasoningSplitter

REASONING_FIELDS = ("reasoning_content", "reasoning")


class ChunkError(Exception):
    """The stream carried an error object instead of a chunk."""


@dataclass
class TurnCounts:
    """Running totals of one remote turn; `stats()` prefers the server's usage when it sent one."""

    started: float = field(default_factory=time.perf_counter)
    thinking_chunks: int = 0
    answer_chunks: int = 0
    first_at: float | None = None
    last_at: float | None = None
    usage: dict[str, Any] | None = None
    #: Ponder closed the thinking and resumed in a second request: its usage counts only the
    #: answer (and a server-side reasoning parser may call all of it reasoning).
    resumed: bool = False

    def tick(self, thinking: bool, answer: bool) -> None:
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.thinking_chunks += thinking
        self.answer_chunks += answer

    def stats(self) -> Stats:
        ttft = None if self.first_at is None else self.first_at - self.started
        thinking, answer, prompt, cached = self.thinking_chunks, self.answer_chunks, 0, 0
        usage = self.usage or {}
        completion = _int(usage.get("completion_tokens"))
        if usage:
            prompt = _int(usage.get("prompt_tokens")) or 0
            cached = _int((usage.get("prompt_tokens_details") or {}).get("cached_tokens")) or 0
            reasoning = _int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens"))
            if self.resumed:
                answer = completion if completion is not None else answer
            else:
                thinking = reasoning if reasoning is not None else thinking
                answer = max(0, completion - thinking) if completion is not None else answer
        generated = thinking + answer
        decode = None
        if self.first_at is not None and self.last_at is not None and generated > 1:
            span = self.last_at - self.first_at
            decode = (generated - 1) / span if span > 0 else None
        return Stats(prompt_tokens=prompt, cached_prompt_tokens=cached, thinking_tokens=thinking,
                     answer_tokens=answer, time_to_first_token_s=ttft, decode_tokens_per_s=decode)


class ChunkParser:
    """Feed parsed chunks (one JSON object per SSE `data:` line); get thinking/answer pieces.

    answer_only: everything is answer (the continuation after Ponder itself closed the thinking:
    a reasoning parser on the server would otherwise call it thinking, never having seen the
    closing tag in the output).
    """

    def __init__(self, counts: TurnCounts, *, start_inside: bool = False, answer_only: bool = False) -> None:
        self.counts = counts
        self.splitter = ReasoningSplitter(start_inside=start_inside)
        self.answer_only = answer_only
        #: Where thinking comes from: a field name, "inline", or None until the first text.
        self.source: str | None = None
        self.finish_reason: str | None = None

    @property
    def inside_thinking(self) -> bool:
        """Whether the model is thinking now (so a budget or Answer now would cut in)."""
        if self.answer_only:
            return False
        if self.source in REASONING_FIELDS:
            return self.counts.answer_chunks == 0
        return self.splitter.inside

    def feed(self, chunk: dict[str, Any]) -> list[Piece]:
        """Pieces of text that are certain after this chunk."""
        if not isinstance(chunk, dict):
            raise ChunkError(f"unexpected chunk: {str(chunk)[:200]}")
        error = chunk.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            raise ChunkError(str(message))
        if isinstance(chunk.get("usage"), dict):
            self.counts.usage = chunk["usage"]
        choices = chunk.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            return []
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta") or {}
        pieces: list[Piece] = []
        # Some servers (Ponder's own API among them) send the same text under both names: one
        # delta's thinking is the first field that carries text, never both.
        for key in REASONING_FIELDS:
            text = delta.get(key)
            if isinstance(text, str) and text:
                self.source = self.source if self.source in REASONING_FIELDS else key
                pieces.append(Piece(not self.answer_only, text))
                break
        content = delta.get("content")
        was_inside = self.splitter.inside
        if isinstance(content, str) and content:
            if self.answer_only or self.source in REASONING_FIELDS:
                pieces.append(Piece(False, content))
            else:
                self.source = self.source or "inline"
                pieces.extend(self.splitter.push(content))
        if pieces or (isinstance(content, str) and content):
            inline_thinking = self.source == "inline" and (was_inside or self.splitter.inside)
            thinking = inline_thinking or any(p.thinking for p in pieces)
            self.counts.tick(thinking, not thinking)
        return pieces

    def flush(self) -> list[Piece]:
        """End of stream: text held back by the splitter (a partial tag) is released."""
        return [] if self.source in REASONING_FIELDS else self.splitter.flush()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
