"""Devices come from onnxruntime's list on every platform; nothing is invented."""

from __future__ import annotations

import pytest

from engine.hardware import detect_hardware
from engine.providers import CANDIDATES, InstallInfo, choose_provider, skip_reason
from tests.engine import ep_devices
from tests.engine.ep_devices import FakeEpDevice, FakeHardwareDevice

NOTHING = InstallInfo(cuda_library=False, dml_build=False, plugin_modules=frozenset())
EVERYTHING = InstallInfo(cuda_library=True, dml_build=True,
                         plugin_modules=frozenset(c.plugin_module for c in CANDIDATES if c.plugin_module))


def facts(devices, system):
    return detect_hardware(lambda: devices, system=system)


def test_the_fakes_have_the_real_device_interface():
    import onnxruntime

    real = onnxruntime.get_ep_devices()[0]  # the CPU, on every machine

    def public(obj):
        return {name for name in dir(obj) if not name.startswith("_")}

    assert public(real) <= public(ep_devices.INTEL_CPU)
    assert public(real.device) <= public(FakeHardwareDevice(real.device.type, "", 0, 0))
    assert type(real.device.type) is type(ep_devices.INTEL_CPU.device.type)


def test_a_windows_laptop_lists_its_nvidia_and_intel_gpus():
    hardware = facts(ep_devices.WINDOWS_NVIDIA_LAPTOP, "Windows")
    assert hardware.has_gpu("NVIDIA") and hardware.has_gpu("Intel") and not hardware.has_npu()
    assert not any("not enumerated" in g for g in hardware.gpus)
    nvidia = next(d for d in hardware.devices if d.vendor == "NVIDIA")
    assert nvidia.kind == "gpu" and nvidia.providers == ("DmlExecutionProvider",)


def test_on_windows_cuda_is_tried_on_an_nvidia_gpu_and_the_reasons_agree():
    hardware = facts(ep_devices.WINDOWS_NVIDIA_LAPTOP, "Windows")
    tried = []

    def probe(candidate):
        tried.append(candidate.key)
        if candidate.kind != "cpu":
            raise RuntimeError("no such provider here")
        return candidate.key

    choose_provider(probe, hardware=hardware, install=EVERYTHING)
    assert {"cuda", "tensorrt-rtx", "openvino-gpu"} <= set(tried)  # the NVIDIA check let them through
    cuda = next(c for c in CANDIDATES if c.key == "cuda")
    reason = skip_reason(cuda, hardware, NOTHING)
    assert "pip install onnxruntime-genai-cuda" in reason and "no NVIDIA GPU" not in reason


def test_a_mac_has_no_invented_gpu():
    hardware = facts(ep_devices.MAC, "Darwin")
    assert hardware.gpus == () and hardware.npus == ()
    assert [d.vendor for d in hardware.devices] == ["Apple"]


def test_a_snapdragon_laptop_tries_its_npu_first():
    hardware = facts(ep_devices.SNAPDRAGON_X, "Windows")
    assert hardware.has_npu("Qualcomm") and hardware.has_gpu("Qualcomm")
    decision = choose_provider(lambda c: c.key, hardware=hardware, install=EVERYTHING)
    assert decision.chosen.key == "qnn"


def test_an_intel_core_ultra_laptop_merges_one_gpu_listed_by_two_providers():
    hardware = facts(ep_devices.INTEL_CORE_ULTRA, "Windows")
    gpus = [d for d in hardware.devices if d.kind == "gpu"]
    assert len(gpus) == 1 and gpus[0].providers == ("DmlExecutionProvider", "OpenVINOExecutionProvider")
    def probe(candidate):
        if candidate.key == "qnn":  # installed, but there is no Qualcomm NPU to run on
            raise RuntimeError("QNN: no device")
        return candidate.key

    decision = choose_provider(probe, hardware=hardware, install=EVERYTHING)
    assert decision.chosen.key == "openvino-npu"


@pytest.mark.parametrize("vendor_text", ["NVIDIA Corporation", "nvidia", "NVIDIA"])
def test_vendor_names_are_matched_whatever_their_spelling(vendor_text):
    gpu = FakeEpDevice("WebGpuExecutionProvider", "Google",
                       FakeHardwareDevice(ep_devices.Type.GPU, vendor_text, 0, 0x2684))
    assert facts((ep_devices.INTEL_CPU, gpu), "Windows").has_gpu("NVIDIA")


def test_on_linux_a_missing_gpu_is_really_missing():
    hardware = facts((ep_devices.INTEL_CPU,), "Linux")
    cuda = next(c for c in CANDIDATES if c.key == "cuda")
    if not hardware.gpus:  # this machine has no card in /sys
        assert "no NVIDIA GPU found" in skip_reason(cuda, hardware, EVERYTHING)
