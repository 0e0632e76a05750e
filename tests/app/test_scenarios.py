"""The app runs only its own fixed scripted sessions, never a script named on its command line."""

from __future__ import annotations

import pytest

from app.cli import build_parser, main


def test_no_flag_runs_a_script_from_the_command_line(tmp_path, ponder_home):
    marker = tmp_path / "ran"
    script = tmp_path / "evil.py"
    script.write_text(f"def run(args, paths):\n    open({str(marker)!r}, 'w').close()\n    return 0\n"
                      f"open({str(marker)!r}, 'w').close()\n")
    for flag in ("--run-session", "--run-scenario"):
        with pytest.raises(SystemExit) as exit_:
            main([flag, str(script)])
        assert exit_.value.code == 2
    assert not marker.exists()


def test_the_scenarios_are_a_fixed_list():
    action = next(a for a in build_parser()._actions if a.dest == "run_scenario")
    assert sorted(action.choices) == ["bundle-features", "keyring-backends", "offline-proof"]


def test_the_keyring_scenario_reports_the_backends(ponder_home):
    import os
    import subprocess
    import sys

    # A process of its own: keyring keeps the backend it chose first for the rest of a process.
    env = dict(os.environ, PONDER_HOME=str(ponder_home.data.parent),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")  # never the login keyring
    result = subprocess.run([sys.executable, "-m", "app", "--run-scenario", "keyring-backends"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backends:" in result.stdout and "effective: keyring.backends.fail" in result.stdout


def test_the_offline_proof_scenario_runs_from_a_checkout(ponder_home):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PONDER_HOME=str(ponder_home.data.parent), PONDER_SESSION_SECONDS="0",
               QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-m", "app", "--run-scenario", "offline-proof"], env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("start", "chat turn", "quick action", "summary", "quit"):
        assert f"PASS  {step}" in result.stdout, result.stdout


def test_the_bundle_features_scenario_runs_from_a_checkout(ponder_home):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PONDER_HOME=str(ponder_home.data.parent), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-m", "app", "--run-scenario", "bundle-features"], env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("math", "documents", "icon", "imports"):
        assert f"PASS  {check}" in result.stdout, result.stdout
