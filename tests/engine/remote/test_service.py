"""RemoteService's turns: cancel closes the stream on the server side, budgets and Answer now
use what the server offers, and the request carries the conversation without old thinking."""

from __future__ import annotations

import time

import pytest

from engine.budget import ThinkingBudget
from engine.events import Failed, Finished, FinishReason, ThinkingDelta
from engine.generation import TurnControl
from engine.remote.capabilities import BudgetMode, ServerKind
from engine.remote.endpoint import Endpoint
from engine.remote.service import RemoteChoice
from engine.request import ChatRequest, Message, Role, ask
from tests.engine.remote.conftest import Recorder, run_turn
from tests.engine.remote.fake_openai import Script, chunk

DONE = [chunk(content="The answer is 82."), chunk(finish="stop")]


def _load(service, fake, owner: str):
    fake.state.models = [{"id": "demo", "object": "model", "owned_by": owner}]
    return service.load(RemoteChoice(Endpoint(fake.url, "demo"))).result(timeout=10)


def test_load_reports_the_model_server_and_where(fake, service):
    result = _load(service, fake, "vllm")
    assert result.capabilities.server is ServerKind.VLLM
    assert result.served == ("demo",) and result.where == f"remote: {fake.url.split('/')[2]}"
    assert "demo on vllm" in result.summary


def test_cancel_closes_the_stream_on_the_server_within_a_second(fake, connected):
    fake.state.script = Script(chunks=[chunk(reasoning="thinking")], endless=chunk(reasoning=" more"),
                               delay_s=0.05)
    control, recorder = TurnControl(), Recorder()
    future = connected.generate(ask("hi"), control, recorder)
    deadline = time.monotonic() + 10
    while not recorder.of(ThinkingDelta) and time.monotonic() < deadline:
        time.sleep(0.01)
    control.cancel.set()
    cancelled_at = time.monotonic()
    finished = future.result(timeout=5)
    assert finished.reason is FinishReason.CANCELLED and finished.thinking.startswith("thinking")
    assert fake.state.hung_up.wait(timeout=2), "the server never saw the client hang up"
    assert fake.state.hung_up_at - cancelled_at < 1.0


def test_cancel_while_the_server_is_silent_returns_at_once(fake, connected):
    fake.state.script = Script(chunks=[chunk(reasoning="a"), chunk(reasoning="b")], delay_s=30)
    control, recorder = TurnControl(), Recorder()
    future = connected.generate(ask("hi"), control, recorder)
    time.sleep(0.3)
    control.cancel.set()
    started = time.monotonic()
    assert future.result(timeout=5).reason is FinishReason.CANCELLED
    assert time.monotonic() - started < 1.0


def test_answer_now_on_vllm_resumes_with_the_thinking_closed(fake, service):
    _load(service, fake, "vllm")
    fake.state.script = Script(chunks=[chunk(reasoning="Let me think")], endless=chunk(reasoning=" more"),
                               delay_s=0.05)
    control, recorder = TurnControl(), Recorder()
    future = service.generate(ask("What is 37+45?"), control, recorder)
    while not recorder.of(ThinkingDelta):
        time.sleep(0.01)
    fake.state.script = Script(chunks=DONE)  # the resumed request gets the answer
    control.answer_now.set()
    finished = future.result(timeout=10)
    assert finished.reason is FinishReason.ANSWER_NOW and finished.thinking_forced
    assert finished.answer == "The answer is 82." and finished.thinking.startswith("Let me think")
    resumed = fake.state.bodies[-1]
    assert resumed["continue_final_message"] is True and resumed["add_generation_prompt"] is False
    last = resumed["messages"][-1]
    assert last["role"] == "assistant" and last["content"].startswith("<think>Let me think")
    assert "</think>" in last["content"]


def test_budget_on_vllm_is_counted_by_ponder_and_resumed(fake, service):
    _load(service, fake, "vllm")
    fake.state.script = Script(chunks=[chunk(reasoning=f"t{i} ") for i in range(50)] + DONE)
    request = ask("What is 37+45?", budget=ThinkingBudget(5))
    first_script = fake.state.script

    def swap_after_first_request(event):
        if len(fake.state.bodies) == 1 and fake.state.script is first_script:
            fake.state.script = Script(chunks=DONE)
    recorder = Recorder()
    finished = service.generate(request, TurnControl(), lambda e: (swap_after_first_request(e), recorder(e))).result(timeout=10)
    assert finished.reason is FinishReason.THINKING_BUDGET
    assert finished.thinking.split() == [f"t{i}" for i in range(5)]
    assert finished.answer == "The answer is 82."
    assert len(fake.state.bodies) == 2


