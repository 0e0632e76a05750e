"""Execution-provider choice: rank NPU > GPU > CPU, prove the choice, fall back with reasons.

`is_*_available()` in onnxruntime-genai is not reliable (several always return True), so a
candidate counts only once the model has loaded on it and generated one token. What this
install offers and what the machine has are injected, so ranking and fallback are testable
without the hardware.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from engine.errors import BadRequestError, PonderError, ProviderUnavailableError
from engine.hardware import HardwareFacts

T = TypeVar("T")


@dataclass(frozen=True)
class Candidate:
    """One way to run the model."""

    key: str  # what the user types: --provider KEY
    label: str  # what the user reads
    kind: str  # "npu" | "gpu" | "cpu"
    og_name: str  # name for og.Config.append_provider ("cpu" = none)
    device_type: str | None = None  # plugin EP hardware filter (OpenVINO NPU vs GPU)
    options: tuple[tuple[str, str], ...] = ()
    plugin_module: str | None = None  # PyPI plugin EP that provides it
    needs_vendor: str | None = None  # hardware vendor it needs, when known


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("qnn", "Qualcomm NPU (QNN)", "npu", "QNN", plugin_module="onnxruntime_qnn",
              needs_vendor="Qualcomm"),
    Candidate("openvino-npu", "Intel NPU (OpenVINO)", "npu", "OpenVINO", "NPU",
              plugin_module="onnxruntime_ep_openvino", needs_vendor="Intel"),
    Candidate("cuda", "NVIDIA GPU (CUDA)", "gpu", "cuda", options=(("enable_cuda_graph", "0"),),
              needs_vendor="NVIDIA"),
    Candidate("tensorrt-rtx", "NVIDIA GPU (TensorRT-RTX)", "gpu", "NvTensorRtRtx",
              plugin_module="onnxruntime_ep_nv_tensorrt_rtx", needs_vendor="NVIDIA"),
    Candidate("dml", "GPU (DirectML)", "gpu", "dml"),
    Candidate("webgpu", "GPU (WebGPU)", "gpu", "WebGPU", plugin_module="onnxruntime_ep_webgpu"),
    Candidate("openvino-gpu", "Intel GPU (OpenVINO)", "gpu", "OpenVINO", "GPU",
              plugin_module="onnxruntime_ep_openvino", needs_vendor="Intel"),
    Candidate("cpu", "CPU", "cpu", "cpu"),
)

PROVIDER_KEYS = ("auto",) + tuple(c.key for c in CANDIDATES)


def find_candidate(key: str) -> Candidate:
    """The candidate the user named, or a clear error."""
    for candidate in CANDIDATES:
        if candidate.key == key.lower():
            return candidate
    raise BadRequestError(f"Unknown provider '{key}'. Choose one of: {', '.join(PROVIDER_KEYS)}.")


@dataclass(frozen=True)
class InstallInfo:
    """What this Python environment can offer, independent of the hardware."""

    cuda_library: bool
    dml_build: bool
    plugin_modules: frozenset[str]

    def offers(self, candidate: Candidate) -> str | None:
        """None when offered, else why not (with the fix)."""
        if candidate.kind == "cpu":
            return None
        if candidate.key == "cuda" and not self.cuda_library:
            return "not in this install (pip install onnxruntime-genai-cuda)"
        if candidate.key == "dml" and not self.dml_build:
            return "not in this install (Windows only, pip install onnxruntime-genai-winml)"
        if candidate.key == "tensorrt-rtx" and (self.cuda_library or "onnxruntime_ep_nv_tensorrt_rtx" in self.plugin_modules):
            return None
        if candidate.plugin_module and candidate.plugin_module not in self.plugin_modules:
            return f"not in this install (pip install {candidate.plugin_module.replace('_', '-')})"
        return None


def detect_install() -> InstallInfo:
    """Look at installed packages without importing onnxruntime-genai's native parts."""
    spec = importlib.util.find_spec("onnxruntime_genai")
    folder = Path(spec.origin).parent if spec and spec.origin else None
    cuda = bool(folder) and any(folder.glob("*onnxruntime-genai-cuda*"))  # type: ignore[union-attr]
    dml = bool(folder) and sys.platform == "win32" and any(folder.glob("DirectML.dll"))  # type: ignore[union-attr]
    plugins = frozenset(
        c.plugin_module for c in CANDIDATES
        if c.plugin_module and importlib.util.find_spec(c.plugin_module) is not None
    )
    return InstallInfo(cuda_library=cuda, dml_build=dml, plugin_modules=plugins)


