"""Reuse of the key-value cache across turns of one conversation.

The whole history is re-rendered each turn; the cache is rewound to the longest common token
prefix and only the rest is fed. onnxruntime-genai's Engine can only rewind to the start of a
turn, so the rewind lands on the last turn boundary at or before the common prefix. To put a
boundary where the generated text begins (that is where the next render diverges, since earlier
thinking is not sent back), the prompt goes in as its own turn, cancelled before it runs: its
tokens join the sequence and are computed with the next turn's (verified equal to one prefill).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class KvCache:
    """The og.Request that holds the cache, the tokens in it and where its turns began."""

    request: Any = None
    capacity: int = 0
    tokens: list[int] = field(default_factory=list)
    turn_starts: list[tuple[int, int]] = field(default_factory=list)  # (turn id, token index)

    def close(self) -> None:
        if self.request is not None:
            self.request.close()
        self.request, self.capacity, self.tokens, self.turn_starts = None, 0, [], []

    def prepare(self, og: Any, engine: Any, ids: list[int], capacity: int) -> int:
        """Make the cache hold a prefix of ids; returns how many tokens are reused."""
        if self.request is not None and capacity <= self.capacity:
            reused = self._rewind_to_common_prefix(ids)
            if reused is not None:
                return reused
        self.close()
        options = og.RequestOptions()
        options.set_max_session_tokens(capacity)
        self.request = engine.create_request(options=options)
        self.capacity = capacity
        return 0

    def _rewind_to_common_prefix(self, ids: list[int]) -> int | None:
        common = _common_prefix(self.tokens, ids)
        if common == len(ids):
            common -= 1  # at least one token must be fed to get fresh logits
        if common >= len(self.tokens):
            return len(self.tokens)
        for index in range(len(self.turn_starts) - 1, -1, -1):
            turn_id, start = self.turn_starts[index]
            if start <= common:
                self.request.rewind_to_start_of_turn(turn_id)
                del self.turn_starts[index:]
                del self.tokens[start:]
                return start
        return None

    def begin_turn(self, og: Any, engine: Any, ids: list[int], turn_options: Any) -> int:
        """Feed ids (what follows the cached prefix) and start generating from their end."""
        if len(ids) > 1:
            boundary = self._begin(ids[:-1], og.TurnOptions(self.request))
            self.request.cancel_turn(boundary)
            buffer = engine.create_event_buffer(4)
            while engine.has_pending_requests():
                engine.run(buffer)
            ids = ids[-1:]
        return self._begin(ids, turn_options)

    def _begin(self, ids: list[int], turn_options: Any) -> int:
        import numpy as np  # here, not at import: it costs the window ~0.5 s of start-up

        turn_id = self.request.begin_turn(np.asarray(ids, dtype=np.int32), turn_options)
        self.turn_starts.append((turn_id, len(self.tokens)))
        self.tokens.extend(ids)
        return turn_id


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
