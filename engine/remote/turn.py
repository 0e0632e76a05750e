"""One chat turn on a remote server: request body → streamed chunks → typed events.

Cancellation: the stream is read by its own task, which a watcher cancels within `poll_s` of the
consumer setting the flag; leaving the stream closes the HTTP connection, so the server stops
generating. Budget and Answer now follow the server's Capabilities (engine/remote/capabilities.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from engine.errors import RemoteServerError, RemoteStreamCutError
from engine.events import AnswerDelta, Event, Finished, FinishReason, Stats, ThinkingDelta
from engine.generation import FRAME_S, TurnControl
from engine.prompt import ChatFormat, template_messages
from engine.reasoning import THINK_END, THINK_START, Piece
from engine.remote.capabilities import BudgetMode, Capabilities, ServerKind, budget_fields, resume_fields
from engine.remote.client import RemoteClient
from engine.remote.stream import ChunkError, ChunkParser, TurnCounts
from engine.request import ChatRequest

#: How often the watcher looks at the consumer's flags: Stop must close the stream within 1 s.
POLL_S = 0.05
#: Servers that take sampling fields beyond OpenAI's (OpenAI's own API refuses unknown ones).
_TOP_K_SERVERS = {ServerKind.VLLM, ServerKind.LLAMA_CPP, ServerKind.LLAMA_CPP_PYTHON, ServerKind.PONDER}

_FORCE = "force"  # the reader stopped to close the thinking itself
_DONE = "done"


def request_body(request: ChatRequest, caps: Capabilities) -> dict[str, Any]:
    """The chat-completion body (without model/stream): earlier thinking is never sent back."""
    body: dict[str, Any] = {
        "messages": template_messages(request.messages, ChatFormat(), request.system_prompt),
        "stream_options": {"include_usage": True},
    }
    sampling = request.sampling
    if sampling.greedy:
        body["temperature"] = 0.0
    else:
        body["temperature"], body["top_p"] = sampling.temperature, sampling.top_p
        if caps.server in _TOP_K_SERVERS and sampling.top_k:
            body["top_k"] = sampling.top_k
    if request.max_new_tokens is not None:
        body["max_tokens"] = request.max_new_tokens
    body.update(budget_fields(caps, request))
    return body


def _resumed(body: dict[str, Any], caps: Capabilities, thinking: str, close: bool) -> dict[str, Any]:
    """The same request, continuing a partial assistant message that holds the thinking so far."""
    partial = THINK_START + thinking + (THINK_END + "\n\n" if close else "")
    return {**body, "messages": [*body["messages"], {"role": "assistant", "content": partial}],
            **resume_fields(caps)}


class RemoteTurn:
    """State of one turn: what arrived so far, and how to hand it on."""

    def __init__(self, client: RemoteClient, caps: Capabilities, request: ChatRequest,
                 control: TurnControl, emit: Callable[[Event], None], *, frame_s: float = FRAME_S,
                 poll_s: float = POLL_S) -> None:
        self.client, self.caps, self.request, self.control = client, caps, request, control
        self.emit, self.frame_s, self.poll_s = emit, frame_s, poll_s
        self.counts = TurnCounts()
        self.thinking: list[str] = []
        self.answer: list[str] = []
        self._next_stats = 0.0

    async def run(self) -> Finished:
        """Run the turn; returns (and emits) Finished, or raises a RemoteError (partial text kept)."""
        body = request_body(self.request, self.caps)
        parser = ChunkParser(self.counts)
        can_resume = self.caps.answer_now
        if self.request.resume_thinking is not None and can_resume:
            self.thinking.append(self.request.resume_thinking)
            body = _resumed(body, self.caps, self.request.resume_thinking, self.request.close_thinking)
            parser = ChunkParser(self.counts, start_inside=not self.request.close_thinking,
                                 answer_only=self.request.close_thinking)
        forced: FinishReason | None = None
        outcome = await self._stream(body, parser, allow_force=can_resume)
        if outcome == _FORCE:
            forced = FinishReason.ANSWER_NOW if self.control.answer_now.is_set() else FinishReason.THINKING_BUDGET
            self._emit_pieces(parser.flush())
            self.counts.resumed, self.counts.usage = True, None
            parser = ChunkParser(self.counts, answer_only=True)
            outcome = await self._stream(_resumed(body, self.caps, "".join(self.thinking), True), parser,
                                         allow_force=False)
        if outcome == FinishReason.CANCELLED:
            return self._finish(FinishReason.CANCELLED, forced)
        if parser.finish_reason is None:
            raise self._cut("the stream ended before the server said it was done")
        reason = FinishReason.LENGTH if parser.finish_reason == "length" else FinishReason.STOP
        return self._finish(reason, forced)

    async def _stream(self, body: dict[str, Any], parser: ChunkParser, *, allow_force: bool) -> Any:
        reader = asyncio.ensure_future(self._read(body, parser, allow_force))
        while True:
            done, _ = await asyncio.wait({reader}, timeout=self.poll_s)
            if done:
                return reader.result()
            if self.control.cancel.is_set() or (allow_force and self.control.answer_now.is_set()
                                                 and parser.inside_thinking):
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader  # leaving the stream closes the connection: the server stops
                return FinishReason.CANCELLED if self.control.cancel.is_set() else _FORCE

    async def _read(self, body: dict[str, Any], parser: ChunkParser, allow_force: bool) -> Any:
        try:
            async with contextlib.aclosing(self.client.stream_chat(body)) as chunks:  # type: ignore[type-var]
                async for chunk in chunks:
                    try:
                        self._emit_pieces(parser.feed(chunk))
                    except ChunkError as exc:
                        raise RemoteServerError(self.client.endpoint.base_url, None, str(exc)) from None
                    self._maybe_stats()
                    if self.control.cancel.is_set():  # at once, not at the watcher's next look
                        return FinishReason.CANCELLED
                    if allow_force and parser.inside_thinking and self._must_close_thinking():
                        return _FORCE
        except RemoteStreamCutError as exc:
            self._emit_pieces(parser.flush())
            raise self._cut(exc.detail) from None
        self._emit_pieces(parser.flush())
        return _DONE

    def _must_close_thinking(self) -> bool:
        if self.control.answer_now.is_set():
            return True
        return self.caps.budget is BudgetMode.RESUME and self.request.budget.exhausted(self.counts.thinking_chunks)

    def _emit_pieces(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            if not piece.text:
                continue
            (self.thinking if piece.thinking else self.answer).append(piece.text)
            self.emit(ThinkingDelta(piece.text) if piece.thinking else AnswerDelta(piece.text))

    def _maybe_stats(self) -> None:
        now = time.perf_counter()
        if now >= self._next_stats:
            self._next_stats = now + self.frame_s
            self.emit(self.counts.stats())

    def _cut(self, detail: str) -> RemoteStreamCutError:
        return RemoteStreamCutError(self.client.endpoint.base_url, detail, "".join(self.thinking),
                                    "".join(self.answer))

    def _finish(self, reason: FinishReason, forced: FinishReason | None) -> Finished:
        thinking, answer = "".join(self.thinking), "".join(self.answer)
        stats: Stats = self.counts.stats()
        if forced is None and self.caps.budget is BudgetMode.SERVER_FIELD \
                and self.request.budget.exhausted(stats.thinking_tokens) and reason is FinishReason.STOP:
            forced = FinishReason.THINKING_BUDGET  # the server closed the thinking at the budget
        if reason in (FinishReason.STOP, FinishReason.LENGTH) and not answer.strip():
            reason = FinishReason.NO_ANSWER
        if forced is not None and reason is FinishReason.STOP:
            reason = forced
        finished = Finished(reason, thinking, answer, stats, thinking_forced=forced is not None)
        self.emit(stats)
        self.emit(finished)
        return finished
