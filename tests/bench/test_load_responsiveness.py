"""bench/load_responsiveness.py runs end to end on the demo model and reports every phase of both
paths (benchmarks never assert times: the machine is shared)."""

from __future__ import annotations

import json
import os

import pytest

from bench import load_responsiveness
from engine.paths import demo_model_dir

pytestmark = pytest.mark.slow


def test_it_reports_load_switch_and_unload_for_both_paths(tmp_path, capsys):
    out = tmp_path / "load.json"
    before = os.environ.get("PONDER_NATIVE_LOAD")
    args = ["--model", str(demo_model_dir()), "--switch-to", str(demo_model_dir()), "--json", str(out)]
    assert load_responsiveness.main(args) == 0
    assert os.environ.get("PONDER_NATIVE_LOAD") == before  # the switch between paths is undone
    figures = json.loads(out.read_text())
    assert set(figures["paths"]) == {"c-api", "og.Model"}
    assert {"load", "switch", "back", "unload (thread)"} <= set(figures["paths"]["og.Model"])
    assert load_responsiveness.QUIT in figures["paths"]["c-api"]
    assert figures["paths"]["c-api"]["load"]["loop"]["samples"] > 0
    assert "c-api worst lateness with the window up" in capsys.readouterr().out
