"""What the model manager needs to know about this computer, gathered off the GUI thread.

Each step can block: nvidia-smi (up to a 5 s timeout), walking other tools' model caches, a
64 MB memory copy for the bandwidth, and emptying the store's trash. The window used to do
them on the GUI thread when File → Models… opened; now `probe()` is an ops operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ops import TaskState
from engine.catalog.schema import Catalog
from engine.download.store import ModelStore
from engine.recommend import Machine
from engine.reuse import FoundModel


@dataclass(frozen=True)
class Probe:
    """This computer as the model manager sees it."""

    machine: Machine
    found: list[FoundModel]
    bandwidth: float  # bytes/s of a large memory copy
    cores: int


def physical_cores() -> int:
    import os

    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def probe(store: ModelStore, catalog: Catalog, state: TaskState) -> Probe:
    """Clean the store up, then look at the hardware, the install and other tools' models."""
    from app.models.estimate import measure_bandwidth
    from engine.hardware import detect_hardware
    from engine.providers import detect_install
    from engine.recommend import detect_gpu_memory, machine_from
    from engine.reuse import find_reusable

    try:
        store.cleanup()
    except OSError:
        pass  # a read-only store says so when something is installed into it
    state.check()
    machine = machine_from(detect_hardware(), detect_install(), detect_gpu_memory())
    state.check()
    found = find_reusable(catalog)
    state.check()
    return Probe(machine, found, measure_bandwidth(), physical_cores())
