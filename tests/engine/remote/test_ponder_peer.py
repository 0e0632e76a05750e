"""The same scenarios against another Ponder: `ponder serve` on the demo model (the local API,
engine/commands/serve.py); no extra setup (the demo model ships with Ponder).
"""

from __future__ import annotations

import os
import signal

import pytest

from engine.budget import ThinkingBudget
from engine.errors import RemoteStreamCutError
from engine.events import Failed, FinishReason, ThinkingDelta
from engine.generation import TurnControl
from engine.remote.capabilities import BudgetMode, ServerKind
from engine.remote.endpoint import Endpoint
from engine.remote.service import RemoteChoice, RemoteService
from engine.request import Sampling, ask
from tests.engine.remote.conftest import Recorder, run_turn
from tests.engine.remote.peers import PonderPeer

GREEDY = Sampling(greedy=True)
QUESTION = "What is 37 plus 45?"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    server = PonderPeer(tmp_path_factory.mktemp("ponder-peer"))
    yield server
    server.stop()


@pytest.fixture
def remote(peer):
    service = RemoteService(frame_s=0)
    loaded = service.load(RemoteChoice(Endpoint(peer.url, peer.model))).result(timeout=30)
    yield service, loaded
    service.close()


def test_chat_with_thinking_shown_live(remote):
    service, loaded = remote
    assert loaded.capabilities.server is ServerKind.PONDER
    finished, events = run_turn(service, ask(QUESTION, sampling=GREEDY), timeout=60)
    assert finished.reason is FinishReason.STOP
    assert "7+5=12" in finished.thinking and finished.answer == "The answer is 82."
    assert events.of(ThinkingDelta), "the thinking did not arrive as it was made"


def test_budget_is_enforced_by_ponder_serve(remote):
    service, loaded = remote
    assert loaded.capabilities.budget is BudgetMode.SERVER_FIELD
    full, _ = run_turn(service, ask(QUESTION, sampling=GREEDY), timeout=60)
    cut, _ = run_turn(service, ask(QUESTION, sampling=GREEDY, budget=ThinkingBudget(3)), timeout=60)
    assert len(cut.thinking) < len(full.thinking)


def test_cancel_ends_the_turn_and_the_server_serves_the_next(remote):
    service, _ = remote
    control = TurnControl()

    def emit(event):
        if isinstance(event, ThinkingDelta):
            control.cancel.set()
    finished = service.generate(ask(QUESTION, sampling=GREEDY), control, emit).result(timeout=30)
    assert finished.reason is FinishReason.CANCELLED and finished.answer == ""
    again, _ = run_turn(service, ask(QUESTION, sampling=GREEDY), timeout=60)
    assert again.answer == "The answer is 82."


def test_server_killed_mid_stream_keeps_what_arrived(tmp_path):
    peer = PonderPeer(tmp_path / "home")
    service = RemoteService(frame_s=0)
    try:
        service.load(RemoteChoice(Endpoint(peer.url, peer.model))).result(timeout=30)
        recorder = Recorder()

        def emit(event):
            recorder(event)
            if isinstance(event, ThinkingDelta) and peer.process.poll() is None:
                os.kill(peer.process.pid, signal.SIGSTOP)
                os.kill(peer.process.pid, signal.SIGKILL)
        result = service.generate(ask(QUESTION, sampling=GREEDY), TurnControl(), emit).result(timeout=30)
        if result is not None:
            pytest.skip("the demo model finished its answer before the kill landed")
        final = recorder.final
        assert isinstance(final, Failed) and isinstance(final.error, RemoteStreamCutError)
        assert final.error.thinking
    finally:
        service.close()
        peer.stop()
