"""Counting tokens with the model's own tokenizer (loaded from the model folder, no model needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class TokenCounter(Protocol):
    """Anything that can say how many tokens a text is for the model."""

    def count(self, text: str) -> int:
        """Number of tokens text encodes to."""
        ...


class ModelTokenCounter:
    """onnxruntime-genai's tokenizer for a model folder. Independent of the loaded model's objects,
    so chunking can run on any thread while the inference thread generates."""

    def __init__(self, folder: Path) -> None:
        from engine.og_native import folder_tokenizer

        self._tokenizer = folder_tokenizer(folder)  # built without freezing the window

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text)) if text else 0


class CachedCounter:
    """Remembers the counts of texts seen before: the reduce rounds and the carried points count
    the same point texts again and again."""

    def __init__(self, counter: TokenCounter, limit: int = 100_000) -> None:
        self._counter, self._limit = counter, limit
        self._counts: dict[str, int] = {}

    def count(self, text: str) -> int:
        cached = self._counts.get(text)
        if cached is None:
            cached = self._counter.count(text)
            if len(self._counts) < self._limit:
                self._counts[text] = cached
        return cached
