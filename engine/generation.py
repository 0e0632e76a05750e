"""One chat turn on the inference thread: prompt → tokens → generate → typed events.

A plain function of its inputs (in Orange3's TaskState style): the control flags come in,
events go out through `emit`, and nothing here knows about threads or asyncio.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ContextTooLongError, EngineFailureError, MemoryBudgetError
from engine.events import (
    AnswerDelta,
    Event,
    Finished,
    FinishReason,
    PromptProgress,
    Stats,
    ThinkingDelta,
)
from engine.kv_cache import common_prefix
from engine.memory import ANSWER_TOKENS, HEADROOM, KvPolicy
from engine.prompt import ChatFormat, render_prompt
from engine.reasoning import ReasoningSplitter
from engine.request import ChatRequest, Role
from engine.runtime import LoadedModel
from engine.sessions import Session
from engine.settle import capacity_for, next_prefix

#: Tokens kept free for the answer when deciding whether the history fits.
MIN_ANSWER_ROOM = 256
#: Default cap on one turn's new tokens: the model cards allow long reasoning.
DEFAULT_MAX_NEW = 16384
#: Extra tokens allowed after a thinking budget for the answer itself.
ANSWER_ALLOWANCE = ANSWER_TOKENS
#: Deltas are gathered on the worker and handed on at most once per frame: at ~2,000 tokens/s
#: one event per token costs more than the model itself.
FRAME_S = 0.016


@dataclass
class TurnControl:
    """Flags the consumer sets and the inference thread checks between steps."""

    cancel: threading.Event = field(default_factory=threading.Event)
    answer_now: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Progress:
    """Running totals of one turn."""

    started: float
    prompt_tokens: int = 0
    cached: int = 0
    computed: int | None = None  # prompt tokens og reports it computed this turn
    dropped: int = 0
    kv_reserved: int | None = None  # bytes the session's cache reserves
    thinking_tokens: int = 0
    answer_tokens: int = 0
    first_token_at: float | None = None
    last_token_at: float | None = None
    thinking: list[str] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)

    def stats(self) -> Stats:
        ttft = None if self.first_token_at is None else self.first_token_at - self.started
        fed = self.prompt_tokens - self.cached if self.computed is None else self.computed
        prefill = fed / ttft if ttft and fed > 0 else None
        generated = self.thinking_tokens + self.answer_tokens
        decode = None
        if self.first_token_at is not None and self.last_token_at and generated > 1:
            span = self.last_token_at - self.first_token_at
            decode = (generated - 1) / span if span > 0 else None
        return Stats(
            prompt_tokens=self.prompt_tokens,
            cached_prompt_tokens=self.prompt_tokens - fed,
            computed_prompt_tokens=fed,
            thinking_tokens=self.thinking_tokens,
            answer_tokens=self.answer_tokens,
            time_to_first_token_s=ttft,
            prefill_tokens_per_s=prefill,
            decode_tokens_per_s=decode,
            dropped_turns=self.dropped,
            kv_reserved_bytes=self.kv_reserved,
        )


def fit_prompt(
    tokenizer: Any, request: ChatRequest, fmt: ChatFormat, max_length: int, reserve: int
) -> tuple[list[int], int]:
    """Token ids of the prompt and how many old turns were dropped to make it fit."""
    messages = list(request.messages)
    dropped = 0
    while True:
        trimmed = ChatRequest(
            messages=tuple(messages), system_prompt=request.system_prompt,
            resume_thinking=request.resume_thinking, close_thinking=request.close_thinking,
        )
        ids = tokenizer.encode(render_prompt(tokenizer, trimmed, fmt)).tolist()
        if len(ids) + reserve <= max_length:
            return ids, dropped
        first_user = next(i for i, m in enumerate(messages) if m.role is Role.USER)
        if first_user == len(messages) - 1:
            raise ContextTooLongError(len(ids) + reserve, max_length)
        # Drop the oldest question and everything up to the next question.
        next_user = next(i for i in range(first_user + 1, len(messages)) if messages[i].role is Role.USER)
        del messages[first_user:next_user]
        dropped += 1


def turn_budget(request: ChatRequest, room: int) -> int:
    """How many tokens this turn may generate."""
    if request.max_new_tokens is not None:
        return min(request.max_new_tokens, room)
    if request.budget.tokens is not None:
        return min(request.budget.tokens + ANSWER_ALLOWANCE, room)
    return min(DEFAULT_MAX_NEW, room)


class _Outbox:
    """Deltas of one turn, merged on the worker and passed to emit once per frame."""

    def __init__(self, emit: Callable[[Event], None], frame_s: float) -> None:
        self.emit, self.frame_s = emit, frame_s
        self.thinking: bool | None = None
        self.parts: list[str] = []
        self.events: list[Event] = []
        self.next_flush = 0.0

    def add(self, thinking: bool, text: str) -> None:
        if self.parts and thinking is not self.thinking:
            self._close_run()
        self.thinking = thinking
        self.parts.append(text)

    def tick(self, stats: Callable[[], Stats]) -> None:
        """Flush if a frame has passed since the last flush."""
        now = time.perf_counter()
        if now >= self.next_flush:
            self.flush(stats())
            self.next_flush = now + self.frame_s

    def flush(self, stats: Stats | None) -> None:
        if self.parts:
            self._close_run()
        for event in self.events:
            self.emit(event)
        self.events = []
        if stats is not None:
            self.emit(stats)

    def _close_run(self) -> None:
        text = "".join(self.parts)
        self.events.append(ThinkingDelta(text) if self.thinking else AnswerDelta(text))
        self.parts = []


def run_turn(
    og: Any,
    loaded: LoadedModel,
    session: Session,
    request: ChatRequest,
    fmt: ChatFormat,
    control: TurnControl,
    emit: Callable[[Event], None],
    *,
    frame_s: float = FRAME_S,
    policy: KvPolicy | None = None,
) -> Finished:
    """Generate one turn to its end, emitting deltas and stats; returns (and emits) Finished."""
    steps = turn_steps(og, loaded, session, request, fmt, control, emit, frame_s=frame_s, policy=policy)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def turn_steps(
    og: Any,
    loaded: LoadedModel,
    session: Session,
    request: ChatRequest,
    fmt: ChatFormat,
    control: TurnControl,
    emit: Callable[[Event], None],
    *,
    frame_s: float = FRAME_S,
    policy: KvPolicy | None = None,
    release: Callable[[], bool] | None = None,
) -> Generator[None, None, Finished]:
    """One turn as steps: yields after each prompt chunk and each engine run, so the worker can
    interleave sessions and see flags; returns the Finished event (also emitted).

    frame_s: how often gathered deltas are handed to emit (0: every token, for tests that act
    at token granularity). release: frees other sessions' caches when memory is short; True if
    it freed any.
    """
    progress = _Progress(started=time.perf_counter())
    cache = session.cache
    session.settle = None  # this turn owns the cache now
    reserve = request.max_new_tokens or MIN_ANSWER_ROOM
    ids, progress.dropped = fit_prompt(loaded.tokenizer, request, fmt, loaded.max_length, min(reserve, loaded.max_length // 2))
    max_new = turn_budget(request, loaded.max_length - len(ids))
    if max_new < 1:
        raise ContextTooLongError(len(ids) + 1, loaded.max_length)
    progress.prompt_tokens = len(ids)
    flexible = request.max_new_tokens is None and request.budget.tokens is None
    reused = cache.reusable(ids, len(ids) + max_new)
    if not reused:
        # A first question reserves only its need; a follow-up, room for the next question too.
        follow_up = any(m.role is Role.ASSISTANT for m in request.messages)
        try:
            capacity = capacity_for(policy, loaded, len(ids), max_new, cache.capacity, flexible, follow_up)
        except MemoryBudgetError:
            if release is None or not release():
                raise
            # Idle sessions' caches were freed (they will be recomputed when used): try again.
            capacity = capacity_for(policy, loaded, len(ids), max_new, cache.capacity, flexible, follow_up)
        cache.renew(og, session.engine, capacity)
        max_new = min(max_new, capacity - len(ids))
    session.last_max_new, session.flexible = max_new, flexible
    progress.cached = reused
    if policy is not None:
        progress.kv_reserved = policy.bytes_for(cache.capacity)
    cache.take_computed()
    fresh = ids[reused:]
    if len(fresh) > 1:
        emit(PromptProgress(0, len(fresh)))  # started: the consumer can say so at once
        yield
    if not control.cancel.is_set():
        for done in cache.feed(og, session.engine, fresh[:-1], session.buffer):
            emit(PromptProgress(done, len(fresh)))
            yield
            if control.cancel.is_set():
                break
    if request.resume_thinking is not None:
        progress.thinking.append(request.resume_thinking)
    resumed_inside = request.resume_thinking is not None and not request.close_thinking
    splitter = ReasoningSplitter(fmt.think_start, fmt.think_end, start_inside=resumed_inside)
    if request.resume_thinking is not None:
        splitter.seen_end = request.close_thinking
    outbox = _Outbox(emit, frame_s)
    if control.cancel.is_set():
        reason, forced = FinishReason.CANCELLED, None
        progress.computed = cache.take_computed()
    else:
        turn = _TurnRunner(og, loaded, session, request, control, outbox, progress, splitter)
        reason, forced = yield from turn.run(fresh[-1:], max_new, fmt)
        for piece in splitter.flush():
            turn.emit_piece(piece.thinking, piece.text)
    outbox.flush(None)
    thinking, answer = "".join(progress.thinking), "".join(progress.answer)
    if reason in (FinishReason.STOP, FinishReason.LENGTH) and not answer.strip():
        reason = FinishReason.NO_ANSWER
    if forced is not None and reason is FinishReason.STOP:
        reason = forced
    finished = Finished(reason, thinking, answer, progress.stats(), thinking_forced=forced is not None)
    # Settle unless the turn was stopped or ended inside its thinking (then "continue thinking"
    # resumes from exactly what the cache holds).
    if reason is not FinishReason.CANCELLED and (answer.strip() or not thinking):
        prefix = next_prefix(loaded.tokenizer, request, fmt, answer)
        headroom = policy.headroom if policy is not None else HEADROOM
        held = common_prefix(cache.tokens, prefix) == len(prefix)
        if not held or len(prefix) + headroom + max_new > cache.capacity:
            session.settle = prefix  # drop the thinking, or make room for the next turn, while idle
    emit(finished)
    return finished


class _TurnRunner:
    """The generate loop of one turn, with budget forcing and cancellation."""

    def __init__(self, og, loaded, session, request, control, outbox, progress, splitter) -> None:
        self.og, self.loaded, self.session, self.cache = og, loaded, session, session.cache
        self.request, self.control, self.outbox, self.progress, self.splitter = request, control, outbox, progress, splitter
        self.eos = set(loaded.tokenizer.eos_token_ids) | set(loaded.folder.eos_token_ids)
        self.stream = loaded.tokenizer.create_stream()
        self.buffer = session.buffer

    def run(self, fresh_ids: list[int], max_new: int, fmt: ChatFormat):
        forced: FinishReason | None = None
        reason, generated = yield from self._generate(fresh_ids, max_new, allow_force=True)
        if reason is _FORCE:
            forced = FinishReason.ANSWER_NOW if self.control.answer_now.is_set() else FinishReason.THINKING_BUDGET
            # The request's budget message (an API option) goes before the closing marker.
            message = self.request.budget_message if forced is FinishReason.THINKING_BUDGET else ""
            close = message + fmt.forced_think_end
            closing = self.loaded.tokenizer.encode(close).tolist()
            for piece in self.splitter.push(close):
                self.emit_piece(piece.thinking, piece.text)
            self.stream = self.loaded.tokenizer.create_stream()
            reason, _ = yield from self._generate(closing, max(1, max_new - generated), allow_force=False)
        return reason, forced

    def _generate(self, ids: list[int], max_new: int, *, allow_force: bool):
        og = self.og
        options = og.TurnOptions(self.cache.request)
        options.set_max_generated_tokens(max_new)
        sampling = self.request.sampling
        if sampling.greedy:
            options.set_do_sample(False)
            options.set_top_k(1)
        else:
            options.set_do_sample(True)
            options.set_temperature(sampling.temperature)
            options.set_top_p(sampling.top_p)
            options.set_top_k(sampling.top_k)
        turn_id = self.cache.begin_turn(ids, options)
        generated = 0
        ending: FinishReason | _Cut | None = None  # what we asked for when cancelling the turn
        result: FinishReason | None = None
        engine = self.session.engine
        # Plain ints: pybind11 enum attribute lookups and `&` cost microseconds per token.
        token_flag = int(og.EngineEventFlags.TOKEN)
        failed_flag = int(og.EngineEventFlags.FAILED)
        finished_flag = int(og.EngineEventFlags.TURN_FINISHED)
        while engine.has_pending_requests():
            for event in engine.run(self.buffer):
                flags = int(event.flags)
                if flags & token_flag:
                    generated += 1
                    self._on_token(event.token)
                if flags & failed_flag:
                    raise EngineFailureError(f"generation failed (error code {event.error_code})")
                if flags & finished_flag:
                    result = _map_finish(og, event.finish_reason)
                    if allow_force:  # the first generation turn: its prompt part is the user's
                        self.cache.computed += int(event.usage.prompt_tokens)
                        self.progress.computed = self.cache.take_computed()
            self.outbox.tick(self.progress.stats)
            if ending is None and result is None:
                if self.control.cancel.is_set():
                    ending = FinishReason.CANCELLED
                elif allow_force and self.splitter.inside and self._must_close_thinking():
                    ending = _FORCE
                if ending is not None:
                    self.cache.request.cancel_turn(turn_id)
            if engine.has_pending_requests():
                yield
        if ending is not None:
            return ending, generated
        return result or FinishReason.STOP, generated

    def _must_close_thinking(self) -> bool:
        # A spent budget closes the thinking at the next sentence end (within a small grace).
        tail = "".join(self.progress.thinking[-4:])
        return self.control.answer_now.is_set() or self.request.budget.should_close(self.progress.thinking_tokens, tail)

    def _on_token(self, token: int) -> None:
        now = time.perf_counter()
        progress = self.progress
        if progress.first_token_at is None:
            progress.first_token_at = now
        progress.last_token_at = now
        if token in self.eos:
            return  # not kept in the sequence by onnxruntime-genai either
        self.cache.tokens.append(token)
        was_inside = self.splitter.inside
        pieces = self.splitter.push(self.stream.decode(token))
        if was_inside or self.splitter.inside:
            progress.thinking_tokens += 1
        else:
            progress.answer_tokens += 1
        for piece in pieces:
            self.emit_piece(piece.thinking, piece.text)

    def emit_piece(self, thinking: bool, text: str) -> None:
        if not text:
            return
        (self.progress.thinking if thinking else self.progress.answer).append(text)
        self.outbox.add(thinking, text)


class _Cut(enum.Enum):
    """Why _generate cut its own turn, where that is not a FinishReason the user sees."""

    FORCE = "force"  # to close the thinking (budget spent or "answer now")


_FORCE = _Cut.FORCE


def _map_finish(og: Any, reason: Any) -> FinishReason:
    names = og.FinishReason
    if reason == names.EOS or reason == names.STOP_STRING:
        return FinishReason.STOP
    if reason == names.CANCELLED:
        return FinishReason.CANCELLED
    if reason == names.FAILED:
        raise EngineFailureError("generation failed")
    return FinishReason.LENGTH
