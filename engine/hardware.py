"""Facts about this machine that decide which execution providers are worth trying.

Devices come from onnxruntime's own enumeration (`onnxruntime.get_ep_devices()`: each device's
type, vendor and the execution provider that can use it), on every platform. On Linux, /sys adds
what onnxruntime cannot see without a provider installed (an NVIDIA or AMD card, an Intel or AMD
NPU), so there the list is complete. Elsewhere a device no installed provider claims stays
unknown, and the provider probe decides instead of a guess.
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

_PCI_VENDORS = {"0x10de": "NVIDIA", "0x1002": "AMD", "0x8086": "Intel"}
#: PCI vendor ids, plus the ACPI-style ids onnxruntime reports for Qualcomm ("QCOM") and Apple.
_VENDOR_IDS = {0x10DE: "NVIDIA", 0x1002: "AMD", 0x1022: "AMD", 0x8086: "Intel", 0x5143: "Qualcomm",
               0x4D4F4351: "Qualcomm", 0x106B: "Apple"}
_VENDOR_WORDS = (("nvidia", "NVIDIA"), ("advanced micro devices", "AMD"), ("amd", "AMD"),
                 ("intel", "Intel"), ("qualcomm", "Qualcomm"), ("apple", "Apple"))


@dataclass(frozen=True)
class Device:
    """One CPU, GPU or NPU, and the onnxruntime execution providers that claimed it."""

    kind: str  # "cpu" | "gpu" | "npu"
    vendor: str  # canonical ("NVIDIA", "AMD", "Intel", "Qualcomm", "Apple") or as reported
    providers: tuple[str, ...] = ()  # e.g. ("DmlExecutionProvider",)
    detail: str = ""  # where it was seen (a card, a driver, a device id)

    @property
    def label(self) -> str:
        """What a person reads: 'NVIDIA GPU (card0)'."""
        return f"{self.vendor} {self.kind.upper()}" + (f" ({self.detail})" if self.detail else "")


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
    #: True when a missing GPU/NPU really is missing (Linux: /sys lists every card); False where
    #: only devices an installed provider claims are known (Windows, macOS).
    complete: bool = True
    devices: tuple[Device, ...] = field(default_factory=tuple)

    def has_gpu(self, vendor: str | None = None) -> bool:
        return any(vendor_matches(gpu, vendor) for gpu in self.gpus)

    def has_npu(self, vendor: str | None = None) -> bool:
        return any(vendor_matches(npu, vendor) for npu in self.npus)


def vendor_matches(label: str, vendor: str | None) -> bool:
    """Whether a device label names that vendor (any vendor when None)."""
    return vendor is None or canonical_vendor(label.split(" (")[0]) == vendor


def canonical_vendor(text: str) -> str:
    """'NVIDIA Corporation', 'nvidia', 'NVIDIA GPU' -> 'NVIDIA'; unknown text is kept."""
    lowered = text.lower()
    for word, name in _VENDOR_WORDS:
        if lowered == word or lowered.startswith(word + " ") or lowered.startswith(word + ","):
            return name
    return text


def detect_hardware(ep_devices: Callable[[], Sequence[Any]] | None = None,
                    system: str | None = None) -> HardwareFacts:
    """Read the machine's facts; never raises (missing facts are left empty)."""
    memory = psutil.virtual_memory()
    system = system or platform.system()
    devices = list(devices_from_ort((ep_devices or ort_ep_devices)()))
    if system == "Linux":
        devices = _merge(devices, _linux_gpus() + _linux_npus())
    return HardwareFacts(
        system=system,
        machine=platform.machine(),
        cpu=cpu_name(),
        cores=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
        ram_total=memory.total,
        ram_available=memory.available,
        gpus=tuple(d.label for d in devices if d.kind == "gpu"),
        npus=tuple(d.label for d in devices if d.kind == "npu"),
        complete=system == "Linux",
        devices=tuple(devices),
    )


def ort_ep_devices() -> list[Any]:
    """onnxruntime's device list (empty with an onnxruntime older than 1.22 or none at all)."""
    try:
        import onnxruntime

        return list(onnxruntime.get_ep_devices())
    except Exception as exc:  # noqa: BLE001 - no list is an empty list, never a failed start
        log.debug("onnxruntime did not list devices: %s", exc)
        return []


def devices_from_ort(ep_devices: Iterable[Any]) -> list[Device]:
    """One Device per piece of hardware, with every provider that listed it."""
    found: dict[tuple[str, str, int], Device] = {}
    for ep_device in ep_devices:
        hw = ep_device.device
        kind = str(hw.type).rsplit(".", 1)[-1].lower()
        if kind not in ("cpu", "gpu", "npu"):
            continue
        vendor = _VENDOR_IDS.get(int(hw.vendor_id)) or canonical_vendor(str(hw.vendor) or "Unknown")
        identity = (kind, vendor, int(hw.device_id))
        detail = f"{hw.device_id:#06x}" if kind != "cpu" and hw.device_id else ""
        old = found.get(identity)
        providers = (*(old.providers if old else ()), str(ep_device.ep_name))
        found[identity] = Device(kind, vendor, tuple(dict.fromkeys(providers)), detail)
    return list(found.values())


def _merge(listed: list[Device], seen: list[Device]) -> list[Device]:
    """Add what /sys saw and onnxruntime did not list (same kind and vendor counts as listed)."""
    out = list(listed)
    for device in seen:
        if not any(d.kind == device.kind and d.vendor == device.vendor for d in listed):
            out.append(device)
    return out


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _linux_gpus() -> list[Device]:
    gpus = []
    for card in sorted(Path("/sys/class/drm").glob("card[0-9]*")):
        if "-" in card.name:
            continue  # connectors such as card0-HDMI-A-1
        try:
            vendor = (card / "device" / "vendor").read_text().strip()
        except OSError:
            continue
        if vendor in _PCI_VENDORS:
            gpus.append(Device("gpu", _PCI_VENDORS[vendor], detail=card.name))
    if not any(g.vendor == "NVIDIA" for g in gpus) and Path("/proc/driver/nvidia/gpus").is_dir():
        gpus.append(Device("gpu", "NVIDIA"))
    return gpus


def _linux_npus() -> list[Device]:
    # The accel subsystem hosts Intel's NPU (intel_vpu) and AMD's XDNA driver.
    npus = []
    for accel in sorted(Path("/sys/class/accel").glob("accel*")):
        driver = accel / "device" / "driver"
        name = os.path.basename(os.path.realpath(driver)) if driver.exists() else accel.name
        vendor = "Intel" if "vpu" in name else "AMD" if "xdna" in name else "Unknown"
        npus.append(Device("npu", vendor, detail=name))
    return npus
