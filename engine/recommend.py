"""Which model and variant suit this machine, and why, in numbers.

Inputs are the hardware facts, the GPU memory and the providers this install can offer (the
cheap part of the engine's provider probe; the load itself still proves the provider). All are
injectable, so the logic is tested with the machines users have without owning them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalog.schema import Catalog, CatalogModel, Variant
from engine.hardware import HardwareFacts
from engine.memory import catalog_kv_bytes_per_token
from engine.providers import CANDIDATES, InstallInfo, skip_reason

GB = 1e9
NOT_BUILDABLE = ("has no prebuilt build for this computer, and building one needs the optional tools, "
                 "which this install leaves out (pip install 'ponder-desktop[tools]').")
#: A 14B model on a CPU alone is worth recommending only with this much RAM (it is slow).
BIG_CPU_RAM = 32 * GB

#: What to recommend, best first: (model id, variant id).
PREFERENCE: tuple[tuple[str, str], ...] = (
    ("phi-4-reasoning-plus", "npu-qnn-int4"),
    ("phi-4-mini-reasoning", "npu-qnn-int4"),
    ("phi-4-reasoning", "gpu-int4"),
    ("phi-4-reasoning", "cpu-int4"),
    ("phi-4-mini-reasoning", "gpu-int4"),
    ("phi-4-mini-reasoning", "cpu-int4"),
    # No reasoning, but prebuilt for the CPU: what is left where nothing can be built here.
    ("phi-4-mini-instruct", "cpu-int4"),
)


@dataclass(frozen=True)
class GpuMemory:
    """One GPU's memory, in bytes (free is None when the driver does not say)."""

    name: str
    total: int
    free: int | None = None


@dataclass(frozen=True)
class Machine:
    """Everything the recommendation looks at."""

    ram_total: int
    ram_available: int
    providers: tuple[str, ...]  # provider keys worth trying here, best first
    gpu_memory: tuple[GpuMemory, ...] = ()
    npus: tuple[str, ...] = ()
    #: The optional tools that build a model here are installed (never in the packaged app).
    can_build: bool = True

    @property
    def vram_free(self) -> int | None:
        """Free memory of the biggest GPU, None when unknown (shared-memory GPUs, no driver info)."""
        if not self.gpu_memory:
            return None
        best = max(self.gpu_memory, key=lambda g: g.total)
        return best.free if best.free is not None else best.total


def machine_from(hardware: HardwareFacts, install: InstallInfo,
                 gpu_memory: tuple[GpuMemory, ...] = (), can_build: bool | None = None) -> Machine:
    """Combine the engine's hardware facts and install info into a Machine (can_build: whether
    the model builder's tools are installed; looked up when not given)."""
    keys = tuple(c.key for c in CANDIDATES if skip_reason(c, hardware, install) is None)
    if can_build is None:
        from engine.convert import missing_tools

        can_build = not missing_tools()
    return Machine(hardware.ram_total, hardware.ram_available, keys, gpu_memory, hardware.npus, can_build)


@dataclass(frozen=True)
class Fit:
    """How one variant suits the machine."""

    model: CatalogModel
    variant: Variant
    provider: str | None  # the provider that would run it, None when none can
    needed: float  # bytes
    available: float | None  # bytes of the memory it would use
    memory: str  # "GPU memory" | "RAM"
    buildable: bool = True  # False: it must be built here, and the tools for that are missing

    @property
    def runnable(self) -> bool:
        return self.provider is not None

    @property
    def fits(self) -> bool:
        return self.runnable and (self.available is None or self.needed <= self.available)

    def warning(self) -> str | None:
        """Why this choice will not work well, with the numbers; None when it fits."""
        name = f"{self.model.name} ({self.variant.label})"
        if not self.runnable:
            return f"{name} needs {_needs(self.variant)}, which this computer or install does not offer."
        if not self.buildable:
            return f"{name} {NOT_BUILDABLE}"
        if not self.fits:
            return (f"{name} needs about {self.needed / GB:.1f} GB of {self.memory}; "
                    f"{(self.available or 0) / GB:.1f} GB are free. It may fail to load or be very slow.")
        return None


