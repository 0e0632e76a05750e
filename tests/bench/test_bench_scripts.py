"""The benchmarks run end to end on the real demo model and report what they claim to.

Benchmarks never assert times (the machine is shared and timing is noisy); these tests check
that each script runs, compares the paths it names, on the token counts it was asked for,
and writes its figures.
"""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest

from bench import responsiveness, streaming_overhead
from bench.common import ROOT, copy_without_eos, percentile
from engine.paths import demo_model_dir

pytestmark = pytest.mark.slow


def test_streaming_overhead_times_both_paths_on_the_same_token_count(tmp_path, capsys):
    out = tmp_path / "overhead.json"
    assert streaming_overhead.main(["--tokens", "48", "--reps", "2", "--threads", "1", "--json", str(out)]) == 0

    figures = json.loads(out.read_text())
    runs = figures["runs"]
    assert sorted(run["path"] for run in runs) == ["bare", "bare", "engine", "engine"]
    assert all(run["tokens"] == 48 for run in runs)  # the demo model's end token was disabled
    assert figures["summary"]["turns_with_wrong_token_count"] == 0
    assert figures["summary"]["ratio_median"] > 0
    assert "engine / bare median" in capsys.readouterr().out


def test_responsiveness_reports_both_phases_for_every_path(tmp_path, capsys):
    out = tmp_path / "responsiveness.json"
    args = ["--model", str(demo_model_dir()), "--prompt-tokens", "96", "--decode-tokens", "6",
            "--chunk", "32", "--threads", "1", "--json", str(out)]
    assert responsiveness.main(args) == 0

    figures = json.loads(out.read_text())
    paths = [result["path"] for result in figures["results"]]
    assert paths == ["engine (og.Engine.run)", "generator", "generator, 32-token chunks"]
    for result in figures["results"]:
        assert 80 <= result["prompt_tokens"] <= 96  # calibrated to the requested length
        assert result["generated_tokens"] == 6
        assert set(result["prefill"]) == {"samples", "seconds", "p50_ms", "p99_ms", "max_ms", "max_at_s"}
    assert figures["idle"]["samples"] > 0
    assert "prefill" in capsys.readouterr().out


def test_copy_without_eos_keeps_the_weights_and_changes_only_the_end_token():
    folder, never = copy_without_eos(demo_model_dir())
    try:
        original = json.loads((demo_model_dir() / "genai_config.json").read_text())
        changed = json.loads((folder / "genai_config.json").read_text())
        assert changed["model"]["eos_token_id"] == [never]
        changed["model"]["eos_token_id"] = original["model"]["eos_token_id"]
        assert changed == original
        assert (folder / "model.onnx").read_bytes() == (demo_model_dir() / "model.onnx").read_bytes()
    finally:
        shutil.rmtree(folder.parent)


def test_percentile_interpolates_between_ranks():
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([0.0, 10.0], 99) == pytest.approx(9.9)
    assert percentile([7.0], 99) == 7.0


