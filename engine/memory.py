"""How much memory a conversation's KV cache takes, and how much of it to reserve.

onnxruntime-genai allocates a request's whole KV up front (past_present_share_buffer) and cannot
grow it, so the reservation is chosen per request: the turn's need plus headroom for the next
question, rounded up to a step, and never more than the free memory less a margin. A conversation
that cannot fit gets a typed error that offers the ways out (lower effort, a new chat).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import MemoryBudgetError

GiB = 2**30
#: Reservations are rounded up to this many tokens.
STEP = 256
#: Room kept for the next question beyond this turn's need.
HEADROOM = 1024
#: Memory left free for everything else (the window, the OS), on top of the reservation.
MARGIN = GiB // 2
#: Tokens a turn must at least have for its answer.
MIN_ROOM = 256


@dataclass(frozen=True)
class MemoryFacts:
    """Memory of the machine, in bytes (injectable for tests)."""

    total: int
    available: int


def system_memory() -> MemoryFacts:
    """The machine's memory now, from psutil."""
    import psutil

    vm = psutil.virtual_memory()
    return MemoryFacts(int(vm.total), int(vm.available))


def kv_bytes_per_token(config: Mapping[str, Any], element_bytes: int = 4) -> int:
    """Layers × KV heads × head size × 2 (keys and values) × element size, from genai_config.

    CPU builds keep the cache in float32 (4 bytes), GPU builds in float16 (2).
    """
    decoder = config.get("model", {}).get("decoder", {})
    layers = int(decoder["num_hidden_layers"])
    heads = int(decoder.get("num_key_value_heads") or decoder["num_attention_heads"])
    head_size = int(decoder.get("head_size") or int(decoder["hidden_size"]) // int(decoder["num_attention_heads"]))
    return layers * heads * head_size * 2 * element_bytes


def element_bytes_for(provider_key: str) -> int:
    """KV element size on a provider: float32 on the CPU, float16 elsewhere."""
    return 4 if provider_key == "cpu" else 2


@dataclass(frozen=True)
class KvPolicy:
    """Chooses a request's KV reservation (in tokens) within the memory that is free."""

    per_token: int
    max_length: int
    memory: Callable[[], MemoryFacts] = system_memory
    margin: int = MARGIN
    step: int = STEP
    headroom: int = HEADROOM

    def fits(self, held_tokens: int = 0) -> int:
        """Most tokens a reservation may have now; held_tokens are reserved already and would be
        freed by the new reservation."""
        free = self.memory().available + held_tokens * self.per_token - self.margin
        return max(0, min(self.max_length, free // self.per_token))

    def capacity(self, prompt: int, max_new: int, *, held_tokens: int = 0, flexible: bool = False,
                 next_question: bool = True) -> int:
        """Reservation for a turn of `prompt` tokens that may generate `max_new`.

        flexible: max_new is only a ceiling (no effort chosen), so a smaller reservation that
        leaves MIN_ROOM is acceptable; otherwise the whole budget must fit.
        next_question: add headroom for a follow-up question (not for a one-off question).
        """
        limit = self.fits(held_tokens)
        need = prompt + max_new
        room = self.headroom if next_question else 0
        wanted = min(self.max_length, -(-(need + room) // self.step) * self.step)
        if wanted <= limit:
            return wanted
        if need <= limit or (flexible and prompt + MIN_ROOM <= limit):
            return limit
        raise MemoryBudgetError(need * self.per_token, limit * self.per_token,
                                history=prompt * self.per_token > limit * self.per_token // 2)

    def bytes_for(self, tokens: int) -> int:
        """What a reservation of `tokens` costs."""
        return tokens * self.per_token


#: KV shape (layers, KV heads, head size) of the catalog's models, from their config.json, so
#: the cost is known before anything is downloaded.
CATALOG_KV_SHAPES: dict[str, tuple[int, int, int]] = {
    "phi-4-mini-reasoning": (32, 8, 128),
    "phi-4-mini-instruct": (32, 8, 128),
    "phi-4-reasoning": (40, 10, 128),
    "phi-4-reasoning-plus": (40, 10, 128),
}
#: What a turn is assumed to hold besides the thinking: a question with some history, the answer.
TYPICAL_HISTORY, ANSWER_TOKENS = 1024, 2048


def catalog_kv_bytes_per_token(model_id: str, kind: str) -> int | None:
    """Per-token KV cost of a catalog model's variant (None: shape unknown)."""
    shape = CATALOG_KV_SHAPES.get(model_id)
    if shape is None:
        return None
    layers, heads, head_size = shape
    return layers * heads * head_size * 2 * (4 if kind == "cpu" else 2)


def turn_tokens(thinking_budget: int | None, max_new_tokens: int) -> int:
    """Session tokens a typical turn reserves at an effort (None: unlimited thinking)."""
    generated = max_new_tokens if thinking_budget is None else min(max_new_tokens, thinking_budget + ANSWER_TOKENS)
    return TYPICAL_HISTORY + generated + HEADROOM


def reservation(per_token: int, weights: int, facts: MemoryFacts, thinking_budget: int | None, *,
                max_length: int, max_new_tokens: int = 16384) -> int:
    """Tokens a typical turn at this effort would reserve once the weights (bytes) are loaded;
    raises MemoryBudgetError when that effort cannot fit."""
    after_load = MemoryFacts(facts.total, facts.available - weights)
    policy = KvPolicy(per_token, max_length, memory=lambda: after_load)
    generated = max_new_tokens if thinking_budget is None else min(max_new_tokens, thinking_budget + ANSWER_TOKENS)
    return policy.capacity(TYPICAL_HISTORY, generated, flexible=thinking_budget is None)


def size_text(n: int) -> str:
    """Memory as people read it, in binary units as `doctor` counts RAM: '1.1 GB', '512 MB'."""
    return f"{n / GiB:.1f} GB" if n >= GiB else f"{n / 2**20:,.0f} MB"
