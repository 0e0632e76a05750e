"""The chunk parser on recorded streams of the reasoning formats servers send (vLLM's two field
names, Ollama's OpenAI endpoint, `<think>` inline), through the whole HTTP path."""

from __future__ import annotations

import pytest

from engine.events import AnswerDelta, FinishReason, ThinkingDelta
from engine.remote.stream import ChunkParser, TurnCounts
from engine.request import ask
from tests.engine.remote.conftest import FIXTURES, run_turn

THINKING = "The user asks 37+45. Ones: 7+5=12, carry 1. Tens: 3+4+1=8."
ANSWER = "The answer is 82."


@pytest.mark.parametrize("name, source", [
    ("vllm_reasoning_content.sse", "reasoning_content"),
    ("vllm_reasoning.sse", "reasoning"),
    ("ollama_reasoning.sse", "reasoning"),
])
def test_reasoning_fields_become_thinking(fake, connected, name, source):
    fake.state.script.raw_sse = (FIXTURES / name).read_text()
    finished, events = run_turn(connected, ask("What is 37+45?"))
    assert finished.reason is FinishReason.STOP
    assert finished.thinking == THINKING and finished.answer == ANSWER
    # Thinking arrives live, before the answer, as typed deltas.
    kinds = [type(e) for e in events.events if isinstance(e, (ThinkingDelta, AnswerDelta))]
    assert kinds.index(AnswerDelta) > 0 and set(kinds[: kinds.index(AnswerDelta)]) == {ThinkingDelta}
    assert finished.stats.prompt_tokens == 21


def test_usage_reasoning_tokens_are_used_for_counts(fake, connected):
    fake.state.script.raw_sse = (FIXTURES / "vllm_reasoning.sse").read_text()
    finished, _ = run_turn(connected, ask("What is 37+45?"))
    stats = finished.stats
    assert (stats.thinking_tokens, stats.answer_tokens, stats.cached_prompt_tokens) == (13, 5, 16)
    assert stats.time_to_first_token_s is not None and stats.time_to_first_token_s > 0


def test_counts_without_reasoning_details_come_from_the_deltas(fake, connected):
    fake.state.script.raw_sse = (FIXTURES / "ollama_reasoning.sse").read_text()
    finished, _ = run_turn(connected, ask("What is 37+45?"))
    assert (finished.stats.thinking_tokens, finished.stats.answer_tokens) == (13, 5)


def test_inline_think_tags_split_across_chunks(fake, connected):
    fake.state.script.raw_sse = (FIXTURES / "inline_think.sse").read_text()
    finished, events = run_turn(connected, ask("What is 37+45?"))
    assert finished.thinking == "ones: 7+5=12, write 2, carry 1."
    assert finished.answer == "The answer is 82."
    assert not any("<" in e.text for e in events.of(ThinkingDelta) + events.of(AnswerDelta))


def test_captured_llama_cpp_python_stream(fake, connected):
    """Captured from llama-cpp-python's server on the demo model (no usage, `<think>` inline)."""
    fake.state.script.raw_sse = (FIXTURES / "llama_cpp_python.sse").read_text()
    finished, _ = run_turn(connected, ask("What is 37 plus 45?"))
    assert finished.thinking == "ones: 7+5=12, write 2, carry 1. tens: 3+4+1=8, write 8. 37+45=82."
    assert finished.answer == "The answer is 82." and finished.stats.thinking_tokens > 20


def test_the_first_deltas_decide_the_source():
    counts = TurnCounts()
    parser = ChunkParser(counts)
    parser.feed({"choices": [{"delta": {"role": "assistant", "content": ""}}]})
    assert parser.source is None
    pieces = parser.feed({"choices": [{"delta": {"reasoning_content": "hmm <think> not a tag"}}]})
    assert parser.source == "reasoning_content" and pieces[0].thinking
    # Once a field carried the thinking, content is the answer even if it looks like a tag.
    pieces = parser.feed({"choices": [{"delta": {"content": "<think>x"}}]})
    assert [(p.thinking, p.text) for p in pieces] == [(False, "<think>x")]
    inline = ChunkParser(TurnCounts())
    inline.feed({"choices": [{"delta": {"content": "<think>a"}}]})
    assert inline.source == "inline" and inline.inside_thinking


def test_a_delta_with_both_field_names_counts_once(fake, connected):
    """Ponder's own API (and some proxies) send the same thinking under both names."""
    from tests.engine.remote.fake_openai import Script, chunk

    both = [chunk(reasoning=t) for t in ("carry ", "one")]
    for item in both:
        item["choices"][0]["delta"]["reasoning_content"] = item["choices"][0]["delta"]["reasoning"]
    fake.state.script = Script(chunks=[*both, chunk(content="82"), chunk(finish="stop")])
    finished, _ = run_turn(connected, ask("hi"))
    assert finished.thinking == "carry one" and finished.answer == "82"
