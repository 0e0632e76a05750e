"""Device lists of four kinds of machine, shaped exactly like onnxruntime.get_ep_devices()'s.

`FakeEpDevice` / `FakeHardwareDevice` carry the attributes of onnxruntime's OrtEpDevice and
OrtHardwareDevice (test_hardware.py checks them against the real objects), with the real
`onnxruntime.OrtHardwareDeviceType` as the type. The lists are written from the documented
fields and the vendor ids drivers report (PCI ids; Qualcomm's "QCOM"), with the providers a
default install of each platform registers: they were not captured on those machines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import onnxruntime  # noqa: E402

Type = onnxruntime.OrtHardwareDeviceType


@dataclass(frozen=True)
class FakeHardwareDevice:
    type: object
    vendor: str
    vendor_id: int
    device_id: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeEpDevice:
    ep_name: str
    ep_vendor: str
    device: FakeHardwareDevice
    ep_metadata: dict[str, str] = field(default_factory=dict)
    ep_options: dict[str, str] = field(default_factory=dict)

    def memory_info(self, *args):  # pragma: no cover - part of the interface, unused by Ponder
        raise NotImplementedError

    def create_sync_stream(self, *args):  # pragma: no cover - part of the interface
        raise NotImplementedError


def _cpu(vendor: str, vendor_id: int) -> FakeEpDevice:
    return FakeEpDevice("CPUExecutionProvider", "Microsoft", FakeHardwareDevice(Type.CPU, vendor, vendor_id, 0))


INTEL_CPU = _cpu("Intel Corporation", 0x8086)
NVIDIA_GPU = FakeHardwareDevice(Type.GPU, "NVIDIA", 0x10DE, 0x28A0, {"Discrete": "1", "Description": "NVIDIA GeForce RTX 4060 Laptop GPU"})
INTEL_IGPU = FakeHardwareDevice(Type.GPU, "Intel Corporation", 0x8086, 0xA7A0, {"Discrete": "0"})

#: A Windows laptop with an NVIDIA GPU next to Intel graphics (DirectML build installed).
WINDOWS_NVIDIA_LAPTOP = (
    INTEL_CPU,
    FakeEpDevice("DmlExecutionProvider", "Microsoft", INTEL_IGPU),
    FakeEpDevice("DmlExecutionProvider", "Microsoft", NVIDIA_GPU),
)

_ADRENO = FakeHardwareDevice(Type.GPU, "Qualcomm", 0x4D4F4351, 0x36334330, {"Description": "Qualcomm(R) Adreno(TM) X1-85 GPU"})
_HEXAGON = FakeHardwareDevice(Type.NPU, "Qualcomm", 0x4D4F4351, 0x0, {"Description": "Snapdragon(R) X Elite - X1E78100 - Qualcomm(R) Hexagon(TM) NPU"})
#: A Snapdragon X laptop with the QNN plugin registered.
SNAPDRAGON_X = (
    _cpu("Qualcomm", 0x4D4F4351),
    FakeEpDevice("DmlExecutionProvider", "Microsoft", _ADRENO),
    FakeEpDevice("QNNExecutionProvider", "QNN", _HEXAGON, {"version": "2.37"}),
)

_ARC = FakeHardwareDevice(Type.GPU, "Intel Corporation", 0x8086, 0x7D55, {"Discrete": "0"})
_INTEL_NPU = FakeHardwareDevice(Type.NPU, "Intel Corporation", 0x8086, 0x7D1D)
#: An Intel Core Ultra laptop with the OpenVINO plugin registered.
INTEL_CORE_ULTRA = (
    INTEL_CPU,
    FakeEpDevice("DmlExecutionProvider", "Microsoft", _ARC),
    FakeEpDevice("OpenVINOExecutionProvider", "Intel", _ARC, ep_options={"device_type": "GPU"}),
    FakeEpDevice("OpenVINOExecutionProvider", "Intel", _INTEL_NPU, ep_options={"device_type": "NPU"}),
)

#: An Apple silicon Mac with the default onnxruntime wheel: the CPU only.
MAC = (_cpu("Apple", 0x106B),)
