"""Facts about this machine that decide which execution providers are worth trying."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import psutil

_PCI_VENDORS = {"0x10de": "NVIDIA", "0x1002": "AMD", "0x8086": "Intel"}


@dataclass(frozen=True)
class HardwareFacts:
    """What the machine has. Built by detect_hardware(), or by tests."""

    system: str
    machine: str
    cpu: str
    cores: int
    ram_total: int
    ram_available: int
    gpus: tuple[str, ...] = field(default_factory=tuple)
    npus: tuple[str, ...] = field(default_factory=tuple)

    def has_gpu(self, vendor: str | None = None) -> bool:
        return any(vendor is None or gpu.startswith(vendor) for gpu in self.gpus)

    def has_npu(self, vendor: str | None = None) -> bool:
        return any(vendor is None or npu.startswith(vendor) for npu in self.npus)


def detect_hardware() -> HardwareFacts:
    """Read the machine's facts; never raises (missing facts are left empty)."""
    memory = psutil.virtual_memory()
    return HardwareFacts(
        system=platform.system(),
        machine=platform.machine(),
        cpu=cpu_name(),
        cores=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
        ram_total=memory.total,
        ram_available=memory.available,
        gpus=tuple(_linux_gpus()) if platform.system() == "Linux" else _assumed_gpus(),
        npus=tuple(_linux_npus()) if platform.system() == "Linux" else _assumed_npus(),
    )


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _linux_gpus() -> list[str]:
    gpus = []
    for card in sorted(Path("/sys/class/drm").glob("card[0-9]*")):
        if "-" in card.name:
            continue  # connectors such as card0-HDMI-A-1
        try:
            vendor = (card / "device" / "vendor").read_text().strip()
        except OSError:
            continue
        if vendor in _PCI_VENDORS:
            gpus.append(f"{_PCI_VENDORS[vendor]} GPU ({card.name})")
    if not any(g.startswith("NVIDIA") for g in gpus) and Path("/proc/driver/nvidia/gpus").is_dir():
        gpus.append("NVIDIA GPU")
    return gpus


def _linux_npus() -> list[str]:
    # The accel subsystem hosts Intel's NPU (intel_vpu) and AMD's XDNA driver.
    npus = []
    for accel in sorted(Path("/sys/class/accel").glob("accel*")):
        driver = accel / "device" / "driver"
        name = os.path.basename(os.path.realpath(driver)) if driver.exists() else accel.name
        vendor = "Intel" if "vpu" in name else "AMD" if "xdna" in name else "Unknown"
        npus.append(f"{vendor} NPU ({name})")
    return npus


def _assumed_gpus() -> tuple[str, ...]:
    # Windows and macOS: no cheap, dependency-free enumeration; let the provider probe decide.
    return ("GPU (not enumerated on this system)",)


def _assumed_npus() -> tuple[str, ...]:
    if platform.system() == "Windows":
        return ("NPU (not enumerated on this system)",)
    return ()  # macOS: no onnxruntime-genai NPU path
