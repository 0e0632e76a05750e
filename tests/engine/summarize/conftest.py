"""Fixtures for summary tests: the real demo model, and documents the tests build."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from engine.documents.reader import read_document
from engine.paths import demo_model_dir
from tests.engine.documents.corpus import make_pdf


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The demo model folder (or PONDER_TEST_MODEL, a stand-in while the demo is not committed)."""
    folder = demo_model_dir()
    if (folder / "genai_config.json").is_file():
        return folder
    override = os.environ.get("PONDER_TEST_MODEL")
    if override and (Path(override) / "genai_config.json").is_file():
        return Path(override)
    pytest.skip("the demo model is not in resources/models/demo yet")


@pytest.fixture(scope="session")
def report_pdf(tmp_path_factory) -> Path:
    """A six-page PDF, a heading and distinct words on each page."""
    return make_pdf(tmp_path_factory.mktemp("docs") / "report.pdf", pages=6, repeat=14)


@pytest.fixture(scope="session")
def report(report_pdf):
    return read_document(report_pdf)


def run(coro):
    return asyncio.run(coro)
