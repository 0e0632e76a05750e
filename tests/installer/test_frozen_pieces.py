"""The pieces of the bundle that run before Ponder's own code: the runtime hook and the entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "installer" / "hooks" / "rthook_privacy.py"
ENTRY = ROOT / "installer" / "ponder_entry.py"

_SHOW = ("import os, runpy, sys; hook = sys.argv[1]; sys.argv = ['ponder', *sys.argv[2:]]; "
         "runpy.run_path(hook); "
         "print(*(os.environ.get(k) for k in ('ORT_DISABLE_TELEMETRY', 'HF_HUB_OFFLINE', "
         "'HF_HUB_DISABLE_TELEMETRY', 'DO_NOT_TRACK')))")


def _hook_env(*argv: str, **env: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", _SHOW, str(HOOK), *argv],
                            env={"PATH": os.environ["PATH"], **env},
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.split()


def test_runtime_hook_switches_telemetry_off_even_against_the_users_shell():
    values = _hook_env(ORT_DISABLE_TELEMETRY="0", HF_HUB_OFFLINE="0", DO_NOT_TRACK="0")
    assert values == ["1", "1", "1", "1"]


def test_runtime_hook_lets_only_the_download_worker_reach_the_hub():
    # As the frozen app sees it: [ponder, -m, engine.download.worker, ...]
    values = _hook_env("-m", "engine.download.worker", HF_HUB_OFFLINE="0")
    assert values == ["1", "0", "1", "1"]
    assert _hook_env("-m", "engine.other", HF_HUB_OFFLINE="0")[1] == "1"


def test_entry_refuses_to_run_modules_outside_the_engine():
    result = subprocess.run([sys.executable, str(ENTRY), "-m", "http.server"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "only Ponder's own engine workers" in result.stderr


def test_entry_runs_an_engine_worker_module(tmp_path):
    # The same path the download job takes: sys.executable -m engine.<worker> ARGS.
    result = subprocess.run([sys.executable, str(ENTRY), "-m", "engine.commands.common", "x"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_inputs_digest_follows_the_sources(tmp_path):
    sys.path.insert(0, str(ROOT / "installer"))
    try:
        from inputs import inputs_digest
    finally:
        sys.path.remove(str(ROOT / "installer"))
    for folder in ("app", "engine", "resources", "installer"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "engine" / "a.py").write_text("x = 1\n")
    before = inputs_digest(tmp_path)
    (tmp_path / "engine" / "__pycache__").mkdir()
    (tmp_path / "engine" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert inputs_digest(tmp_path) == before
    (tmp_path / "engine" / "a.py").write_text("x = 2\n")
    assert inputs_digest(tmp_path) != before


def test_windows_version_numbers_come_from_the_package_version():
    from installer.windows_version import version_numbers

    assert version_numbers("0.1.0") == (0, 1, 0, 0)
    assert version_numbers("1.2.3.4.5") == (1, 2, 3, 4)
    assert version_numbers("2.0rc1") == (2, 0, 0, 0)
