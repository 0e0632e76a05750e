"""Prompt caching: a request that extends an earlier conversation runs in the engine session that
holds it, and computes only its new tokens (og's own counts, reported as cached_tokens)."""

from __future__ import annotations

import asyncio

import openai
import pytest

from engine.api.sessions import SessionRouter
from engine.host import Ready, Switching
from engine.request import ChatRequest, Message, Role

from tests.engine.api.conftest import ENDLESS, QUESTION, start_server

pytestmark = pytest.mark.timeout(120)


def chat(client, messages, live):
    completion = client.chat.completions.create(model="demo", messages=messages)
    # The worker feeds the answer (without its thinking) into the session while the user types;
    # wait for that idle time instead of racing it.
    live.host.backend.settled().result(60)
    usage = completion.usage
    # cached_tokens is og's own count: prompt tokens less those og computed this request.
    assert completion.model_extra["ponder"]["computed_prompt_tokens"] == computed(usage)
    return completion.choices[0].message.content, usage


def computed(usage) -> int:
    return usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens


def test_a_follow_up_computes_only_its_new_messages(client, live):
    first = [{"role": "user", "content": "What is 12 plus 30?"}]
    answer, usage = chat(client, first, live)
    follow_up = first + [{"role": "assistant", "content": answer}, {"role": "user", "content": QUESTION}]
    answer, again = chat(client, follow_up, live)
    # Everything the first request sent is cached; only the answer and the new question are fed.
    assert again.prompt_tokens_details.cached_tokens >= usage.prompt_tokens
    assert computed(again) < again.prompt_tokens - usage.prompt_tokens + 2
    third = follow_up + [{"role": "assistant", "content": answer}, {"role": "user", "content": "What is 1 plus 2?"}]
    _, usage3 = chat(client, third, live)
    assert usage3.prompt_tokens_details.cached_tokens >= again.prompt_tokens
    assert computed(usage3) < usage3.prompt_tokens - again.prompt_tokens + 2


def test_two_interleaved_conversations_each_keep_their_cache(client, live):
    a = [{"role": "user", "content": "What is 21 plus 14?"}]
    b = [{"role": "user", "content": "What is 63 plus 18?"}]
    answer_a, usage_a = chat(client, a, live)
    answer_b, usage_b = chat(client, b, live)
    a += [{"role": "assistant", "content": answer_a}, {"role": "user", "content": "What is 5 plus 6?"}]
    b += [{"role": "assistant", "content": answer_b}, {"role": "user", "content": "What is 7 plus 8?"}]
    _, follow_a = chat(client, a, live)
    _, follow_b = chat(client, b, live)
    assert follow_a.prompt_tokens_details.cached_tokens >= usage_a.prompt_tokens
    assert follow_b.prompt_tokens_details.cached_tokens >= usage_b.prompt_tokens
    assert computed(follow_a) < follow_a.prompt_tokens - usage_a.prompt_tokens + 2
    assert computed(follow_b) < follow_b.prompt_tokens - usage_b.prompt_tokens + 2


def test_a_model_switch_waits_for_a_running_request_and_the_api_says_503_meanwhile():
    from tests.engine.api.test_http_guards import chat_body, request

    server = start_server()
    try:
        with openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=60) as client:
            stream = client.chat.completions.create(model="demo", stream=True,
                                                    messages=[{"role": "user", "content": ENDLESS}])
            next(iter(stream))  # the turn runs
            # Scheduled on the server's loop ahead of the state check, and switch() runs at once.
            switched = asyncio.run_coroutine_threadsafe(server.host.load("demo", "cpu"), server.loop)
            state, busy = server.run(lambda: (server.host.state, server.host.busy))
            assert isinstance(state, Switching) and busy == ("api-0",)
            status, _, body = request(server.port, "POST", "/v1/chat/completions", chat_body())
            assert status == 503 and body["error"]["code"] == "model_loading"
            stream.close()  # the client goes away: its turn ends, then the switch loads
        switched.result(60)
        assert isinstance(server.host.state, Ready)
        assert request(server.port, "POST", "/v1/chat/completions", chat_body())[0] == 200
    finally:
        server.close()


def _request(*texts: str, system: str = "") -> ChatRequest:
    roles = [Role.USER, Role.ASSISTANT]
    return ChatRequest(tuple(Message(roles[i % 2], t) for i, t in enumerate(texts)), system_prompt=system)


def test_the_router_picks_the_extended_conversation_else_the_least_recently_used():
    router = SessionRouter(2)
    first = router.take(_request("q1"))
    router.finish(first, _request("q1"), "a1")
    other = router.take(_request("p1"))
    assert other != first
    router.finish(other, _request("p1"), "p-answer")
    assert router.take(_request("q1", "a1", "q2")) == first  # extends the first conversation
    router.finish(first, _request("q1", "a1", "q2"), "a2")
    # A new conversation takes the least recently used session; a busy one is never shared.
    assert router.take(_request("r1")) == other
    assert router.take(_request("q1", "a1", "q2", "a2", "q3")) == first
    with pytest.raises(RuntimeError):
        router.take(_request("s1"))


def test_the_router_does_not_overwrite_a_conversation_for_a_shared_first_message():
    router = SessionRouter(2)
    name = router.take(_request("q1"))
    router.finish(name, _request("q1"), "a1")
    # Same first question, then a different answer: another conversation, so the other session.
    assert router.take(_request("q1", "a different answer", "q2")) != name
    # A different system prompt is a different token prefix from the start.
    router = SessionRouter(2)
    name = router.take(_request("q1", system="be brief"))
    router.finish(name, _request("q1", system="be brief"), "a1")
    other = router.take(_request("q1", "a1", "q2", system="be long"))
    assert other != name
