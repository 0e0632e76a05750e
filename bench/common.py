"""Helpers shared by the benchmarks: machine facts, percentiles, model folders.

Benchmarks report figures; they never assert times.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import statistics
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_MODELS = ROOT / "bench" / "models"


@dataclass(frozen=True)
class Machine:
    """Where a figure was measured."""

    cpu: str
    cores: int
    ram_gib: float
    os: str
    python: str
    onnxruntime: str
    onnxruntime_genai: str
    load_average: str
    date: str

    def describe(self) -> str:
        """One line for the report."""
        return (f"{self.cpu}, {self.cores} cores, {self.ram_gib:.0f} GiB RAM, {self.os}, Python {self.python}, "
                f"onnxruntime {self.onnxruntime}, onnxruntime-genai {self.onnxruntime_genai}, "
                f"load average at start {self.load_average}, {self.date}")


def machine() -> Machine:
    """Facts about this machine and the installed runtime."""
    from importlib.metadata import version

    import psutil

    from engine.hardware import cpu_name

    cpu = cpu_name()
    try:
        release = platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, AttributeError, KeyError):
        release = platform.platform()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return Machine(
        cpu=cpu,
        cores=psutil.cpu_count(logical=True) or 0,
        ram_gib=psutil.virtual_memory().total / 2**30,
        os=f"{release} ({platform.system()} {platform.release()})",
        python=platform.python_version(),
        onnxruntime=version("onnxruntime"),
        onnxruntime_genai=version("onnxruntime-genai"),
        load_average=load,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between ranks; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    """statistics.median, nan when empty."""
    return statistics.median(values) if values else float("nan")


def copy_without_eos(folder: Path) -> tuple[Path, int]:
    """A temporary copy of a model folder whose end-of-sequence id is never generated.

    Throughput runs need every turn to produce exactly max_new_tokens; a model that answers
    and stops after 30 tokens (the demo model) would measure start-up, not decoding. The
    weights are the same; only genai_config.json's eos_token_id changes, to the id of "~" (or
    another rare character), which no arithmetic answer contains (onnxruntime-genai refuses ids outside the
    vocabulary). Returns the folder (the caller deletes it) and the id used.
    """
    vocab = json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]
    rare = [vocab[c] for c in ("~", "^", "`", "|") if c in vocab]
    if not rare:
        raise SystemExit(f"{folder}: no rare single-character token to stand in for end of sequence")
    never = int(rare[0])
    target = Path(tempfile.mkdtemp(prefix="ponder-bench-")) / folder.name
    shutil.copytree(folder, target)
    path = target / "genai_config.json"
    config = json.loads(path.read_text())
    config["model"]["eos_token_id"] = [never]
    path.write_text(json.dumps(config, indent=4))
    return target, never


def write_json(path: Path | None, payload: dict) -> None:
    """Save the raw figures next to the printed report when asked."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o)))


async def finish_turn(assistant, request):
    """Run one chat turn to its end; returns the Finished event (raises a Failed event's error)."""
    from engine.events import Failed, Finished

    finished = None
    async for batch in assistant.chat(request):
        for event in batch:
            if isinstance(event, Failed):
                raise event.error
            if isinstance(event, Finished):
                finished = event
    return finished
