"""Options, answer parsing, source text and the resume store."""

from __future__ import annotations

import pytest

from engine.errors import BadRequestError
from engine.summarize.options import Form, Length, SummaryOptions
from engine.summarize.points import parse_answer
from engine.summarize.sources import Source, describe
from engine.summarize.store import ProgressStore


def test_options_parse_and_refuse_bad_values():
    assert SummaryOptions.parse(length="LONG", form="key_points", focus="  why?  ") == SummaryOptions(
        Length.LONG, Form.KEY_POINTS, "why?")
    with pytest.raises(BadRequestError, match="short, medium or long"):
        SummaryOptions.parse(length="tiny")
    with pytest.raises(BadRequestError, match="paragraph, bullets or key-points"):
        SummaryOptions.parse(form="poem")


def test_answers_parse_into_points_with_citations():
    parsed = parse_answer("Here you go:\n- Sales rose [1, 3].\n* Costs fell (2-4)\n1. Hire staff [5]\n")
    assert [(p.text, p.cites) for p in parsed] == [
        ("Here you go:", ()), ("Sales rose.", (1, 3)), ("Costs fell", (2, 3, 4)), ("Hire staff", (5,))]


def test_sources_read_like_a_person_would_write_them():
    pages = [Source(0, n, "r.pdf", f"p. {n}", n) for n in (2, 3, 4, 7)]
    assert describe(pages, with_document=False) == "pp. 2–4, 7"
    assert describe([pages[0], Source(1, 0, "n.md", "§ Risks")], with_document=True) == "r.pdf p. 2; n.md § Risks"


def test_the_store_appends_steps_and_survives_a_torn_line(tmp_path):
    store = ProgressStore(tmp_path / "s")
    store.record("k", "map", "0", [{"text": "a", "group": "", "sources": []}])
    store.record("k", "reduce", "abc", "answer")
    assert store.load("k")["map"] == {"0": [{"text": "a", "group": "", "sources": []}]}
    with open(tmp_path / "s" / "k.jsonl", "a") as journal:
        journal.write('{"kind": "map", "key": "1", "val')  # a crash in the middle of a write
    state = store.load("k")
    assert list(state["map"]) == ["0"] and state["reduce"] == {"abc": "answer"}
    assert oct((tmp_path / "s").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "s" / "k.jsonl").stat().st_mode & 0o777) == "0o600"
    store.discard("k")
    assert store.load("k")["map"] == {}


def test_stray_reasoning_markers_in_an_answer_are_dropped():
    parsed = parse_answer("- The answer is 8.</think>The answer is 88.")
    assert [p.text for p in parsed] == ["The answer is 8. The answer is 88."]
