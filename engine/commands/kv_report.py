"""What a conversation reserves for its KV cache at each effort, for `ponder doctor`.

The figures come from the same policy the engine uses (engine/memory.py), applied to the loaded
model's shape and the memory free now, so doctor says what a chat would really take.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import MemoryBudgetError
from engine.memory import (
    ANSWER_TOKENS,
    TYPICAL_HISTORY,
    KvPolicy,
    MemoryFacts,
    element_bytes_for,
    kv_bytes_per_token,
    size_text,
)

#: Cap on one turn's new tokens (engine.generation.DEFAULT_MAX_NEW), kept here so this report
#: does not import the generation module and, through it, onnxruntime-genai.
MAX_NEW = 16384


def kv_report(config: Mapping[str, Any], provider_key: str, max_length: int, facts: MemoryFacts,
              budgets: Mapping[str, int | None]) -> dict[str, Any] | None:
    """Per-token KV cost and, per effort, the tokens and bytes a typical turn reserves (or why it
    cannot fit); None when the config does not give the decoder's shape."""
    try:
        per_token = kv_bytes_per_token(config, element_bytes_for(provider_key))
    except (KeyError, TypeError, ValueError):
        return None
    policy = KvPolicy(per_token, max_length, memory=lambda: facts)
    efforts = []
    for effort, budget in budgets.items():
        generated = MAX_NEW if budget is None else min(MAX_NEW, budget + ANSWER_TOKENS)
        try:
            tokens = policy.capacity(TYPICAL_HISTORY, generated, flexible=budget is None)
        except MemoryBudgetError as exc:
            efforts.append({"effort": effort, "fits": False, "message": exc.user_message()})
            continue
        efforts.append({"effort": effort, "fits": True, "tokens": tokens, "bytes": policy.bytes_for(tokens)})
    return {"per_token_bytes": per_token, "typical_history_tokens": TYPICAL_HISTORY, "efforts": efforts}


def format_kv_report(report: Mapping[str, Any]) -> list[str]:
    """The report as lines for a terminal."""
    lines = [f"Conversation memory (KV cache): {report['per_token_bytes'] / 1024:,.0f} KiB per token; "
             f"a turn with {report['typical_history_tokens']:,} tokens of history reserves"]
    for entry in report["efforts"]:
        if entry["fits"]:
            lines.append(f"  {entry['effort']:<10} {entry['tokens']:>7,} tokens  {size_text(entry['bytes'])}")
        else:
            lines.append(f"  {entry['effort']:<10} does not fit: {entry['message']}")
    return lines
