"""Plain numbers for the model manager: expected speed here and time to get a model.

Decoding is bound by memory bandwidth: each new token reads all the weights once, so tokens/s is
about the usable bandwidth divided by the weights' size (the rule the benchmarks in bench/ and
llama.cpp's users go by). The bandwidth is measured once, with a large memory copy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: Share of the copy bandwidth decoding achieves on a CPU (attention, KV cache, threads).
CPU_EFFICIENCY = 0.6
#: An unknown connection is assumed to bring this many bytes per second (said in the text).
ASSUMED_DOWNLOAD_BPS = 10e6
#: A rough rate for building a model here (the model builder reads and quantises each weight
#: once on the CPU), in parameters per second per core; the text says "about".
BUILD_PARAMS_PER_CORE_S = 5e6
#: Bytes per parameter of an int4 build (4-bit weights, their scales, 16-bit embeddings).
INT4_BYTES_PER_PARAM = 0.6
GIB = 2**30


def gib(n: float) -> str:
    """Bytes as the `doctor` command writes them (binary gigabytes, one decimal)."""
    return f"{n / GIB:.1f} GB"


def measure_bandwidth(size: int = 64 * 2**20, rounds: int = 3) -> float:
    """Bytes per second a large memory copy moves on this machine (best of a few rounds)."""
    import numpy as np

    source = np.ones(size, dtype=np.uint8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * size / max(best, 1e-6)  # a copy reads and writes every byte


@dataclass(frozen=True)
class Estimate:
    """Expected decoding speed on this machine (None where it cannot be told) and time to get."""

    tokens_per_s: float | None
    download_s: float
    build_s: float

    def speed_text(self) -> str:
        if not self.tokens_per_s:
            return "speed unknown"
        digits = 1 if self.tokens_per_s < 10 else 0
        return f"about {self.tokens_per_s:.{digits}f} tokens/s"

    def time_text(self, size: int) -> str:
        text = f"{gib(size)} download, about {_duration(self.download_s)} at {ASSUMED_DOWNLOAD_BPS / 1e6:.0f} MB/s"
        if self.build_s:
            text += f", then about {_duration(self.build_s)} to build it here"
        return text


def estimate(weights_bytes: int, kind: str, *, bandwidth: float, parameters_b: float, cores: int,
             build: bool) -> Estimate:
    """Speed on the CPU from the measured bandwidth; GPU and NPU speeds are not guessed."""
    speed = bandwidth * CPU_EFFICIENCY / weights_bytes if kind == "cpu" and weights_bytes else None
    build_s = parameters_b * 1e9 / (BUILD_PARAMS_PER_CORE_S * max(1, cores)) if build else 0.0
    return Estimate(speed, weights_bytes / ASSUMED_DOWNLOAD_BPS, build_s)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