def hardware_reason(candidate: Candidate, hardware: HardwareFacts) -> str | None:
    """None when the machine may have the device, else why not. Where the device list is not
    complete (Windows, macOS: only what an installed provider claims), a device that is not
    listed may still be there, so the probe decides."""
    if candidate.kind == "cpu" or not hardware.complete:
        return None
    if candidate.kind == "npu" and not hardware.has_npu(candidate.needs_vendor):
        return f"no {candidate.needs_vendor + ' ' if candidate.needs_vendor else ''}NPU found"
    if candidate.kind == "gpu" and not hardware.has_gpu(candidate.needs_vendor):
        return f"no {candidate.needs_vendor + ' ' if candidate.needs_vendor else ''}GPU found"
    return None


def skip_reason(candidate: Candidate, hardware: HardwareFacts, install: InstallInfo) -> str | None:
    """Why a candidate is not worth probing (both reasons when both apply), or None."""
    reasons = [r for r in (install.offers(candidate), hardware_reason(candidate, hardware)) if r]
    return "; ".join(reasons) or None


@dataclass(frozen=True)
class Rejection:
    """A candidate that was not chosen, and why."""

    candidate: Candidate
    reason: str
    probed: bool  # True: it was tried and failed; False: skipped without trying


@dataclass
class ProviderDecision(Generic[T]):
    """The outcome of provider choice; `loaded` is what the probe returned for the winner."""

    chosen: Candidate
    loaded: T
    rejected: list[Rejection] = field(default_factory=list)
    forced: bool = False

    def summary(self) -> str:
        """One line for the status bar and doctor."""
        better = [r for r in self.rejected if r.candidate.kind != "cpu" and r.probed]
        text = f"{self.chosen.label}" + (" (forced)" if self.forced else "")
        if better:
            text += f"; {better[0].candidate.label} rejected: {better[0].reason}"
        return text


Probe = Callable[[Candidate], T]


def choose_provider(
    probe: Probe[T],
    *,
    hardware: HardwareFacts,
    install: InstallInfo,
    forced: str | None = None,
    candidates: tuple[Candidate, ...] = CANDIDATES,
) -> ProviderDecision[T]:
    """Try candidates best first; the first whose probe succeeds wins.

    probe(candidate) loads the model and generates one token, raising on failure.
    forced: a provider key; only that one is tried and its failure is the user's error.
    """
    if forced and forced != "auto":
        candidate = find_candidate(forced)
        try:
            return ProviderDecision(candidate, probe(candidate), forced=True)
        except PonderError as exc:
            if isinstance(exc, ProviderUnavailableError):
                raise
            raise ProviderUnavailableError(candidate.label, exc.user_message()) from exc
        except Exception as exc:  # noqa: BLE001 - any probe failure is the reason
            raise ProviderUnavailableError(candidate.label, _reason(exc)) from exc
    rejected: list[Rejection] = []
    for candidate in candidates:
        skip = skip_reason(candidate, hardware, install)
        if skip:
            rejected.append(Rejection(candidate, skip, probed=False))
            continue
        try:
            return ProviderDecision(candidate, probe(candidate), rejected)
        except PonderError as exc:
            if not isinstance(exc, ProviderUnavailableError) and candidate.kind == "cpu":
                raise  # the model itself is bad; no provider will help
            rejected.append(Rejection(candidate, exc.user_message(), probed=True))
        except Exception as exc:  # noqa: BLE001
            rejected.append(Rejection(candidate, _reason(exc), probed=True))
    reasons = "; ".join(f"{r.candidate.label}: {r.reason}" for r in rejected if r.probed)
    raise ProviderUnavailableError("any", reasons or "no provider could be tried")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
