"""The server's pure parts: stop strings across chunks, the fair bounded queue, body mapping."""

from __future__ import annotations

import asyncio

import pytest

from engine.api.convert import to_request
from engine.api.errors import ApiError
from engine.api.gate import QueueFull, RequestGate
from engine.api.model import ServedModel
from engine.api.schema import parse_body
from engine.api.stops import StopFilter
from engine.request import Role, Sampling

MODEL = ServedModel("demo", 2048, Sampling(greedy=True))
BUDGETS = {"low": 100, "medium": 200, "high": 300, "unlimited": None}


def test_a_stop_string_split_across_chunks_is_caught_and_nothing_after_it_leaks():
    stops = StopFilter(["END"])
    sent = [stops.push(chunk) for chunk in ("The answer E", "N", "D and more", " text")]
    assert "".join(sent) == "The answer " and stops.stopped
    assert stops.flush() == ""


def test_held_back_text_that_was_no_stop_is_sent_at_the_end():
    stops = StopFilter(["END"])
    assert stops.push("so E") == "so "
    assert stops.flush() == "E" and not stops.stopped


def test_the_queue_serves_in_arrival_order_and_refuses_beyond_its_bound():
    async def scenario():
        gate = RequestGate(active=1, waiting=2)
        first = await gate.acquire()
        order: list[str] = []

        async def wait(name):
            slot = await gate.acquire()
            order.append(name)
            gate.release(slot)

        tasks = [asyncio.ensure_future(wait(name)) for name in "ab"]
        await asyncio.sleep(0)
        with pytest.raises(QueueFull) as full:
            await gate.acquire()
        assert full.value.retry_after >= 1
        gate.release(first)
        await asyncio.gather(*tasks)
        return order, gate.running

    assert asyncio.run(scenario()) == (["a", "b"], 0)


def test_a_waiter_that_leaves_does_not_lose_the_slot():
    async def scenario():
        gate = RequestGate(active=1, waiting=4)
        slot = await gate.acquire()
        leaving = asyncio.ensure_future(gate.acquire())
        await asyncio.sleep(0)
        leaving.cancel()
        await asyncio.sleep(0)
        gate.release(slot)
        return await asyncio.wait_for(gate.acquire(), 1)

    assert asyncio.run(scenario()) == 0


def body(**fields):
    return parse_body({"model": "demo", "messages": [{"role": "user", "content": "hi"}], **fields})


def test_system_and_developer_messages_become_the_system_prompt_and_reasoning_is_dropped():
    conversion = to_request(parse_body({"model": "demo", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "1+1?"}]},
        {"role": "assistant", "content": "<think>one and one</think>2", "reasoning_content": "one and one"},
        {"role": "developer", "content": "Use digits."},
        {"role": "user", "content": "2+2?"}]}), MODEL, BUDGETS)
    request = conversion.request
    assert request.system_prompt == "Be brief.\n\nUse digits."
    assert [(m.role, m.content) for m in request.messages] == [
        (Role.USER, "1+1?"), (Role.ASSISTANT, "2"), (Role.USER, "2+2?")]


@pytest.mark.parametrize(("fields", "budget"), [
    ({}, 200), ({"reasoning_effort": "low"}, 100), ({"reasoning_effort": "high"}, 300),
    ({"reasoning_effort": "xhigh"}, None), ({"reasoning_effort": "none"}, 0),
    ({"reasoning_effort": "high", "max_thinking_tokens": 7}, 7), ({"thinking_budget_tokens": 9}, 9),
])
def test_efforts_and_explicit_budgets(fields, budget):
    conversion = to_request(body(**fields), MODEL, BUDGETS)
    assert conversion.budget == budget
    assert conversion.request.budget.tokens == (budget or None)
    assert conversion.request.close_thinking is (budget == 0)


def test_sampling_and_token_caps():
    assert to_request(body(), MODEL, BUDGETS).request.sampling.greedy  # the model's default
    sampled = to_request(body(temperature=0.5, top_p=0.9), MODEL, BUDGETS).request.sampling
    assert (sampled.greedy, sampled.temperature, sampled.top_p) == (False, 0.5, 0.9)
    assert to_request(body(temperature=0), ServedModel("m", 10), BUDGETS).request.sampling.greedy
    assert to_request(body(max_tokens=5), MODEL, BUDGETS).request.max_new_tokens == 5
    assert to_request(body(max_completion_tokens=6, max_tokens=5), MODEL, BUDGETS).request.max_new_tokens == 6


@pytest.mark.parametrize("fields", [
    {"messages": []}, {"n": 3}, {"stop": ["a", "b", "c", "d", "e"]}, {"stop": [""]},
    {"reasoning_effort": "extreme"}, {"tools": [{"type": "function"}]}, {"max_tokens": 0},
    {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
    {"messages": [{"role": "tool", "content": "x"}]},
    {"messages": [{"role": "user", "content": "half a pair: \ud800"}]},
])
def test_unsupported_or_bad_bodies_are_400(fields):
    with pytest.raises(ApiError) as caught:
        to_request(body(**fields), MODEL, BUDGETS)
    assert caught.value.status == 400


def test_the_key_is_kept_only_by_a_secure_keyring():
    from keyrings.alt.file import PlaintextKeyring

    from engine.api.security import KeyringKeys, ServerConfigError
    from engine.history.keys import Keyring, backend_name

    class Memory:
        def __init__(self):
            self.items = {}

        def get_password(self, service, user):
            return self.items.get((service, user))

        def set_password(self, service, user, value):
            self.items[(service, user)] = value

    memory = Memory()
    keys = KeyringKeys(Keyring(provider=lambda: memory, allowed=frozenset({backend_name(memory)})))
    first = keys.get_or_create()
    assert first.startswith("pk-") and len(first) > 40 and keys.get_or_create() == first
    assert keys.replace() != first
    plaintext = PlaintextKeyring()
    with pytest.raises(ServerConfigError, match="No secure system keyring"):
        KeyringKeys(Keyring(provider=lambda: plaintext)).get_or_create()


def test_the_host_status_follows_the_host_and_refuses_a_remote_model():
    from types import SimpleNamespace

    from engine.api.model import HostStatus
    from engine.catalog.setup import ModelSetup
    from engine.errors import EngineFailureError
    from engine.host import Checking, LoadFailed, ModelWanted, Ready, Switching

    host = SimpleNamespace(state=Checking(1, ModelWanted("demo"), full=False))
    status = HostStatus(host)
    assert status().loading
    host.state = Switching(2, ModelWanted("demo"), ("api-0",))
    assert status().loading  # 503 until the change lands: the switch must not wait for new requests
    host.state = LoadFailed(2, ModelWanted("demo"), EngineFailureError("out of memory"))
    assert status().error and not status().loading
    host.state = Ready(3, ModelWanted("qwen"), SimpleNamespace(endpoint=object()), ModelSetup())
    assert status().model is None and "remote" in status().error
