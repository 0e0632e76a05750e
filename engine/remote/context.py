"""How many tokens a served model's context holds, from what the server's /v1/models says.

The OpenAI shape has no context field; the engines we know each add their own. Where none is
given, DEFAULT_CONTEXT is assumed: small enough that any model served for chat holds it, so a
summary plans chunks that fit (at the cost of more, smaller steps on a long-context server).
"""

from __future__ import annotations

from typing import Any

#: Assumed when the server does not say (every chat model served today holds at least this).
DEFAULT_CONTEXT = 4096


def served_context(models_reply: dict[str, Any], model: str) -> int | None:
    """The context length the server reports for `model`, or None if it reports none.

    vLLM: `max_model_len` (what it really runs with). `ponder serve`: `context_length`.
    llama.cpp's llama-server: `meta.n_ctx_train`, the context the model was trained with; the
    server may run with a smaller `-c`, which is why consumers keep a margin (see
    engine/summarize/job.py).
    """
    for entry in models_reply.get("data") or []:
        if not isinstance(entry, dict) or entry.get("id") != model:
            continue
        meta = entry.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        for value in (entry.get("max_model_len"), entry.get("context_length"), entry.get("context_window"),
                      meta.get("n_ctx_train")):
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None
