"""Fixtures for summary tests: the real demo model, and documents the tests build."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.documents.reader import read_document
from engine.paths import demo_model_dir
from tests.engine.documents.corpus import make_pdf


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The demo model folder (part of the repository)."""
    return demo_model_dir()


@pytest.fixture(scope="session")
def report_pdf(tmp_path_factory) -> Path:
    """A six-page PDF, a heading and distinct words on each page."""
    return make_pdf(tmp_path_factory.mktemp("docs") / "report.pdf", pages=6, repeat=14)


@pytest.fixture(scope="session")
def report(report_pdf):
    return read_document(report_pdf)


def run(coro):
    return asyncio.run(coro)
