"""The frozen bundle, built once per test session when the working tree has changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "ponder"
INPUTS = ROOT / "dist" / "ponder.inputs"


def bundle_is_current() -> bool:
    """dist/ponder exists and was built from exactly what is in the working tree now."""
    if not ((BUNDLE / "ponder").is_file() and INPUTS.is_file()):
        return False
    sys.path.insert(0, str(ROOT / "installer"))
    try:
        from inputs import inputs_digest
    finally:
        sys.path.remove(str(ROOT / "installer"))
    return INPUTS.read_text().strip() == inputs_digest()


@pytest.fixture(scope="session")
def bundle() -> Path:
    """dist/ponder, rebuilt (minutes) when sources, resources or bundled packages changed."""
    if not bundle_is_current():
        build = subprocess.run(["bash", str(ROOT / "installer" / "build.sh")], cwd=ROOT,
                               env={**os.environ, "PYTHON": sys.executable},
                               capture_output=True, text=True, timeout=1500)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return BUNDLE
