"""The KV reservation policy with injected memory facts, for every catalog model and effort."""

from __future__ import annotations

import json

import pytest

from engine.budget import PRESETS
from engine.catalog.load import load_catalog
from engine.errors import MemoryBudgetError
from engine.memory import (
    MARGIN,
    TYPICAL_HISTORY,
    GiB,
    KvPolicy,
    MemoryFacts,
    catalog_kv_bytes_per_token,
    kv_bytes_per_token,
    reservation,
)
from engine.paths import demo_model_dir

CATALOG = load_catalog()
VARIANTS = [(m, v) for m in CATALOG.models for v in m.variants]


def test_the_per_token_cost_comes_from_genai_config():
    config = json.loads((demo_model_dir() / "genai_config.json").read_text())
    # 4 layers x 1 KV head x head size 64 x keys and values x float32
    assert kv_bytes_per_token(config) == 4 * 1 * 64 * 2 * 4 == 2048
    # Phi-4-mini: 32 x 8 x 128 x 2 x 4 bytes = 256 KiB a token on the CPU, 128 KiB in float16.
    assert catalog_kv_bytes_per_token("phi-4-mini-reasoning", "cpu") == 256 * 1024
    assert catalog_kv_bytes_per_token("phi-4-reasoning", "gpu") == 200 * 1024


@pytest.mark.parametrize("ram_gb", [8, 16, 64])
@pytest.mark.parametrize("effort", list(PRESETS))
@pytest.mark.parametrize("model,variant", VARIANTS, ids=[f"{m.id}/{v.id}" for m, v in VARIANTS])
def test_a_reservation_never_exceeds_free_memory_and_covers_the_effort(model, variant, effort, ram_gb):
    per_token = catalog_kv_bytes_per_token(model.id, variant.kind)
    facts = MemoryFacts(ram_gb * GiB, int(ram_gb * GiB * 0.8))
    weights = int(variant.memory_gb * 1e9)
    budget = PRESETS[effort]
    free_after_load = facts.available - weights - MARGIN
    try:
        tokens = reservation(per_token, weights, facts, budget, max_length=model.context_length)
    except MemoryBudgetError as error:
        assert "lower effort" in error.user_message() and "new chat" in error.user_message()
        need = TYPICAL_HISTORY + (min(16384, budget + 2048) if budget else 256)
        assert need * per_token > free_after_load  # refused only when it truly does not fit
        return
    assert tokens * per_token <= free_after_load
    if budget is not None:
        assert tokens >= TYPICAL_HISTORY + budget + 2048  # the whole effort fits
    if ram_gb == 64:
        assert tokens >= TYPICAL_HISTORY + (budget or 16384)  # plenty of memory: every effort fits


def test_known_machines():
    mini = catalog_kv_bytes_per_token("phi-4-mini-reasoning", "cpu")
    big = catalog_kv_bytes_per_token("phi-4-reasoning", "cpu")
    eight, sixteen = MemoryFacts(8 * GiB, 6 * GiB), MemoryFacts(16 * GiB, 13 * GiB)
    # Phi-4-mini on the CPU with 8 GB: medium effort reserves ~1.3 GiB, not the 4 GiB of 16k tokens.
    assert reservation(mini, int(4.5e9), eight, 1024, max_length=131072) * mini < 1.6 * GiB
    # Unlimited effort on 8 GB is clipped to what is free instead of failing.
    assert reservation(mini, int(4.5e9), eight, None, max_length=131072) * mini <= 6 * GiB - 4.5e9 - MARGIN
    # Phi-4-reasoning (11 GB of weights) on 16 GB: low effort fits, high does not.
    assert reservation(big, int(11e9), sixteen, 256, max_length=32768) > 0
    with pytest.raises(MemoryBudgetError):
        reservation(big, int(11e9), sixteen, 4096, max_length=32768)


def test_the_policy_grows_in_steps_with_headroom():
    policy = KvPolicy(per_token=1000, max_length=8192, memory=lambda: MemoryFacts(64 * GiB, 32 * GiB))
    assert policy.capacity(100, 200) == 1536  # 100 + 200 + 1024 headroom, rounded up to 256
    assert policy.capacity(100, 200, next_question=False) == 512  # a one-off question: its need
    assert policy.capacity(3000, 200) == 4352
    assert policy.capacity(7000, 2000) == 8192  # never past the model's limit


def test_a_history_that_cannot_fit_says_start_a_new_chat():
    policy = KvPolicy(per_token=1 << 20, max_length=131072, memory=lambda: MemoryFacts(8 * GiB, 3 * GiB))
    with pytest.raises(MemoryBudgetError) as caught:
        policy.capacity(5000, 1000)
    assert caught.value.history and caught.value.user_message().startswith("Not enough free memory")
    assert "Start a new chat" in caught.value.user_message()
