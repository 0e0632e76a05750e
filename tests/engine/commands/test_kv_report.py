"""doctor's conversation-memory report: what a chat reserves at each effort, by the engine's policy."""

from __future__ import annotations

from engine.commands.kv_report import format_kv_report, kv_report
from engine.memory import MemoryFacts

GB = 2**30
# Phi-4-mini's decoder shape as genai_config.json gives it.
PHI4_MINI = {"model": {"decoder": {"num_hidden_layers": 32, "num_key_value_heads": 8, "head_size": 128}}}
BUDGETS = {"low": 256, "medium": 1024, "high": 4096, "unlimited": None}


def _efforts(report):
    return {e["effort"]: e for e in report["efforts"]}


def test_each_effort_reserves_what_its_turn_needs_not_the_whole_context():
    report = kv_report(PHI4_MINI, "cpu", 131072, MemoryFacts(64 * GB, 48 * GB), BUDGETS)
    assert report["per_token_bytes"] == 32 * 8 * 128 * 2 * 4  # float32 on the CPU: 256 KiB
    efforts = _efforts(report)
    tokens = [efforts[e]["tokens"] for e in ("low", "medium", "high", "unlimited")]
    assert tokens == sorted(tokens) and tokens[0] < tokens[-1]
    assert tokens[-1] < 131072  # never the model's full context
    assert efforts["low"]["bytes"] < 2 * GB


def test_an_effort_that_cannot_fit_says_so_with_the_way_out():
    report = kv_report(PHI4_MINI, "cpu", 131072, MemoryFacts(8 * GB, int(1.5 * GB)), BUDGETS)
    efforts = _efforts(report)
    assert efforts["low"]["fits"]
    assert not efforts["high"]["fits"] and "lower effort" in efforts["high"]["message"]
    text = "\n".join(format_kv_report(report))
    assert "256 KiB per token" in text and "does not fit" in text


def test_a_config_without_the_decoder_shape_gives_no_report():
    assert kv_report({"model": {}}, "cpu", 2048, MemoryFacts(8 * GB, 4 * GB), BUDGETS) is None
