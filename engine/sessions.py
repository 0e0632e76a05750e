"""Named conversations inside the inference worker, each with its own KV cache.

onnxruntime-genai 0.18's og.Engine with a classic (non-paged) model batches statically and
allows continuous decoding (a second turn, a rewind) only with exactly ONE resident request per
engine. So each session gets its own og.Engine on the shared og.Model (weights are loaded once;
each engine holds only its request's KV) and the worker thread interleaves their steps. Measured
on the demo model: two engines driven alternately from one thread give each session exactly the
tokens it gives alone (tests/engine/test_sessions.py).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from engine.kv_cache import KvCache

#: Sessions kept resident; the least recently used beyond this is forgotten (its KV freed).
MAX_SESSIONS = 4


@dataclass
class Session:
    """One conversation's engine, cache and what the next turn is expected to start with."""

    name: str
    engine: Any
    buffer: Any
    cache: KvCache = field(default_factory=KvCache)
    #: Tokens the next turn's prompt will start with (history without the last turn's thinking);
    #: fed while the worker is idle so a follow-up computes only its new message.
    settle: list[int] | None = None
    #: Session tokens the last turn could generate, reserved for the next one as well.
    last_max_new: int = 0
    flexible: bool = True

    def close(self) -> None:
        self.cache.close()
        self.settle = None


class SessionPool:
    """The resident sessions of one loaded model, least recently used first. Worker thread only."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self.limit = limit

    def get(self, og: Any, model: Any, name: str, busy: set[str] | frozenset[str] = frozenset()) -> Session:
        """The session called name, created (with its own og.Engine) on first use."""
        session = self._sessions.get(name)
        if session is None:
            self._evict(busy)
            engine = og.Engine(model)
            session = Session(name, engine, engine.create_event_buffer(16))
            self._sessions[name] = session
        self._sessions.move_to_end(name)
        return session

    def forget(self, name: str) -> None:
        session = self._sessions.pop(name, None)
        if session is not None:
            session.close()

    def close_all(self) -> None:
        for name in list(self._sessions):
            self.forget(name)

    def release_idle(self, busy: set[str]) -> bool:
        """Free the caches of sessions that are not running a turn; True if any held one."""
        freed = False
        for session in self._sessions.values():
            if session.name not in busy and session.cache.request is not None:
                session.close()
                freed = True
        return freed

    def settling(self) -> list[Session]:
        """Sessions with idle-time work left, most recently used first."""
        return [s for s in reversed(self._sessions.values()) if s.settle is not None]

    def __contains__(self, name: str) -> bool:
        return name in self._sessions

    def _evict(self, busy: set[str] | frozenset[str]) -> None:
        while len(self._sessions) >= self.limit:
            victim = next((n for n in self._sessions if n not in busy), None)
            if victim is None:
                return
            self.forget(victim)
