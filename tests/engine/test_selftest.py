"""`ponder --self-test`: every check runs against the real engine and the real demo model."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from engine import selftest
from engine.environment import PRIVACY_VARIABLES
from engine.paths import resolve_paths

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _privacy_environment(monkeypatch):
    """What `ponder` sets before anything else (engine.environment.prepare_environment)."""
    for name, value in {**PRIVACY_VARIABLES, "HF_HUB_OFFLINE": "1"}.items():
        monkeypatch.setenv(name, value)


def _run(tmp_path, model: str = "demo", checks=None, monkeypatch=None) -> tuple[int, str]:
    if checks is not None:
        monkeypatch.setattr(selftest, "CHECKS", checks)
    out = io.StringIO()
    args = argparse.Namespace(model=model, provider=None)
    code = selftest.run_self_test(args, resolve_paths(tmp_path / "home"), out=out)
    return code, out.getvalue()


def _lines(output: str) -> dict[str, str]:
    """check name -> status, from the printed report."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] in ("PASS", "FAIL", "N/A"):
            name = line[8:26].strip()
            rows[name] = parts[0]
    return rows


@pytest.mark.slow
def test_self_test_passes_on_the_demo_model(tmp_path):
    code, output = _run(tmp_path)
    rows = _lines(output)
    assert code == 0, output
    assert rows["load model"] == rows["generate"] == rows["encrypted history"] == "PASS", output
    # Features that exist in this checkout must pass, not be skipped.
    assert "FAIL" not in rows.values()
    assert "Traceback" not in output


def test_a_missing_model_fails_with_a_message_and_no_traceback(tmp_path, monkeypatch):
    checks = tuple(c for c in selftest.CHECKS if c[0] in ("privacy", "load model", "generate"))
    code, output = _run(tmp_path, model=str(tmp_path / "no-such-model"), checks=checks,
                        monkeypatch=monkeypatch)
    rows = _lines(output)
    assert code == 1
    assert rows == {"privacy": "PASS", "load model": "FAIL", "generate": "FAIL"}
    assert "No model found" in output
    assert "Self-test FAILED: 1 passed, 2 failed" in output
    assert "Traceback" not in output


def test_telemetry_left_on_is_a_failure(tmp_path, monkeypatch):
    monkeypatch.delenv("ORT_DISABLE_TELEMETRY", raising=False)
    checks = tuple(c for c in selftest.CHECKS if c[0] == "privacy")
    code, output = _run(tmp_path, checks=checks, monkeypatch=monkeypatch)
    assert code == 1
    assert "ORT_DISABLE_TELEMETRY" in output


def test_a_feature_missing_from_the_build_is_reported_but_never_counted_as_a_pass(tmp_path, monkeypatch):
    async def absent(ctx):
        selftest._require("engine.no_such_feature", "Teleportation")

    code, output = _run(tmp_path, checks=(("teleport", absent),), monkeypatch=monkeypatch)
    assert code == 0
    assert "N/A   teleport" in output
    assert "Teleportation is not in this build" in output
    assert "passed, but incomplete: 0 passed, 0 failed, 1 not available" in output


def test_the_encrypted_store_check_writes_only_into_its_temporary_folder(tmp_path, monkeypatch):
    checks = tuple(c for c in selftest.CHECKS if c[0] == "encrypted history")
    code, output = _run(tmp_path, checks=checks, monkeypatch=monkeypatch)
    assert code == 0, output
    assert "PASS  encrypted history" in output
    assert not (tmp_path / "home").exists()  # nothing written into the user's Ponder folders


@pytest.mark.slow
def test_the_command_line_flag_runs_it_without_a_window(tmp_path):
    # No display and no QT_QPA_PLATFORM: opening a window would fail.
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PONDER_HOME": str(tmp_path / "p")}
    result = subprocess.run([sys.executable, "-m", "app", "--self-test"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  generate" in result.stdout
    assert "Self-test passed" in result.stdout
