"""Fixtures for the entry-point tests: the demo model installed as a catalog model whose format
differs from the folder's own, a spy on the loads that reach the inference thread, and damage."""

from __future__ import annotations

import shutil

import pytest

from engine.catalog.load import load_catalog
from engine.download.importer import import_folder
from engine.download.store import ModelStore
from engine.paths import demo_model_dir
from engine.prompt import ChatFormat
from engine.service import InferenceService

CATALOG_ID = "phi-4-reasoning"


@pytest.fixture
def reasoning(ponder_home, tmp_path):
    """The demo model installed under the name 'r' as the catalog's Phi-4-reasoning."""
    src = tmp_path / "src"
    shutil.copytree(demo_model_dir(), src)
    return import_folder(src, ModelStore(ponder_home), name="r", model=CATALOG_ID)


@pytest.fixture
def catalog_format() -> ChatFormat:
    fmt = load_catalog().model(CATALOG_ID).chat_format
    assert fmt.system_prompt and fmt != ChatFormat()  # it really differs from the folder's default
    return fmt


@pytest.fixture
def loads(monkeypatch):
    """The ModelChoice of every load that reaches the inference thread (the real one runs)."""
    seen = []
    real = InferenceService.load
    monkeypatch.setattr(InferenceService, "load", lambda self, choice: seen.append(choice) or real(self, choice))
    return seen


def damage(folder) -> None:
    data = bytearray((folder / "model.onnx.data").read_bytes())
    data[-5] ^= 1
    (folder / "model.onnx.data").write_bytes(bytes(data))


def assert_refused_as_damaged(rc: int, err: str, loads: list) -> None:
    assert rc == 3, err
    assert "damaged" in err and "model.onnx.data" in err and "Traceback" not in err
    assert loads == []  # onnxruntime-genai never saw the files
