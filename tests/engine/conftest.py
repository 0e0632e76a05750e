"""Fixtures for engine tests: the real demo model, loaded once per module where possible."""

from __future__ import annotations

import shutil

import pytest

from engine.paths import demo_model_dir


@pytest.fixture
def demo_copy(tmp_path):
    """A private copy of the demo model folder that a test may damage."""
    target = tmp_path / "model"
    shutil.copytree(demo_model_dir(), target)
    return target
