"""Carry events from the inference thread to an asyncio loop, at most one batch per frame.

The worker never calls into the loop per token: it appends under a lock and schedules one
delivery if none is pending, so a 2,000 tokens/s model costs the loop ~60 wake-ups a second.
"""

from __future__ import annotations

import asyncio
import threading
import time

from engine.events import Event, Failed, Finished, coalesce

FRAME_S = 0.016


class EventBridge:
    """Thread-safe `put` on one side, `async for batch in bridge` on the other."""

    def __init__(self, loop: asyncio.AbstractEventLoop, frame_s: float = FRAME_S) -> None:
        self._loop = loop
        self._frame_s = frame_s
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._scheduled = False
        self._last_delivery = 0.0
        self._queue: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._closed = False

    def put(self, event: Event) -> None:
        """Called from any thread."""
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._schedule)
        except RuntimeError:
            pass  # the loop is closed: nobody is listening any more

    def _schedule(self) -> None:
        wait = self._last_delivery + self._frame_s - time.monotonic()
        with self._lock:
            final = any(isinstance(e, (Finished, Failed)) for e in self._pending)
        if wait > 0 and not final:
            self._loop.call_later(wait, self._deliver)
        else:
            self._deliver()

    def _deliver(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
        self._last_delivery = time.monotonic()
        if batch:
            self._queue.put_nowait(coalesce(batch))

    def __aiter__(self) -> EventBridge:
        return self

    async def __anext__(self) -> list[Event]:
        if self._closed:
            raise StopAsyncIteration
        batch = await self._queue.get()
        if any(isinstance(e, (Finished, Failed)) for e in batch):
            self._closed = True
        return batch
