"""Recommendation with injected machines: the pick and the numbers a user reads."""

from __future__ import annotations

import pytest

from engine.catalog.load import load_catalog
from dataclasses import replace

from engine.hardware import detect_hardware
from engine.providers import InstallInfo
from engine.recommend import GB, GpuMemory, assess, machine_from, recommend
from tests.engine import ep_devices


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def hardware(ram_total, ram_free, devices=ep_devices.WINDOWS_NVIDIA_LAPTOP[:1], machine="x86_64"):
    """A Windows machine as detection sees it: onnxruntime's device list (tests/engine/ep_devices.py)."""
    facts = detect_hardware(lambda: devices, system="Windows")
    return replace(facts, machine=machine, cpu="cpu", cores=8, ram_total=int(ram_total * GB),
                   ram_available=int(ram_free * GB))


def machine_for(hardware, install, gpu_memory=(), can_build=True):
    """machine_from() with the build tools' presence stated, not looked up on this machine."""
    return machine_from(hardware, install, gpu_memory, can_build=can_build)


NO_EXTRAS = InstallInfo(cuda_library=False, dml_build=False, plugin_modules=frozenset())
CUDA = InstallInfo(cuda_library=True, dml_build=False, plugin_modules=frozenset())
QNN = InstallInfo(cuda_library=False, dml_build=False, plugin_modules=frozenset({"onnxruntime_qnn"}))


def test_8_gb_cpu_only_laptop_gets_mini_built_locally(catalog):
    machine = machine_for(hardware(8, 6.0), NO_EXTRAS)
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-mini-reasoning", "cpu-int4")
    assert rec.choice.variant.source == "convert"
    text = "\n".join(rec.reasons)
    assert "Phi-4-reasoning (CPU int4) needs about 13.0 GB of RAM; 6.0 GB are free." in text
    assert rec.reasons[-1].startswith("→ Phi-4-mini-reasoning, CPU int4")


def test_16_gb_with_a_12_gb_nvidia_gpu_gets_the_14b_on_the_gpu(catalog):
    machine = machine_for(hardware(16, 10, devices=ep_devices.WINDOWS_NVIDIA_LAPTOP), CUDA,
                           (GpuMemory("RTX 4070", int(12 * GB), int(11.5 * GB)),))
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-reasoning", "gpu-int4")
    assert rec.choice.provider == "cuda"
    assert "needs about 11.0 GB of GPU memory, 11.5 GB are free" in rec.reasons[-1]


def test_a_small_gpu_falls_back_to_mini_and_says_why(catalog):
    machine = machine_for(hardware(16, 10, devices=ep_devices.WINDOWS_NVIDIA_LAPTOP), CUDA,
                           (GpuMemory("RTX 3050", int(8 * GB), int(7.5 * GB)),))
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-mini-reasoning", "gpu-int4")
    assert "Phi-4-reasoning (GPU int4) needs about 11.0 GB of GPU memory; 7.5 GB are free." in rec.reasons


def test_snapdragon_npu_machine_gets_reasoning_plus_on_the_npu(catalog):
    machine = machine_for(hardware(32, 20, devices=ep_devices.SNAPDRAGON_X, machine="ARM64"), QNN)
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-reasoning-plus", "npu-qnn-int4")
    assert rec.choice.provider == "qnn"


def test_64_gb_workstation_runs_the_14b_on_cpu(catalog):
    machine = machine_for(hardware(64, 50), NO_EXTRAS)
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-reasoning", "cpu-int4")
    assert any("needs a Qualcomm NPU" in r for r in rec.reasons)


def test_a_choice_that_does_not_fit_gets_a_warning_with_numbers(catalog):
    machine = machine_for(hardware(8, 5.5), NO_EXTRAS)
    model = catalog.model("phi-4-reasoning")
    fit = assess(model, model.variant("cpu-int4"), machine)
    assert not fit.fits
    assert fit.warning() == ("Phi-4-reasoning (CPU int4) needs about 13.0 GB of RAM; 5.5 GB are free. "
                             "It may fail to load or be very slow.")
    gpu = assess(model, model.variant("gpu-int4"), machine)
    assert not gpu.runnable and "NVIDIA GPU" in gpu.warning()


def test_a_tiny_machine_gets_the_demo(catalog):
    rec = recommend(catalog, machine_for(hardware(4, 2), NO_EXTRAS))
    assert rec.choice is None and "demo" in rec.summary()


def test_without_the_build_tools_a_prebuilt_model_is_recommended_instead(catalog):
    """The packaged app has no model builder: an 8 GB laptop gets a prebuilt CPU model, and
    choosing the build anyway is warned about."""
    machine = machine_for(hardware(8, 6.0), NO_EXTRAS, can_build=False)
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-mini-instruct", "cpu-int4")
    text = "\n".join(rec.reasons)
    assert "Phi-4-mini-reasoning (CPU int4 (built on this computer)) has no prebuilt build" in text
    model = catalog.model("phi-4-mini-reasoning")
    assert "optional tools" in assess(model, model.variant("cpu-int4"), machine).warning()


def test_a_16_gb_snapdragon_laptop_gets_mini_on_the_npu(catalog):
    machine = machine_for(hardware(16, 8, devices=ep_devices.SNAPDRAGON_X, machine="ARM64"), QNN)
    rec = recommend(catalog, machine)
    assert (rec.choice.model.id, rec.choice.variant.id) == ("phi-4-mini-reasoning", "npu-qnn-int4")
    assert "Phi-4-reasoning-plus (Qualcomm NPU int4) needs about 10.0 GB of RAM; 8.0 GB are free." in rec.reasons


def test_the_kv_cache_at_the_chosen_effort_is_counted(catalog):
    from engine.memory import turn_tokens

    # 12 GB GPU with 11.5 GB free: the 14B's weights (11 GB) fit, but not with high effort's KV.
    machine = machine_from(hardware(16, 10, devices=ep_devices.WINDOWS_NVIDIA_LAPTOP), CUDA,
                           (GpuMemory("RTX 4070", int(12 * GB), int(11.5 * GB)),))
    assert recommend(catalog, machine).choice.model.id == "phi-4-reasoning"
    high = recommend(catalog, machine, kv_tokens=turn_tokens(4096, 16384))
    assert high.choice.model.id == "phi-4-mini-reasoning"
    # 40 layers x 10 KV heads x 128 x 2 x 2 bytes = 200 KiB a token; 8,192 tokens = 1.7 GB more.
    assert any("Phi-4-reasoning (GPU int4) needs about 12.7 GB of GPU memory" in r for r in high.reasons)
