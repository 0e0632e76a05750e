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


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_frozen_ponder_serve_answers_an_openai_client_on_loopback(bundle, tmp_path):
    """The local API's server, schemas and HTTP stack ship in the bundle (pydantic was excluded
    once, and `ponder serve` then died at import)."""
    import socket

    import openai

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(bundle / "ponder"), "serve", "--model", "demo", "--port", str(port)],
                              env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PONDER_HOME": str(tmp_path / "p"),
                                   "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=20)
        completion = client.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "What is 2 plus 3?"}], temperature=0)
        message = completion.choices[0].message
        assert message.content and "</think>" not in message.content
        assert message.model_extra.get("reasoning_content")  # the thinking, apart from the answer
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert server.returncode in (0, -15), output

