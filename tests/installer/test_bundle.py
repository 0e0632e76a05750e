"""What the frozen bundle must hold: everything Ponder loads at run time, nothing it must not ship."""

from __future__ import annotations

import shutil
import subprocess

import pytest

@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bundle_holds_what_is_loaded_at_run_time(bundle):
    internal = bundle / "_internal"
    assert list((internal / "onnxruntime" / "capi").glob("libonnxruntime.so*"))
    assert (internal / "onnxruntime_genai").is_dir()
    assert list(internal.glob("sqlcipher3/*.so"))
    assert (next(internal.glob("keyring-*.dist-info")) / "entry_points.txt").is_file()
    assert (internal / "rapidocr_onnxruntime" / "config.yaml").is_file()
    assert len(list((internal / "rapidocr_onnxruntime" / "models").glob("*.onnx"))) >= 3
    assert (internal / "resources" / "models" / "demo" / "genai_config.json").is_file()
    assert (internal / "resources" / "icons" / "app" / "ponder.svg").is_file()
    platforms = internal / "PySide6" / "Qt" / "plugins" / "platforms"
    assert (platforms / "libqoffscreen.so").is_file()
    ldd = subprocess.run(["ldd", str(platforms / "libqxcb.so")], capture_output=True, text=True,
                         timeout=60)
    assert "not found" not in ldd.stdout, ldd.stdout
    # Never shipped: a plaintext "keyring", developer-only packages.
    for absent in ("keyrings", "torch", "transformers", "pytest"):
        assert not (internal / absent).exists(), absent



@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(shutil.which("dbus-run-session") is None or shutil.which("gnome-keyring-daemon") is None,
                    reason="needs dbus and gnome-keyring (tools/test.sh installs them)")
def test_frozen_keyring_finds_the_secret_service_and_no_plaintext_backend(bundle, tmp_path):
    shell = ("printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
             f"exec {bundle / 'ponder'} --run-scenario keyring-backends")
    result = subprocess.run(["dbus-run-session", "--", "sh", "-c", shell],
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "keyring.backends.SecretService.Keyring" in result.stdout
    assert "effective: keyring.backends.SecretService" in result.stdout
    assert "keyrings.alt" not in result.stdout
