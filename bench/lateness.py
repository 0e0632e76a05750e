"""Event-loop timer lateness: a 5 ms ticker on our loop and a control ticker in another process.

Used by bench/responsiveness.py. Lateness = how much later than TICK_S a `sleep(TICK_S)` woke.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench.common import percentile

TICK_S = 0.005
#: The control ticker: a plain asyncio loop in its own process, until its stdin closes.
#: perf_counter is CLOCK_MONOTONIC on Linux, so its samples line up with ours.
CONTROL = """
import asyncio, json, sys, time
async def main():
    loop, samples = asyncio.get_running_loop(), []
    stop = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
    while not stop.done():
        start = time.perf_counter()
        await asyncio.sleep(%r)
        samples.append((start, time.perf_counter() - start - %r))
    json.dump(samples, sys.stdout)
asyncio.run(main())
""" % (TICK_S, TICK_S)


@dataclass
class Ticker:
    """Sleeps TICK_S on the running loop until stopped; keeps (start, lateness) samples."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        while self.running:
            start = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.samples.append((start, time.perf_counter() - start - TICK_S))


@dataclass(frozen=True)
class Phase:
    """Timer lateness while one phase ran."""

    samples: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    max_at_s: float  # when the latest tick began, from the start of the phase

    @staticmethod
    def of(samples: list[tuple[float, float]], begin: float, end: float) -> Phase:
        inside = [(lateness * 1000, start - begin) for start, lateness in samples if begin <= start < end]
        late = [ms for ms, _ in inside]
        worst = max(inside, default=(float("nan"), float("nan")))
        return Phase(len(late), end - begin, percentile(late, 50), percentile(late, 99), worst[0], worst[1])

    def line(self) -> str:
        return (f"{self.samples:5d} ticks over {self.seconds:7.2f} s   p50 {self.p50_ms:8.2f} ms   "
                f"p99 {self.p99_ms:9.2f} ms   max {self.max_ms:9.2f} ms (at +{self.max_at_s:.2f} s)")


class ControlTicker:
    """The same ticker in a separate process (plain asyncio, no GIL shared with us).

    Its lateness is what the machine's scheduler alone costs at that moment.
    """

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-c", CONTROL], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE)

    async def stop(self) -> list[tuple[float, float]]:
        """Stop it and return its (start, lateness) samples."""
        loop = asyncio.get_running_loop()
        stdout, _ = await loop.run_in_executor(None, self._process.communicate, b"")
        return [(start, lateness) for start, lateness in json.loads(stdout)]
