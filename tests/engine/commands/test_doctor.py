"""`ponder doctor`: what it says follows from the machine and the install, whatever they are."""

import json
import subprocess
import sys

from engine.commands.doctor import build_report, format_report
from engine.hardware import detect_hardware
from engine.providers import detect_install, skip_reason
from engine.providers import InstallInfo, find_candidate
from tests.engine import ep_devices

NOTHING = InstallInfo(cuda_library=False, dml_build=False, plugin_modules=frozenset())


def doctor(*args):
    return subprocess.run([sys.executable, "-m", "app", "doctor", *args], capture_output=True,
                          text=True, timeout=120)


def test_doctor_explains_the_choice(ponder_home):
    # Forced to the CPU, so the choice is the same on any machine; the other lines follow from
    # what this machine and this install offer, computed here the way doctor computes them.
    result = doctor("--provider", "cpu")
    assert result.returncode == 0, result.stderr
    assert "Chosen: CPU (forced)" in result.stdout
    cuda_reason = skip_reason(find_candidate("cuda"), detect_hardware(), detect_install())
    cuda_line = next(line for line in result.stdout.splitlines() if "NVIDIA GPU (CUDA)" in line)
    if cuda_reason:
        assert f"skipped: {cuda_reason}" in cuda_line
    assert "demo" in result.stdout


def test_doctor_json(ponder_home):
    report = json.loads(doctor("--json", "--provider", "cpu").stdout)
    assert report["chosen"] == "cpu"
    statuses = {p["key"]: p["status"] for p in report["providers"]}
    assert statuses["cpu"] == "chosen"
    assert report["machine"]["cores"] >= 1
    assert any(m["name"] == "demo" for m in report["models"])


def test_doctor_on_a_forced_provider_that_fails(ponder_home):
    missing = next((c for c in ("qnn", "dml", "openvino-npu") if detect_install().offers(find_candidate(c))), None)
    result = doctor("--provider", missing)
    assert result.returncode == 4
    assert "No provider could run the model" in result.stdout


def test_on_a_windows_nvidia_laptop_without_cuda_doctor_gives_one_consistent_reason(ponder_home):
    hardware = detect_hardware(lambda: ep_devices.WINDOWS_NVIDIA_LAPTOP, system="Windows")
    text = format_report(build_report(hardware, NOTHING, ponder_home, "demo", None, None))
    cuda_line = next(line for line in text.splitlines() if "NVIDIA GPU (CUDA)" in line)
    assert "pip install onnxruntime-genai-cuda" in cuda_line and "no NVIDIA GPU" not in cuda_line
    assert "NVIDIA GPU" in next(line for line in text.splitlines() if line.strip().startswith("GPUs:"))


def test_on_a_mac_doctor_does_not_claim_there_is_no_gpu(ponder_home):
    hardware = detect_hardware(lambda: ep_devices.MAC, system="Darwin")
    text = format_report(build_report(hardware, NOTHING, ponder_home, "demo", None, None))
    assert "GPUs: none listed by onnxruntime's providers" in text
