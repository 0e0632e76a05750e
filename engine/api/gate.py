"""The bounded, first-come-first-served queue in front of the inference worker.

`active` requests run at once (one per engine session: 1 while the worker runs one turn at a
time), up to `waiting` more wait in arrival order, and anything beyond is refused at once with
QueueFull (the server answers 429 with Retry-After) instead of piling up without bound.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque


class QueueFull(Exception):
    """No room in the queue; retry_after is a guess in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"queue full, retry after {retry_after} s")
        self.retry_after = retry_after


class RequestGate:
    """Hands out slot numbers 0..active-1 (each its own engine session) in arrival order."""

    def __init__(self, active: int = 1, waiting: int = 64) -> None:
        if active < 1 or waiting < 0:
            raise ValueError("active must be at least 1 and waiting not negative")
        self.active, self.max_waiting = active, waiting
        self._free = list(range(active - 1, -1, -1))
        self._waiters: deque[asyncio.Future[int]] = deque()
        #: Running mean of how long a slot is held, for Retry-After.
        self.mean_hold_s = 1.0

    @property
    def running(self) -> int:
        return self.active - len(self._free)

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    async def acquire(self) -> int:
        """A free slot, waiting in line if needed; QueueFull when the line is full."""
        if self._free and not self.waiting:
            return self._free.pop()
        if self.waiting >= self.max_waiting:
            turns_ahead = (self.waiting + self.running) / self.active
            raise QueueFull(max(1, math.ceil(turns_ahead * self.mean_hold_s)))
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())  # handed a slot just as the client left
            else:
                self._waiters.remove(waiter)
            raise

    def release(self, slot: int, held_s: float | None = None) -> None:
        """Give a slot back (to the next in line, if any)."""
        if held_s is not None:
            self.mean_hold_s = 0.8 * self.mean_hold_s + 0.2 * held_s
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._free.append(slot)