def _build_tool():
    spec = importlib.util.spec_from_file_location("build_bench_model", ROOT / "tools" / "build_bench_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _first_logits(folder):
    from engine.model_folder import validate_model_folder
    from engine.providers import find_candidate
    from engine.runtime import import_og, load_model

    loaded = load_model(validate_model_folder(folder), find_candidate("cpu"), threads=1)  # proves one token
    og = import_og()
    params = og.GeneratorParams(loaded.model)
    params.set_search_options(max_length=32, do_sample=False, top_k=1)
    generator = og.Generator(loaded.model, params)
    generator.append_tokens(loaded.tokenizer.encode("What is 2 plus 3?"))
    return generator.get_logits()


def test_deepened_model_runs_every_cloned_layer(tmp_path):
    # The cloning that turns a cheaply built shallow model into a deep one, tried on the demo
    # model (the same builder's graph layout): the result loads, generates through the engine,
    # and its logits differ from the original's, so the clones are in the computation.
    import onnx

    tool = _build_tool()
    folder = tmp_path / "deep"
    shutil.copytree(demo_model_dir(), folder)
    layers = json.loads((folder / "genai_config.json").read_text())["model"]["decoder"]["num_hidden_layers"]
    tool.deepen(folder, layers, layers + 3)

    graph = onnx.load(str(folder / "model.onnx"), load_external_data=False).graph
    assert sum(o.name.startswith("present.") for o in graph.output) == 2 * (layers + 3)
    assert sum(n.op_type == "GroupQueryAttention" for n in graph.node) == layers + 3
    config = json.loads((folder / "genai_config.json").read_text())
    assert config["model"]["decoder"]["num_hidden_layers"] == layers + 3
    assert not np.allclose(_first_logits(folder), _first_logits(demo_model_dir()))


def test_kv_reuse_reports_computed_tokens_per_turn(tmp_path, capsys):
    from bench import kv_reuse

    out = tmp_path / "reuse.json"
    args = ["--model", str(demo_model_dir()), "--turns", "3", "--new-tokens", "64", "--threads", "1",
            "--json", str(out)]
    assert kv_reuse.main(args) == 0
    figures = json.loads(out.read_text())
    turns = figures["turns"]
    assert [t["turn"] for t in turns] == [1, 2, 3]
    assert turns[0]["cached"] == 0
    # Follow-ups compute only the new question: far less than the growing prompt.
    assert all(t["computed"] < t["prompt_tokens"] / 2 for t in turns[1:])
    assert figures["summary"]["ttft_ratio_max"] > 0
    assert "follow-up ttft" in capsys.readouterr().out


def test_prefill_stop_measures_every_phase(tmp_path):
    from bench import prefill_stop

    out = tmp_path / "stop.json"
    args = ["--model", str(demo_model_dir()), "--prompt-tokens", "200", "--reps", "1", "--stops", "2",
            "--waits", "1", "--threads", "1", "--json", str(out)]
    assert prefill_stop.main(args) == 0
    figures = json.loads(out.read_text())
    assert figures["prefill"]["runs"][0]["ratio"] > 0
    stops = figures["stop"]["stops"]
    assert [s["phase"] for s in stops] == ["prefill", "prefill", "decode", "decode"]
    assert all(s["reason"] for s in stops)  # the tiny model may finish before the stop lands
    assert len(figures["stop"]["quick_wait_s"]) == 1


def test_ask_rss_measures_each_effort(tmp_path):
    from bench import ask_rss

    out = tmp_path / "rss.json"
    assert ask_rss.main(["--model", str(demo_model_dir()), "--efforts", "low,unlimited", "--threads", "1",
                         "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["effort"] for r in rows] == ["low", "unlimited"]
    assert all(r["peak_mb"] >= r["after_load_peak_mb"] > 0 for r in rows)


def test_sessions_reports_the_aggregate_for_each_count(tmp_path):
    from bench import sessions

    out = tmp_path / "sessions.json"
    assert sessions.main(["--model", str(demo_model_dir()), "--sessions", "1,2", "--tokens", "12",
                          "--threads", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["sessions"] for r in rows] == [1, 2]
    assert [len(r["per_session_tok_s"]) for r in rows] == [1, 2]
    assert all(r["aggregate_tok_s"] > 0 for r in rows)


def test_api_followups_reports_cached_and_computed_tokens_per_turn(tmp_path, capsys):
    from bench import api_followups

    out = tmp_path / "followups.json"
    assert api_followups.main(["--turns", "3", "--question-tokens", "12", "--json", str(out)]) == 0

    turns = json.loads(out.read_text())["turns"]
    assert [t["turn"] for t in turns] == [1, 2, 3]
    assert turns[0]["cached"] == 0 and turns[0]["computed"] == turns[0]["prompt_tokens"]
    for before, turn in zip(turns, turns[1:], strict=False):
        assert turn["computed"] + turn["cached"] == turn["prompt_tokens"]
        # The follow-up reuses the whole earlier conversation: only the new question is computed.
        assert turn["cached"] > before["prompt_tokens"] and turn["computed"] <= turns[0]["computed"]
    assert "follow-up ttft" in capsys.readouterr().out
