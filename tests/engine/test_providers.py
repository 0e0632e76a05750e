"""Provider ranking and fallback, with hardware and install injected; the CPU path is real."""

from __future__ import annotations

import pytest

from engine.errors import ProviderUnavailableError
from engine.hardware import HardwareFacts
from engine.providers import CANDIDATES, InstallInfo, choose_provider
from engine.runtime import load_model
from engine.service import InferenceService, ModelChoice

EVERYTHING = InstallInfo(cuda_library=True, dml_build=True,
                         plugin_modules=frozenset(c.plugin_module for c in CANDIDATES if c.plugin_module))
NOTHING = InstallInfo(cuda_library=False, dml_build=False, plugin_modules=frozenset())


def machine(gpus=(), npus=()):
    return HardwareFacts("Linux", "x86_64", "Test CPU", 4, 16 * 2**30, 8 * 2**30, tuple(gpus), tuple(npus))


def test_best_provider_that_works_wins_and_failures_are_explained():
    tried = []

    def probe(candidate):
        tried.append(candidate.key)
        if candidate.key == "qnn":
            raise RuntimeError("Failed to create context from binary. Error code: 5005")
        return f"model on {candidate.key}"

    decision = choose_provider(probe, hardware=machine(["NVIDIA GPU"], ["Qualcomm NPU"]), install=EVERYTHING)
    assert decision.chosen.key == "cuda"
    assert decision.loaded == "model on cuda"
    assert tried == ["qnn", "cuda"]  # openvino-npu skipped: no Intel NPU
    reasons = {r.candidate.key: (r.probed, r.reason) for r in decision.rejected}
    assert reasons["qnn"] == (True, "Failed to create context from binary. Error code: 5005")
    assert reasons["openvino-npu"] == (False, "no Intel NPU found")
    assert "rejected: Failed to create context" in decision.summary()


def test_nothing_installed_means_cpu_with_reasons():
    decision = choose_provider(lambda c: c.key, hardware=machine(), install=NOTHING)
    assert decision.chosen.key == "cpu"
    assert all(not r.probed for r in decision.rejected)
    cuda = next(r for r in decision.rejected if r.candidate.key == "cuda")
    assert "pip install onnxruntime-genai-cuda" in cuda.reason and "no NVIDIA GPU found" in cuda.reason


def test_gpu_order_is_npu_then_gpu_then_cpu():
    tried = []

    def probe(candidate):
        tried.append(candidate.key)
        raise RuntimeError(f"{candidate.key} broken")

    with pytest.raises(ProviderUnavailableError) as info:
        choose_provider(probe, hardware=machine(["NVIDIA GPU", "Intel GPU"], ["Intel NPU"]), install=EVERYTHING)
    kinds = [next(c.kind for c in CANDIDATES if c.key == k) for k in tried]
    assert kinds == sorted(kinds, key=["npu", "gpu", "cpu"].index)
    assert tried[-1] == "cpu"
    assert "cpu broken" in str(info.value)


def test_forced_provider_is_the_only_one_tried():
    with pytest.raises(ProviderUnavailableError, match="CUDA"):
        choose_provider(lambda c: (_ for _ in ()).throw(RuntimeError("Cuda interface not available")),
                        hardware=machine(), install=NOTHING, forced="cuda")
    decision = choose_provider(lambda c: c.key, hardware=machine(), install=NOTHING, forced="cpu")
    assert decision.forced and decision.chosen.key == "cpu"


def test_real_fallback_to_cpu_when_accelerators_fail():
    """A fake NPU and GPU fail as real ones do; the CPU load is real and generates."""

    def loader(folder, candidate):
        if candidate.kind != "cpu":
            raise RuntimeError(f"{candidate.og_name} execution provider is not supported in this build. ")
        return load_model(folder, candidate)

    service = InferenceService(hardware=machine(["NVIDIA GPU"], ["Qualcomm NPU"]), install=EVERYTHING, loader=loader)
    try:
        result = service.load(ModelChoice("demo")).result()
    finally:
        service.close()
    assert result.provider.key == "cpu"
    probed = [r.candidate.key for r in result.rejected if r.probed]
    assert probed == ["qnn", "cuda", "tensorrt-rtx", "dml", "webgpu"]
    assert "not supported in this build" in result.summary


def test_real_onnxruntime_genai_refuses_a_provider_it_lacks():
    from engine.providers import detect_install

    # A provider this install does not have, whatever is installed here.
    missing = next(c for c in CANDIDATES if c.kind != "cpu" and detect_install().offers(c))
    service = InferenceService()
    try:
        with pytest.raises(ProviderUnavailableError) as info:
            service.load(ModelChoice("demo", provider=missing.key)).result()
    finally:
        service.close()
    assert missing.label in info.value.user_message()
