"""The demo model's folder and tokenizer, for prompt tests that encode with the real tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.model_folder import validate_model_folder
from engine.paths import demo_model_dir


def _model_dir() -> Path | None:
    """The demo model, or PONDER_TEST_MODEL while the demo is not committed."""
    if (demo_model_dir() / "genai_config.json").is_file():
        return demo_model_dir()
    override = os.environ.get("PONDER_TEST_MODEL")
    if override and (Path(override) / "genai_config.json").is_file():
        return Path(override)
    return None


@pytest.fixture(scope="session")
def demo_folder():
    folder = _model_dir()
    if folder is None:
        pytest.skip("the demo model is not in resources/models/demo yet")
    return validate_model_folder(folder)


@pytest.fixture(scope="session")
def demo_tokenizer(demo_folder):
    from engine.quick_actions.tokenizer import load_tokenizer

    return load_tokenizer(demo_folder)
