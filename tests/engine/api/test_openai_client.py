"""The official `openai` client against a real server on the demo model."""

from __future__ import annotations

import http.client
import json

import openai
import pytest

from engine.budget import BOUNDARY_GRACE

from tests.engine.api.conftest import ANSWER, QUESTION, THINKING

pytestmark = pytest.mark.timeout(120)


def ask(client, question=QUESTION, **options):
    return client.chat.completions.create(model="demo", messages=[{"role": "user", "content": question}], **options)


def test_models_lists_the_loaded_model_with_its_context(client):
    models = client.models.list().data
    assert models[0].id == "demo"
    assert models[0].model_extra["context_length"] == 2048
    assert models[0].model_extra["reasoning"] is True


def test_answer_and_reasoning_are_kept_apart(client):
    completion = ask(client)
    message = completion.choices[0].message
    assert message.content == ANSWER
    assert message.model_extra["reasoning_content"] == THINKING
    assert message.model_extra["reasoning"] == THINKING
    assert "<think>" not in message.content and "</think>" not in message.content
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage.completion_tokens_details.reasoning_tokens == 45
    assert usage.completion_tokens == 52 and usage.prompt_tokens == 28
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert completion.model_extra["ponder"]["thinking_forced"] is False


def test_stream_sends_reasoning_then_answer_and_usage(client):
    reasoning, content, finishes, usage = [], [], [], None
    for chunk in ask(client, stream=True, stream_options={"include_usage": True}):
        if chunk.usage is not None:
            assert usage is None and not chunk.choices  # one usage chunk, after the others
            usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            extra = delta.model_extra or {}
            if extra.get("reasoning_content"):
                assert extra["reasoning"] == extra["reasoning_content"]
                assert not content, "thinking after the answer started"
                reasoning.append(extra["reasoning_content"])
            if delta.content:
                content.append(delta.content)
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert "".join(reasoning) == THINKING
    assert "".join(content) == ANSWER
    assert finishes == ["stop"]
    assert usage.completion_tokens_details.reasoning_tokens == 45
    assert usage.prompt_tokens_details.cached_tokens >= 0


def test_effort_none_answers_without_thinking(client):
    completion = ask(client, reasoning_effort="none")
    assert completion.choices[0].message.model_extra["reasoning_content"] == ""
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0
    assert completion.choices[0].message.content.startswith("The answer is")


def test_efforts_map_to_the_budgets(client):
    low = ask(client, reasoning_effort="low").model_extra["ponder"]
    high = ask(client, reasoning_effort="high").model_extra["ponder"]
    assert (low["thinking_budget"], high["thinking_budget"]) == (256, 4096)
    assert not low["thinking_forced"]  # 45 thinking tokens fit in either budget


@pytest.mark.parametrize("field", ["max_thinking_tokens", "thinking_budget_tokens"])
def test_a_small_budget_forces_the_answer_and_says_so(client, field):
    completion = ask(client, extra_body={field: 8})
    assert completion.model_extra["ponder"]["thinking_forced"] is True
    assert completion.model_extra["ponder"]["finish_detail"] == "thinking_budget"
    # The engine ends spent thinking at the next sentence end, at most BOUNDARY_GRACE tokens on.
    assert completion.usage.completion_tokens_details.reasoning_tokens <= 8 + BOUNDARY_GRACE + 1
    assert completion.choices[0].message.content  # an answer came after the forced end
    assert completion.choices[0].finish_reason == "stop"


def test_the_budget_message_goes_before_the_forced_end(client):
    completion = ask(client, extra_body={"max_thinking_tokens": 8, "reasoning_budget_message": " Enough, answer."})
    thinking = completion.choices[0].message.model_extra["reasoning_content"]
    assert thinking.endswith(" Enough, answer.") and completion.model_extra["ponder"]["thinking_forced"]
    unforced = ask(client, extra_body={"reasoning_budget_message": " Enough, answer."}).choices[0].message
    assert unforced.model_extra["reasoning_content"] == THINKING  # only a forced end adds it


def test_max_tokens_cuts_with_length(client):
    completion = ask(client, max_tokens=10)
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 10


def test_stop_string_cuts_the_answer_not_the_thinking(client):
    completion = ask(client, stop=["is 8"])
    message = completion.choices[0].message
    assert message.content == "The answer "
    assert message.model_extra["reasoning_content"] == THINKING  # "is 8" never appears there anyway
    assert completion.choices[0].finish_reason == "stop"
    streamed = "".join(c.choices[0].delta.content or "" for c in ask(client, stop="answer", stream=True)
                       if c.choices)
    assert streamed == "The "


def test_earlier_reasoning_sent_back_is_dropped(client):
    plain = [{"role": "user", "content": "What is 1 plus 2?"},
             {"role": "assistant", "content": "The answer is 3."},
             {"role": "user", "content": QUESTION}]
    with_reasoning = [plain[0], {"role": "assistant", "content": "<think>secret steps</think>The answer is 3.",
                                 "reasoning_content": "secret steps"}, plain[2]]
    a = client.chat.completions.create(model="demo", messages=plain)
    b = client.chat.completions.create(model="demo", messages=with_reasoning)
    assert a.usage.prompt_tokens == b.usage.prompt_tokens
    assert b.choices[0].message.content == a.choices[0].message.content


def test_seed_is_accepted_with_a_note(client):
    completion = ask(client, seed=7)
    assert completion.choices[0].message.content == ANSWER
    assert "seed was ignored" in completion.model_extra["ponder"]["warnings"][0]


def test_unknown_model_is_model_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert caught.value.code == "model_not_found"


def test_n_above_one_is_refused(client):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, n=2)
    assert caught.value.param == "n"


def test_bad_values_name_the_field(client):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, temperature=3)
    assert caught.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="demo", messages=[{"role": "assistant", "content": "hi"}])
    assert "last message" in caught.value.message


def test_too_long_prompts_are_context_length_exceeded(client):
    # Past the cheap character limit, and within it but past the model's 2,048 tokens.
    for question in ("x" * 20_000, "1 + 1 = 2. " * 400):
        with pytest.raises(openai.BadRequestError) as caught:
            ask(client, question)
        assert caught.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, "1 + 1 = 2. " * 400, stream=True)
    assert caught.value.code == "context_length_exceeded"
    assert ask(client).choices[0].message.content == ANSWER  # and the server is fine after it


def test_bad_json_is_an_openai_error(live):
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    connection.request("POST", "/v1/chat/completions", body=b'{"model": "demo", "messages": [',
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    error = json.loads(response.read())["error"]
    connection.close()
    assert response.status == 400
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_json"
