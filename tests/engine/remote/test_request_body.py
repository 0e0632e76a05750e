"""The chat-completion body each kind of server gets: the thinking budget with the user's closing
line (none when it is off), and no thinking where a request asks for none and the server allows it."""

from __future__ import annotations

import pytest

from engine.budget import ThinkingBudget
from engine.remote.capabilities import ServerKind, capabilities_for, skips_thinking
from engine.remote.turn import request_body
from engine.request import ask

LINE = "\n\nEnough thinking; answering.\n"  # as app/chat/controller.py sets it apart


def _body(kind: ServerKind, **options: object) -> dict:
    return request_body(ask("What is 2 plus 3?", **options), capabilities_for(kind))


def test_llama_server_gets_the_users_closing_line_with_the_budget():
    body = _body(ServerKind.LLAMA_CPP, budget=ThinkingBudget(64), budget_message=LINE)
    assert body["thinking_budget_tokens"] == 64 and body["thinking_budget_message"] == LINE


def test_with_the_closing_line_off_llama_server_gets_none():
    body = _body(ServerKind.LLAMA_CPP, budget=ThinkingBudget(64))
    assert body["thinking_budget_tokens"] == 64 and "thinking_budget_message" not in body


def test_another_ponder_gets_the_users_closing_line_in_its_own_field():
    body = _body(ServerKind.PONDER, budget=ThinkingBudget(64), budget_message=LINE)
    assert body["max_thinking_tokens"] == 64 and body["reasoning_budget_message"] == LINE
    assert "reasoning_budget_message" not in _body(ServerKind.PONDER, budget=ThinkingBudget(64))


@pytest.mark.parametrize("kind", [ServerKind.VLLM, ServerKind.LLAMA_CPP_PYTHON, ServerKind.OLLAMA,
                                  ServerKind.OPENAI])
def test_servers_that_take_no_closing_line_get_none(kind):
    body = _body(kind, budget=ThinkingBudget(64), budget_message=LINE)
    assert LINE not in body.values() and not any("budget" in key for key in body)


def test_a_request_without_thinking_gets_a_zero_budget_from_another_ponder():
    body = _body(ServerKind.PONDER, resume_thinking="", close_thinking=True)
    assert body["max_thinking_tokens"] == 0 and "reasoning_effort" not in body
    assert _body(ServerKind.PONDER)["reasoning_effort"] == "xhigh"  # no budget named: its own "medium" is not used


@pytest.mark.parametrize(("kind", "skips"), [(ServerKind.LLAMA_CPP, True), (ServerKind.VLLM, True),
                                             (ServerKind.PONDER, True), (ServerKind.LLAMA_CPP_PYTHON, False),
                                             (ServerKind.OLLAMA, False), (ServerKind.OPENAI, False)])
def test_which_servers_can_skip_the_thinking(kind, skips):
    assert skips_thinking(capabilities_for(kind)) is skips
