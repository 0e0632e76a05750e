"""Fixtures: a model folder to serve, a fake hub serving it, a store in a temporary home."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.download.store import ModelStore
from engine.paths import demo_model_dir
from tests.engine.download.fake_hub import serving

REPO = "microsoft/Demo-onnx"
SUBFOLDER = "cpu/cpu-int4"


def served_model() -> Path:
    """The demo model (part of the repository)."""
    return demo_model_dir()


@pytest.fixture
def hub():
    with serving(REPO, served_model(), SUBFOLDER) as fake:
        yield fake


@pytest.fixture
def store(ponder_home) -> ModelStore:
    return ModelStore(ponder_home)
