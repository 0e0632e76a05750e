"""What the frozen bundle must hold: everything Ponder loads at run time, nothing it must not ship."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

#: The bundle's size limit (issue #16), in MiB as `du -sm dist/ponder` counts: 780 MiB before
#: OpenCV and the unused Qt/GTK parts went (bench/RESULTS.md, "Bundle size").
MAX_BUNDLE_MIB = 350


def _disk_mib(folder) -> float:
    """What `du` counts: allocated blocks of every file and folder under folder."""
    total = 0
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total / 2**20

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



@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bundle_stays_under_its_size_limit(bundle):
    size = _disk_mib(bundle)
    assert size <= MAX_BUNDLE_MIB, f"dist/ponder is {size:.0f} MiB (limit {MAX_BUNDLE_MIB}); see bench/RESULTS.md"


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_bundle_leaves_out_opencv_and_what_nothing_uses(bundle):
    internal = bundle / "_internal"
    for absent in ("cv2", "opencv_python.libs", "hf_xet", "mypy", "libgtk-3.so.0",
                   "PySide6/Qt/translations", "PySide6/Qt/plugins/platformthemes/libqgtk3.so"):
        assert not (internal / absent).exists(), absent


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_kept_library_and_qt_plugin_finds_its_dependencies(bundle):
    """The trim drops libraries only dropped plugins link; nothing kept may miss one."""
    internal = bundle / "_internal"
    libraries = [*(internal / "PySide6" / "Qt" / "plugins").rglob("*.so"),
                 *(internal / "PySide6" / "Qt" / "lib").glob("*.so*"),
                 *internal.glob("*.so*")]
    missing = {}
    for library in libraries:
        ldd = subprocess.run(["ldd", str(library)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "LD_LIBRARY_PATH": str(internal)})
        lost = [line.split()[0] for line in ldd.stdout.splitlines() if "not found" in line]
        if lost:
            missing[library.relative_to(internal).as_posix()] = lost
    assert not missing


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_frozen_app_draws_math_reads_documents_and_imports_the_api_and_downloads(bundle, tmp_path):
    result = subprocess.run([str(bundle / "ponder"), "--run-scenario", "bundle-features"],
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
                                 "PONDER_HOME": str(tmp_path / "p")},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("math", "documents", "icon", "imports"):
        assert f"PASS  {check}" in result.stdout, result.stdout
