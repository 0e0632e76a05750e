"""Reduce: merge key points until they fit one request, then write the summary, keeping citations.

Each merge step may write at most half the tokens it reads, so the points shrink every round and
the recursion ends; after MAX_ROUNDS the points are thinned evenly as a last resort.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence

from engine.errors import ContextTooLongError
from engine.summarize import prompts
from engine.summarize.events import Stage
from engine.summarize.options import SummaryOptions
from engine.summarize.plan import Plan
from engine.summarize.points import Point, attribute, parse_answer
from engine.summarize.sources import merge
from engine.summarize.tokens import TokenCounter

MAX_ROUNDS = 6
Step = Callable[[str, str, int, int], Awaitable[str]]
Progress = Callable[..., None]


class Reducer:
    """Runs the reduce rounds of one job through `step(key, prompt, thinking, max_new)`."""

    def __init__(self, plan: Plan, options: SummaryOptions, counter: TokenCounter, step: Step,
                 progress: Progress) -> None:
        self.plan, self.options, self.counter, self.step, self.progress = plan, options, counter, step, progress

    def cost(self, points: Sequence[Point]) -> int:
        return sum(self.counter.count(p.text) + 4 for p in points)  # "[n] " and the newline

    async def run(self, points: list[Point]) -> list[Point]:
        if not points:
            return []
        current = points
        for _ in range(MAX_ROUNDS):
            if self.cost(current) <= self.plan.reduce_input:
                break
            current = await self._merge_round(current)
        else:
            current = self._thin(current)
        self.progress(Stage.WRITING, 1, 1, merge(s for p in current for s in p.sources))
        texts = [p.text for p in current]
        answer = await self.step(_key("final", texts), prompts.final_prompt(points=texts, options=self.options),
                                 self.plan.reduce_thinking, self.plan.final_new)
        final = attribute(parse_answer(answer), current, merge(s for p in current for s in p.sources))
        return final or current  # a model that writes nothing still leaves the key points

    async def _merge_round(self, points: list[Point]) -> list[Point]:
        groups = self._groups(points)
        merged: list[Point] = []
        for index, group in enumerate(groups, 1):
            self.progress(Stage.COMBINING, index, len(groups), merge(s for p in group for s in p.sources))
            merged += await self._merge_group(group)
        return merged

    async def _merge_group(self, group: list[Point]) -> list[Point]:
        """Merge one group; a group whose prompt plus answer room overflows the context (the
        token counts here are estimates) is merged as two halves instead."""
        sources = merge(s for p in group for s in p.sources)
        texts = [p.text for p in group]
        budget = max(32, self.cost(group) // 2)
        prompt = prompts.merge_prompt(points=texts, options=self.options, max_points=max(2, len(group) // 2))
        try:
            answer = await self.step(_key("merge", texts), prompt, self.plan.reduce_thinking,
                                     self.plan.reduce_thinking + budget)
        except ContextTooLongError:
            if len(group) == 1:
                return group
            half = len(group) // 2
            return await self._merge_group(group[:half]) + await self._merge_group(group[half:])
        found = attribute(parse_answer(answer), group, sources)
        return _cap(found, self.counter, budget) if found else group[: max(1, len(group) // 2)]

    def _groups(self, points: list[Point]) -> list[list[Point]]:
        groups: list[list[Point]] = [[]]
        used = 0
        for point in points:
            cost = self.counter.count(point.text) + 4
            if groups[-1] and used + cost > self.plan.reduce_input:
                groups.append([])
                used = 0
            groups[-1].append(point)
            used += cost
        return groups

    def _thin(self, points: list[Point]) -> list[Point]:
        """Evenly spaced points that fit, in order (only if merging failed to shrink them)."""
        keep = list(points)
        while len(keep) > 1 and self.cost(keep) > self.plan.reduce_input:
            keep = keep[::2]
        return keep


def _cap(points: list[Point], counter: TokenCounter, budget: int) -> list[Point]:
    """A model may ignore the limit in the prompt; keep what fits the budget so rounds shrink."""
    out: list[Point] = []
    used = 0
    for point in points:
        used += counter.count(point.text) + 4
        if out and used > budget:
            break
        out.append(point)
    return out


def _key(kind: str, texts: Sequence[str]) -> str:
    return hashlib.sha256((kind + "\0" + "\n".join(texts)).encode()).hexdigest()[:24]