@pytest.mark.parametrize("owner, fields", [
    ("llamacpp", {"thinking_budget_tokens": 64}),
    ("ponder", {"max_thinking_tokens": 64}),
])
def test_budget_goes_to_servers_that_enforce_it(fake, service, owner, fields):
    result = _load(service, fake, owner)
    assert result.capabilities.budget is BudgetMode.SERVER_FIELD
    fake.state.script = Script(chunks=[chunk(content="<think>x</think>"), *DONE])
    run_turn(service, ask("hi", budget=ThinkingBudget(64)))
    assert fields.items() <= fake.state.bodies[-1].items()


def test_unlimited_thinking_on_ponder_serve_overrides_its_default_effort(fake, service):
    _load(service, fake, "ponder")
    fake.state.script = Script(chunks=DONE)
    run_turn(service, ask("hi"))
    assert fake.state.bodies[-1]["reasoning_effort"] == "xhigh"
    assert "max_thinking_tokens" not in fake.state.bodies[-1]


def test_a_server_with_no_budget_says_so_and_is_not_cut(fake, service):
    result = _load(service, fake, "organization_owner")  # LM Studio, say
    caps = result.capabilities
    assert caps.budget is BudgetMode.SERVERS_OWN and not caps.answer_now
    assert "budget is the server's" in caps.note() and "Stop" in caps.note()
    fake.state.script = Script(chunks=[chunk(reasoning=f"t{i} ") for i in range(20)] + DONE)
    finished, _ = run_turn(service, ask("hi", budget=ThinkingBudget(5)))
    assert finished.reason is FinishReason.STOP and len(finished.thinking.split()) == 20
    assert len(fake.state.bodies) == 1 and "thinking_budget_tokens" not in fake.state.bodies[0]


def test_request_carries_history_without_old_thinking(fake, connected):
    fake.state.script = Script(chunks=DONE)
    request = ChatRequest(messages=(
        Message(Role.USER, "What is 2+2?"),
        Message(Role.ASSISTANT, "4", thinking="SECRET THOUGHTS"),
        Message(Role.USER, "And 37+45?"),
    ), system_prompt="Be brief.")
    finished, _ = run_turn(connected, request)
    assert isinstance(finished, Finished)
    body = fake.state.bodies[-1]
    assert body["model"] == "demo" and body["stream"] is True
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 37+45?"},
    ]
    assert "SECRET" not in str(body)


def test_concurrent_sessions_stream_at_once(fake, connected):
    fake.state.script = Script(chunks=[chunk(content="a"), chunk(content="b")] + DONE, delay_s=0.2)
    started = time.monotonic()
    futures = [connected.generate(ask("hi"), TurnControl(), Recorder(), session=f"s{i}") for i in range(3)]
    results = [f.result(timeout=10) for f in futures]
    assert all(r.reason is FinishReason.STOP for r in results)
    assert time.monotonic() - started < 1.5  # 3 × 0.8 s if they ran one after another


def test_answer_now_on_llama_server_continues_the_assistant_message(fake, service):
    """llama.cpp's llama-server continues a trailing assistant message by default (prefill)."""
    _load(service, fake, "llamacpp")
    fake.state.script = Script(chunks=[chunk(reasoning="Let me think")], endless=chunk(reasoning=" more"),
                               delay_s=0.05)
    control, recorder = TurnControl(), Recorder()
    future = service.generate(ask("What is 37+45?"), control, recorder)
    while not recorder.of(ThinkingDelta):
        time.sleep(0.01)
    fake.state.script = Script(chunks=DONE)
    control.answer_now.set()
    finished = future.result(timeout=10)
    assert finished.reason is FinishReason.ANSWER_NOW and finished.answer == "The answer is 82."
    resumed = fake.state.bodies[-1]
    assert resumed["messages"][-1]["role"] == "assistant" and "continue_final_message" not in resumed


def test_a_stopped_turn_resumes_its_thinking_on_vllm(fake, service):
    _load(service, fake, "vllm")
    fake.state.script = Script(chunks=DONE)
    request = ChatRequest(messages=(Message(Role.USER, "What is 37+45?"),), resume_thinking="ones: 12",
                          close_thinking=True)
    finished, _ = run_turn(service, request)
    assert finished.thinking == "ones: 12" and finished.answer == "The answer is 82."
    last = fake.state.bodies[-1]["messages"][-1]
    assert last == {"role": "assistant", "content": "<think>ones: 12</think>\n\n"}


def test_generate_after_close_fails_cleanly(fake):
    from engine.remote.service import RemoteService

    service = RemoteService()
    service.close()
    recorder = Recorder()
    assert service.generate(ask("hi"), TurnControl(), recorder).result(timeout=1) is None
    assert isinstance(recorder.final, Failed)
