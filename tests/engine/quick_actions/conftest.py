"""The demo model's folder and tokenizer, for prompt tests that encode with the real tokenizer."""

from __future__ import annotations


import pytest

from engine.model_folder import validate_model_folder
from engine.paths import demo_model_dir


@pytest.fixture(scope="session")
def demo_folder():
    """The demo model (part of the repository)."""
    return validate_model_folder(demo_model_dir())


@pytest.fixture(scope="session")
def demo_tokenizer(demo_folder):
    from engine.quick_actions.tokenizer import load_tokenizer

    return load_tokenizer(demo_folder)
