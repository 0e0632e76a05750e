"""Chunks sized by the model's own tokenizer, cut at headings, paragraphs, then sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.documents.model import Document, Section
from engine.summarize.chunking import chunk_documents
from engine.summarize.tokens import ModelTokenCounter


@pytest.fixture(scope="module")
def counter(model_dir):
    return ModelTokenCounter(model_dir)


def _doc(*sections: Section, name: str = "a.md") -> Document:
    return Document(path=Path("/docs") / name, kind="markdown", sections=sections, sha256="0" * 64)


def test_every_chunk_fits_and_no_text_is_lost(counter, report):
    chunks = chunk_documents([report], counter, 300)
    assert len(chunks) > 6
    for chunk in chunks:
        assert counter.count(chunk.text) <= 300
    words = lambda text: text.split()  # noqa: E731
    assert [w for c in chunks for w in words(c.text)] == [w for s in report.sections for w in words(s.text)]


def test_a_new_heading_starts_a_new_chunk_once_the_chunk_is_well_filled(counter):
    body = "Plain words in a sentence. " * 20
    doc = _doc(Section(body, "§ One"), Section(body, "§ Two"), Section("Tail.", "§ Three"))
    size = counter.count(body)
    chunks = chunk_documents([doc], counter, size * 3)
    # "§ Three" would fit in the first chunk, but it is two-thirds full, so the heading starts a new one.
    assert [[s.label for s in c.sources] for c in chunks] == [["§ One", "§ Two"], ["§ Three"]]


def test_a_paragraph_too_long_for_one_chunk_is_cut_at_sentences(counter):
    sentence = "This sentence is one of many in a very long paragraph."
    doc = _doc(Section(" ".join([sentence] * 40), "§ Long"))
    chunks = chunk_documents([doc], counter, counter.count(sentence) * 5)
    assert len(chunks) >= 8
    assert all(c.text.endswith(".") for c in chunks)
    assert all(c.sources[0].label == "§ Long" for c in chunks)


def test_text_without_any_spaces_is_still_cut_to_fit(counter):
    doc = _doc(Section("x" * 5000, "line 1"))
    chunks = chunk_documents([doc], counter, 200)
    assert all(counter.count(c.text) <= 200 for c in chunks)
    assert "".join(c.text for c in chunks) == "x" * 5000


def test_several_documents_keep_their_own_sources(counter):
    a = _doc(Section("Alpha text.", "§ A"), name="a.md")
    b = _doc(Section("Beta text.", "p. 1"), name="b.pdf")
    (chunk,) = chunk_documents([a, b], counter, 500)
    assert [(s.document, s.label) for s in chunk.sources] == [("a.md", "§ A"), ("b.pdf", "p. 1")]


def test_the_plan_is_the_same_every_run_so_saved_progress_matches(counter):
    from engine.summarize.options import SummaryOptions
    from engine.summarize.plan import make_plan

    # Prompts carry a random delimiter; the plan (and the chunks) must not depend on it.
    assert len({make_plan(2048, SummaryOptions(), counter) for _ in range(20)}) == 1
