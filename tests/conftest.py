"""Test-wide setup: privacy variables before anything imports onnxruntime, offscreen Qt, and a
private Ponder home per test."""

from __future__ import annotations

import os

# Before any test module can import onnxruntime or onnxruntime-genai.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from engine.paths import Paths, resolve_paths  # noqa: E402
from tests.private_keyring import private_keyring  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _isolated_keyring(tmp_path_factory):
    """Every test, and every process a test starts, uses a keyring of this session's own."""
    with private_keyring(tmp_path_factory.mktemp("keyring")) as how:
        yield how

#: Fixtures shared by the engine's and the window's tests of the model host's entry points.
pytest_plugins = ("tests.engine.host.models",)


@pytest.fixture
def ponder_home(tmp_path, monkeypatch) -> Paths:
    """All of Ponder's folders under a temporary directory."""
    home = tmp_path / "ponder-home"
    monkeypatch.setenv("PONDER_HOME", str(home))
    return resolve_paths()