@dataclass(frozen=True)
class Recommendation:
    """The pick, the reasons in order, and how every variant fits."""

    choice: Fit | None
    reasons: tuple[str, ...]
    fits: tuple[Fit, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        if self.choice is None:
            return "No catalog model fits this computer; try the demo model."
        return f"{self.choice.model.name}, {self.choice.variant.label}"


def assess(model: CatalogModel, variant: Variant, machine: Machine, *, kv_tokens: int = 0) -> Fit:
    """How well one variant fits the machine; kv_tokens: session tokens whose KV cache to count
    on top of the weights (memory.turn_tokens gives them for an effort level)."""
    provider = next((p for p in variant.providers if p in machine.providers), None)
    per_token = catalog_kv_bytes_per_token(model.id, variant.kind) or 0
    needed = variant.memory_gb * GB + kv_tokens * per_token
    buildable = variant.source != "convert" or machine.can_build
    if variant.kind == "gpu" and machine.vram_free is not None:
        return Fit(model, variant, provider, needed, float(machine.vram_free), "GPU memory", buildable)
    return Fit(model, variant, provider, needed, float(machine.ram_available), "RAM", buildable)


def recommend(catalog: Catalog, machine: Machine, *, kv_tokens: int = 0) -> Recommendation:
    """The best model and variant for the machine, with reasons in numbers; kv_tokens as in
    assess (0: weights only)."""
    fits = tuple(assess(m, v, machine, kv_tokens=kv_tokens) for m in catalog.models for v in m.variants)
    by_key = {(f.model.id, f.variant.id): f for f in fits}
    reasons: list[str] = []
    for key in PREFERENCE:
        fit = by_key.get(key)
        if fit is None:
            continue
        name = f"{fit.model.name} ({fit.variant.label})"
        if not fit.runnable:
            reasons.append(f"{name} needs {_needs(fit.variant)}; none here.")
            continue
        if not fit.buildable:
            reasons.append(f"{name} {NOT_BUILDABLE}")
            continue
        if not fit.fits:
            reasons.append(f"{name} needs about {fit.needed / GB:.1f} GB of {fit.memory}; "
                           f"{(fit.available or 0) / GB:.1f} GB are free.")
            continue
        if fit.variant.kind == "cpu" and fit.model.parameters_b > 10 and machine.ram_total < BIG_CPU_RAM:
            reasons.append(f"{name} would run on the CPU alone, too slowly for long reasoning with "
                           f"{machine.ram_total / GB:.0f} GB of RAM (recommended from "
                           f"{BIG_CPU_RAM / GB:.0f} GB).")
            continue
        reasons.append(f"→ {fit.model.name}, {fit.variant.label}: needs about {fit.needed / GB:.1f} GB "
                       f"of {fit.memory}, {(fit.available or 0) / GB:.1f} GB are free"
                       + ("; no prebuilt build fits, so Ponder builds it from the original weights."
                          if fit.variant.source == "convert" else "."))
        return Recommendation(fit, tuple(reasons), fits)
    reasons.append("→ nothing in the catalog fits; the demo model runs anywhere.")
    return Recommendation(None, tuple(reasons), fits)


def _needs(variant: Variant) -> str:
    labels = {"qnn": "a Qualcomm NPU with onnxruntime-qnn", "cuda": "an NVIDIA GPU (CUDA)",
              "dml": "DirectML (Windows)", "webgpu": "WebGPU", "tensorrt-rtx": "TensorRT-RTX"}
    return " or ".join(labels.get(p, p) for p in variant.providers[:3])


def detect_gpu_memory() -> tuple[GpuMemory, ...]:
    """GPU memory from nvidia-smi or the AMD sysfs counters; empty when unknown. Never raises."""
    out: list[GpuMemory] = []
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            text = subprocess.run([smi, "--query-gpu=name,memory.total,memory.free",
                                   "--format=csv,noheader,nounits"], capture_output=True,
                                  text=True, timeout=5, check=True).stdout
            for line in text.strip().splitlines():
                name, total, free = (p.strip() for p in line.rsplit(",", 2))
                out.append(GpuMemory(name, int(total) * 2**20, int(free) * 2**20))
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    for card in sorted(Path("/sys/class/drm").glob("card[0-9]*/device/mem_info_vram_total")):
        try:
            vram = int(card.read_text())
            used = int((card.parent / "mem_info_vram_used").read_text())
            out.append(GpuMemory(f"AMD GPU ({card.parent.parent.name})", vram, vram - used))
        except (OSError, ValueError):
            continue
    return tuple(out)
