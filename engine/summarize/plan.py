"""How a model's context is shared out between document text, carried points and the answer."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ContextTooLongError
from engine.summarize import prompts
from engine.summarize.options import SummaryOptions
from engine.summarize.tokens import TokenCounter

#: Tokens kept free for the chat template's own markers and rounding.
TEMPLATE_SLACK = 48
#: Largest chunk even on long-context models: quality drops and prefill slows on huge chunks.
MAX_CHUNK = 8192
#: Stands for the random delimiter when measuring prompts (same length as prompts._tag()).
FIXED_TAG = "doc-0f0f0f0f"


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


@dataclass(frozen=True)
class Plan:
    """Token budgets of every step, for one model context and one set of options."""

    context: int
    map_thinking: int
    map_answer: int
    carry: int
    chunk: int
    reduce_thinking: int
    final_answer: int
    reduce_input: int

    @property
    def map_new(self) -> int:
        return self.map_thinking + self.map_answer

    @property
    def final_new(self) -> int:
        return self.reduce_thinking + self.final_answer


def make_plan(context: int, options: SummaryOptions, counter: TokenCounter) -> Plan:
    """Budgets for a model with `context` tokens; raises ContextTooLongError if it is too small."""
    map_thinking = _clamp(context // 16, 32, 256)  # the issue: map steps think little
    map_answer = _clamp(context // 8, 96, 768)
    carry = _clamp(context // 12, 64, 1024)
    map_overhead = counter.count(prompts.SYSTEM) + counter.count(prompts.map_prompt(
        text="", step=999, total=999, where="pp. 999–999", carried=[], options=options, max_points=10, tag=FIXED_TAG))
    # The engine keeps min(max_new, context/2) free when it fits the prompt.
    chunk = context - min(map_thinking + map_answer, context // 2) - carry - map_overhead - TEMPLATE_SLACK
    chunk = min(chunk, MAX_CHUNK)
    reduce_thinking = _clamp(context // 8, 64, 1024)
    final_answer = min(options.answer_tokens, context // 4)
    reduce_overhead = counter.count(prompts.SYSTEM) + counter.count(prompts.final_prompt(points=[], options=options, tag=FIXED_TAG))
    reduce_input = context - min(reduce_thinking + final_answer, context // 2) - reduce_overhead - TEMPLATE_SLACK
    if chunk < 64 or reduce_input < 64:
        raise ContextTooLongError(context - min(chunk, reduce_input) + 64, context)
    return Plan(context, map_thinking, map_answer, carry, chunk, reduce_thinking, final_answer,
                min(reduce_input, MAX_CHUNK))
