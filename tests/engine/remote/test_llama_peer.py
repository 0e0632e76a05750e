"""Against a real third-party server on 127.0.0.1: llama.cpp's OpenAI-compatible server
(llama-cpp-python[server]) serving the demo model converted to GGUF with llama.cpp's converter.

Skipped unless the peer is built: `tools/remote_peer.sh` (compiles llama.cpp, ~6 minutes on 2
cores, and converts the model to build/remote-peer/demo-f32.gguf or $PONDER_PEER_GGUF).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from engine.budget import ThinkingBudget
from engine.errors import RemoteStreamCutError
from engine.events import AnswerDelta, Failed, FinishReason, ThinkingDelta
from engine.generation import TurnControl
from engine.remote.capabilities import BudgetMode, ServerKind
from engine.remote.endpoint import Endpoint
from engine.remote.service import RemoteChoice, RemoteService
from engine.request import Sampling, ask
from tests.engine.remote.conftest import Recorder, run_turn
from tests.engine.remote.peers import GGUF, LLAMA_PEER_MARKS, LlamaPeer

GREEDY = Sampling(greedy=True)
QUESTION = "What is 37 plus 45?"

pytestmark = LLAMA_PEER_MARKS


@pytest.fixture(scope="module")
def peer():
    server = LlamaPeer(GGUF)
    yield server
    server.stop()


@pytest.fixture
def remote(peer):
    service = RemoteService(frame_s=0)
    loaded = service.load(RemoteChoice(Endpoint(peer.url, "demo"))).result(timeout=30)
    yield service, loaded
    service.close()


def test_chat_with_thinking_shown_live(remote):
    service, loaded = remote
    assert loaded.capabilities.server is ServerKind.LLAMA_CPP_PYTHON
    finished, events = run_turn(service, ask(QUESTION, sampling=GREEDY), timeout=60)
    assert finished.reason is FinishReason.STOP
    assert "7+5=12" in finished.thinking and "<think>" not in finished.thinking
    assert finished.answer == "The answer is 82."
    deltas = [e for e in events.events if isinstance(e, (ThinkingDelta, AnswerDelta))]
    first_answer = next(i for i, e in enumerate(deltas) if isinstance(e, AnswerDelta))
    assert first_answer > 1 and all(isinstance(e, ThinkingDelta) for e in deltas[:first_answer])
    stats = finished.stats  # this server sends no usage: the counts are of streamed tokens
    assert stats.thinking_tokens > 5 and stats.answer_tokens > 0
    assert stats.time_to_first_token_s > 0 and stats.decode_tokens_per_s > 0


def test_budget_is_the_servers_and_the_turn_is_not_cut(remote):
    """llama-cpp-python's server offers no thinking budget and cannot resume a message: Ponder
    says so (a typed flag the window shows) and lets the turn run, instead of pretending."""
    service, loaded = remote
    caps = loaded.capabilities
    assert caps.budget is BudgetMode.SERVERS_OWN and not caps.answer_now
    assert "budget is the server's" in caps.note()
    finished, _ = run_turn(service, ask(QUESTION, sampling=GREEDY, budget=ThinkingBudget(3)), timeout=60)
    assert finished.reason is FinishReason.STOP and not finished.thinking_forced
    assert finished.answer == "The answer is 82."


def test_cancel_ends_the_turn_and_the_server_serves_the_next(remote):
    service, _ = remote
    control, recorder = TurnControl(), Recorder()

    def emit(event):
        recorder(event)
        if isinstance(event, ThinkingDelta):
            control.cancel.set()
    started = time.monotonic()
    finished = service.generate(ask(QUESTION, sampling=GREEDY), control, emit).result(timeout=30)
    assert finished.reason is FinishReason.CANCELLED and finished.answer == ""
    assert time.monotonic() - started < 5
    again, _ = run_turn(service, ask(QUESTION, sampling=GREEDY), timeout=60)
    assert again.answer == "The answer is 82."


def test_server_killed_mid_stream_keeps_what_arrived():
    peer = LlamaPeer(GGUF)
    service = RemoteService(frame_s=0)
    try:
        service.load(RemoteChoice(Endpoint(peer.url, "demo"))).result(timeout=30)
        killed = threading.Event()

        def emit(event):
            recorder(event)
            if isinstance(event, ThinkingDelta) and not killed.is_set():
                os.kill(peer.process.pid, signal.SIGSTOP)  # freeze it mid-answer, then kill it
                os.kill(peer.process.pid, signal.SIGKILL)
                killed.set()
        recorder = Recorder()
        result = service.generate(ask(QUESTION, sampling=GREEDY), TurnControl(), emit).result(timeout=30)
        assert killed.is_set()
        if result is not None:
            pytest.skip("the demo model finished its answer before the kill landed")
        final = recorder.final
        assert isinstance(final, Failed) and isinstance(final.error, RemoteStreamCutError)
        shown = "".join(e.text for e in recorder.of(ThinkingDelta))
        assert shown and final.error.thinking == shown
        assert "cut mid-answer" in final.error.user_message()
    finally:
        service.close()
        peer.stop()


def test_a_summary_on_a_connection_plans_with_its_context_setting(peer, tmp_path):
    """llama-cpp-python reports no context and no token usage: the summary plans with the
    connection's --context-length (the server's --n_ctx 2048) and counts a token a byte (the
    estimate alone under-counts the demo model's small vocabulary ~2.5x and overflowed the server)."""
    from tests.engine.remote.test_remote_consumers import ponder

    report = tmp_path / "report.md"
    report.write_text("".join(f"# Part {n}\n" + f"Item {n} of the plan is on schedule and within budget. " * 14
                              + "\n\n" for n in range(1, 9)))
    home = tmp_path / "home"
    added = ponder("connections", "add", "cpu-box", "--url", peer.url, "--model", "demo", "--context-length", "2048",
                   home=home)
    assert added.returncode == 0, added.stderr
    listed = ponder("connections", "list", "--json", home=home)
    assert json.loads(listed.stdout)[0]["context_length"] == 2048
    result = ponder("summarize", str(report), "--json", "--endpoint", "cpu-box", home=home)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["type"] == "done" and done["points"] and done["stats"]["map_steps"] >= 3 and not done["partial"]
