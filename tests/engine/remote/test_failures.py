"""Failures a user can meet on a remote server, each a typed error with a next step, none a hang:
server down, wrong key, model not served, rate limit, silence, a stream cut mid-answer."""

from __future__ import annotations

import time

import pytest

from engine.errors import (
    RemoteAuthError,
    RemoteModelNotServedError,
    RemoteRateLimitedError,
    RemoteServerError,
    RemoteStreamCutError,
    RemoteTimeoutError,
    RemoteUnreachableError,
)
from engine.events import AnswerDelta, Failed, ThinkingDelta
from engine.remote.endpoint import Endpoint
from engine.remote.service import RemoteChoice
from engine.request import ask
from tests.engine.remote.peers import free_port
from tests.engine.remote.fake_openai import Script, chunk
from tests.engine.remote.conftest import run_turn


def test_server_down_is_reported_at_once(service):
    started = time.monotonic()
    future = service.load(RemoteChoice(Endpoint(f"http://127.0.0.1:{free_port()}/v1", "demo")))
    with pytest.raises(RemoteUnreachableError) as info:
        future.result(timeout=10)
    assert time.monotonic() - started < 3
    assert "Check that it is running" in info.value.user_message()


def test_wrong_key_is_a_401_with_a_next_step(fake, service):
    fake.state.api_key = "right"
    with pytest.raises(RemoteAuthError) as info:
        service.load(RemoteChoice(Endpoint(fake.url, "demo", api_key="wrong"))).result(timeout=10)
    assert info.value.status == 401 and "refused the API key" in info.value.user_message()
    service.load(RemoteChoice(Endpoint(fake.url, "demo", api_key="right"))).result(timeout=10)


def test_model_not_served_names_what_is(fake, service):
    with pytest.raises(RemoteModelNotServedError) as info:
        service.load(RemoteChoice(Endpoint(fake.url, "phi-4"))).result(timeout=10)
    assert info.value.served == ("demo",) and "It serves: demo" in info.value.user_message()


def test_rate_limit_says_when_to_retry(fake, connected):
    fake.state.script = Script(status=429, headers={"Retry-After": "7"})
    result, events = run_turn(connected, ask("hi"))
    assert result is None
    error = events.final.error
    assert isinstance(error, RemoteRateLimitedError) and error.retry_after_s == 7
    assert "Try again in 7 s" in error.user_message()


def test_server_error_carries_the_servers_message(fake, connected):
    fake.state.script = Script(status=500, body="CUDA out of memory")
    _, events = run_turn(connected, ask("hi"))
    assert isinstance(events.final.error, RemoteServerError)
    assert "CUDA out of memory" in events.final.error.user_message()


def test_silent_server_times_out(fake, service):
    fake.state.script = Script(chunks=[chunk(content="a")], delay_s=3)
    fake.state.script.chunks.append(chunk(content="b"))
    service.load(RemoteChoice(Endpoint(fake.url, "demo", read_timeout_s=0.5))).result(timeout=10)
    started = time.monotonic()
    _, events = run_turn(service, ask("hi"))
    assert time.monotonic() - started < 3
    assert isinstance(events.final, Failed) and isinstance(events.final.error, RemoteTimeoutError)


def test_killed_mid_stream_keeps_what_arrived(fake, connected):
    fake.state.script = Script(chunks=[chunk(reasoning="thinking "), chunk(reasoning="more"),
                                       chunk(content="The answer"), chunk(content=" is 8"),
                                       chunk(content="2.", finish="stop")], kill_after=4)
    result, events = run_turn(connected, ask("What is 37+45?"))
    assert result is None
    error = events.final.error
    assert isinstance(error, RemoteStreamCutError)
    assert (error.thinking, error.answer) == ("thinking more", "The answer is 8")
    # What arrived was shown live before the failure, and the message says it is kept.
    assert "".join(e.text for e in events.of(AnswerDelta)) == "The answer is 8"
    assert "".join(e.text for e in events.of(ThinkingDelta)) == "thinking more"
    assert "cut mid-answer" in error.user_message() and "kept" in error.user_message()


def test_stream_that_ends_without_finishing_is_cut(fake, connected):
    fake.state.script = Script(chunks=[chunk(content="half an ans")], done=False)
    _, events = run_turn(connected, ask("hi"))
    assert isinstance(events.final.error, RemoteStreamCutError)
    assert events.final.error.answer == "half an ans"


def test_garbage_instead_of_chunks_is_a_server_error(fake, connected):
    fake.state.script = Script(raw_sse="data: {not json\n\n")
    _, events = run_turn(connected, ask("hi"))
    assert isinstance(events.final.error, RemoteServerError)


def test_generate_before_load_fails_cleanly(service):
    result, events = run_turn(service, ask("hi"))
    assert result is None and isinstance(events.final, Failed)
