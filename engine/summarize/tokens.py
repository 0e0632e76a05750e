"""Counting tokens: with the model's own tokenizer (loaded from the model folder, no model needed),
or, for a model on a remote server whose tokenizer is not here, a conservative estimate."""

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


class EstimateCounter:
    """A token count that needs no tokenizer, for a model served elsewhere. Meant to over-count.

    Byte-level BPE tokenizers (Phi-4, Llama 3, Qwen, Mistral) average about four characters a
    token in English prose and about three in code and other Latin-script text; CJK text takes
    one token or more a character, which is three UTF-8 bytes. So UTF-8 bytes / 3 (rounded up)
    over-counts prose by about a third and holds for CJK. Digits are counted one each because
    Llama-2-style tokenizers (Phi-3, the demo model) split numbers digit by digit. What this can
    still under-count (random strings, emoji runs) is covered by the margin the caller keeps off
    the context (engine/summarize/job.py). A server's own /tokenize would be exact but is not
    part of the OpenAI API; this works with every server and costs no request.
    """

    BYTES_PER_TOKEN = 3

    def count(self, text: str) -> int:
        if not text:
            return 0
        digits = sum(ch.isdigit() for ch in text)
        other = len(text.encode("utf-8", "replace")) - digits
        return digits + -(-other // self.BYTES_PER_TOKEN)


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
