import json
import subprocess
import sys


def doctor(*args):
    return subprocess.run([sys.executable, "-m", "app", "doctor", *args], capture_output=True,
                          text=True, timeout=120)


def test_doctor_explains_the_cpu_choice(ponder_home):
    result = doctor()
    assert result.returncode == 0, result.stderr
    assert "Chosen: CPU" in result.stdout
    assert "NVIDIA GPU (CUDA)" in result.stdout and "pip install onnxruntime-genai-cuda" in result.stdout
    assert "demo" in result.stdout


def test_doctor_json(ponder_home):
    report = json.loads(doctor("--json").stdout)
    assert report["chosen"] == "cpu"
    statuses = {p["key"]: p["status"] for p in report["providers"]}
    assert statuses["cpu"] == "chosen" and statuses["cuda"] == "skipped"
    assert report["machine"]["cores"] >= 1
    assert any(m["name"] == "demo" for m in report["models"])


def test_doctor_on_a_forced_provider_that_fails(ponder_home):
    result = doctor("--provider", "qnn")
    assert result.returncode == 4
    assert "No provider could run the model" in result.stdout
