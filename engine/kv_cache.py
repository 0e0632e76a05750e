"""The key-value cache of one conversation: an og.Request and the tokens it holds.

What onnxruntime-genai 0.18's og.Engine allows, measured (bench/RESULTS.md, "KV reuse"):

* A request's `max_session_tokens` is fixed when it is created; with past_present_share_buffer
  the KV for all of it is allocated up front. It cannot grow: growing means a new request.
* `Request.rewind_to_start_of_turn` is not a cheap rewind: the next `Engine.run` recomputes every
  token kept before that turn, in one uninterruptible call (a follow-up after a rewind cost as
  much as prefilling the whole history). Ponder therefore never rewinds: a cache that diverges
  from the new prompt is replaced by a new request fed in chunks, which costs the same but can
  be stopped between chunks and reports progress.
* A static engine prefills a whole turn in one `Engine.run` call (`search.chunk_size` needs
  dynamic batching). A chunk is fed as its own turn whose guidance grammar allows only the end
  of sequence: the chunk is computed in one short run, the forced EOS is not kept in the
  sequence, and the tokens that follow are exactly a one-shot prefill's (checked by tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: A grammar that matches only the empty string: the turn may generate nothing but EOS.
_EMPTY_GRAMMAR = 'start: ""'
#: First chunk size; later chunks are sized from the measured speed to take about CHUNK_S.
#: Each chunk pays about one decode step of fixed cost (the int4 weights are read once per run),
#: so the prefill loses ~ step / CHUNK_S of its speed: ~9 % at depth 32 (66 ms steps); 3 % would
#: need ~2.2 s chunks, against Stop's 1 s. 0.75 s is the compromise (bench/RESULTS.md).
FIRST_CHUNK = 16
MIN_CHUNK, MAX_CHUNK = 8, 1024
CHUNK_S = 0.75


@dataclass
class KvCache:
    """The og.Request that holds the cache, its capacity and the tokens in it."""

    request: Any = None
    capacity: int = 0
    tokens: list[int] = field(default_factory=list)
    #: Tokens computed since the last `take_computed` (from og's own usage counts).
    computed: int = 0
    chunk: int = FIRST_CHUNK

    def close(self) -> None:
        if self.request is not None:
            self.request.close()
        self.request, self.capacity, self.tokens = None, 0, []

    def reusable(self, ids: list[int], need: int) -> int:
        """How many leading tokens of ids the cache can keep for a turn that needs `need` tokens
        of session in all (0: a new request is needed)."""
        if self.request is None or need > self.capacity:
            return 0
        held = len(self.tokens)
        if held >= len(ids) or ids[:held] != self.tokens:
            return 0  # diverges (or nothing new to feed): no cheap rewind exists, see above
        return held

    def renew(self, og: Any, engine: Any, capacity: int) -> None:
        """Drop the cache and open an empty request of `capacity` tokens."""
        self.close()
        options = og.RequestOptions()
        options.set_max_session_tokens(capacity)
        self.request = engine.create_request(options=options)
        self.capacity = capacity

    def feed(self, og: Any, engine: Any, ids: list[int], buffer: Any) -> Iterator[int]:
        """Compute ids in chunks without generating; yields the tokens fed so far after each
        chunk, so the caller may stop between chunks (the cache then holds what was fed)."""
        import time

        done = 0
        while done < len(ids):
            part = ids[done : done + self.chunk]
            options = og.TurnOptions(self.request)
            options.set_max_generated_tokens(1)
            options.set_do_sample(False)
            options.set_top_k(1)
            options.set_guidance("lark_grammar", _EMPTY_GRAMMAR)
            started = time.perf_counter()
            self._begin(part, options)
            _run_until_idle(og, engine, buffer, self)
            elapsed = time.perf_counter() - started
            done += len(part)
            if elapsed > 0 and len(part) >= MIN_CHUNK:
                # Grow at most 1.5x a chunk: a speed measured in a quiet moment must not make
                # one long chunk (Stop waits for it) when the machine gets busy again.
                target = int(len(part) * CHUNK_S / elapsed)
                self.chunk = max(MIN_CHUNK, min(MAX_CHUNK, target, int(len(part) * 1.5)))
            yield done

    def begin_turn(self, ids: list[int], turn_options: Any) -> int:
        """Feed ids (what follows the cached prefix) and start generating from their end."""
        return self._begin(ids, turn_options)

    def take_computed(self) -> int:
        """Prompt tokens og reports computed since the last call."""
        value, self.computed = self.computed, 0
        return value

    def _begin(self, ids: list[int], turn_options: Any) -> int:
        import numpy as np  # here, not at import: it costs the window ~0.5 s of start-up

        turn_id = self.request.begin_turn(np.asarray(ids, dtype=np.int32), turn_options)
        self.tokens.extend(ids)
        return turn_id


def _run_until_idle(og: Any, engine: Any, buffer: Any, cache: KvCache) -> None:
    from engine.errors import EngineFailureError

    finished = int(og.EngineEventFlags.TURN_FINISHED)
    failed = int(og.EngineEventFlags.FAILED)
    while engine.has_pending_requests():
        for event in engine.run(buffer):
            flags = int(event.flags)
            if flags & failed:
                raise EngineFailureError(f"prompt feeding failed (error code {event.error_code})")
            if flags & finished:
                cache.computed += int(event.usage.prompt_tokens)


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def warm_chunking(og: Any, engine: Any) -> None:
    """Feed one guidance chunk once per loaded model: onnxruntime-genai builds its token table for
    guidance on first use (measured 1–2.5 s with a 200,000-token vocabulary, then under 1 ms), so
    this keeps that cost out of the first question. Never raises."""
    try:
        cache = KvCache()
        cache.renew(og, engine, 8)
        for _ in cache.feed(og, engine, [0], engine.create_event_buffer(4)):
            pass
        cache.close()
    except Exception:  # a model that cannot do this will fail, with a message, on its first turn
        import logging

        logging.getLogger(__name__).debug("warming the chunked prefill failed", exc_info=True)
