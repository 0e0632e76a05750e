"""Cut documents into chunks that fit the model: on heading, then paragraph, then sentence boundaries.

Every paragraph is counted once with the model's tokenizer; chunks are packed from those counts,
so sizing costs one tokenizer pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from engine.documents.model import Document
from engine.summarize.sources import Source, merge
from engine.summarize.tokens import TokenCounter

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?…。])\s+")
#: Close a chunk at a heading once it is at least this full.
HEADING_FILL = 0.6
#: Tokens counted for the blank line between two paragraphs.
JOIN_TOKENS = 2


@dataclass(frozen=True)
class Part:
    """A piece of one section: the unit chunks are packed from."""

    text: str
    source: Source
    tokens: int
    starts_section: bool


@dataclass(frozen=True)
class Chunk:
    """What one map step reads.

    Attributes:
        index: 0-based position in the job.
        parts: the pieces it holds, in order.
        tokens: the tokens it costs, by the model's tokenizer.
    """

    index: int
    parts: tuple[Part, ...]
    tokens: int

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.parts)

    @property
    def sources(self) -> tuple[Source, ...]:
        return merge(p.source for p in self.parts)


def chunk_documents(documents: Sequence[Document], counter: TokenCounter, max_tokens: int) -> list[Chunk]:
    """All documents as chunks of at most max_tokens tokens each."""
    if max_tokens < 16:
        raise ValueError("chunks must hold at least 16 tokens")
    chunks: list[Chunk] = []
    current: list[Part] = []
    used = 0
    for part in _parts(documents, counter, max_tokens):
        cost = part.tokens + (JOIN_TOKENS if current else 0)
        full = used + cost > max_tokens
        at_heading = part.starts_section and used >= HEADING_FILL * max_tokens
        if current and (full or at_heading):
            chunks.append(Chunk(len(chunks), tuple(current), used))
            current, used, cost = [], 0, part.tokens
        current.append(part)
        used += cost
    if current:
        chunks.append(Chunk(len(chunks), tuple(current), used))
    return chunks


def _parts(documents: Sequence[Document], counter: TokenCounter, max_tokens: int) -> Iterator[Part]:
    for doc_index, document in enumerate(documents):
        for order, section in enumerate(document.sections):
            source = Source(doc_index, order, document.name, section.label, section.page)
            first = True
            for paragraph in _PARAGRAPHS.split(section.text):
                paragraph = paragraph.strip()
                if not paragraph:
                    continue
                for text, tokens in _fit(paragraph, counter, max_tokens):
                    yield Part(text, source, tokens, first)
                    first = False


def _fit(text: str, counter: TokenCounter, max_tokens: int) -> Iterator[tuple[str, int]]:
    """text as pieces of at most max_tokens: whole, else by sentence, else by words."""
    tokens = counter.count(text)
    if tokens <= max_tokens:
        yield text, tokens
        return
    sentences = _SENTENCES.split(text)
    if len(sentences) > 1:
        yield from _pack([s for s in sentences if s], " ", counter, max_tokens)
        return
    words = text.split(" ")
    if len(words) > 1:
        yield from _pack(words, " ", counter, max_tokens)
        return
    # One enormous "word" (no spaces at all): cut by characters in proportion.
    step = max(1, len(text) * max_tokens // (tokens + 1))
    for start in range(0, len(text), step):
        yield from _fit(text[start : start + step], counter, max_tokens)


def _pack(pieces: list[str], joiner: str, counter: TokenCounter, max_tokens: int) -> Iterator[tuple[str, int]]:
    """Greedy packing of pieces into texts that fit; a piece that alone is too big is cut further."""
    buffer: list[str] = []
    used = 0
    for piece in pieces:
        count = counter.count(piece)
        if count > max_tokens:
            if buffer:
                yield joiner.join(buffer), used
                buffer, used = [], 0
            yield from _fit(piece, counter, max_tokens)
            continue
        if buffer and used + count + 1 > max_tokens:
            yield joiner.join(buffer), used
            buffer, used = [], 0
        buffer.append(piece)
        used += count + (1 if len(buffer) > 1 else 0)
    if buffer:
        yield joiner.join(buffer), used
