"""ModelHost's life cycle: states in order, the newest request wins, a switch waits for running work."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from engine.catalog.setup import ModelSetup
from engine.errors import ModelNotFoundError
from engine.host import (
    Checking,
    Closed,
    EngineBackend,
    LoadFailed,
    Loading,
    LoadSupersededError,
    ModelHost,
    Ready,
    Switching,
)
from engine.model_folder import ModelFolder
from engine.prompt import ChatFormat
from engine.providers import CANDIDATES
from engine.request import ask
from engine.service import LoadResult


class FakeBackend:
    """An EngineBackend whose loads and turns finish when the test says so."""

    def __init__(self) -> None:
        self.loads: list = []  # (choice, future)
        self.turns: list = []  # (control, emit, future)
        self.closed = False

    def load(self, choice):
        future: Future = Future()
        self.loads.append((choice, future))
        return future

    def generate(self, request, control, emit, *, session):
        future: Future = Future()
        self.turns.append((control, emit, future))
        return future

    def forget(self, session):
        future: Future = Future()
        future.set_result(None)
        return future

    def close(self) -> None:
        self.closed = True

    def finish_load(self, index: int = -1) -> None:
        choice, future = self.loads[index]
        folder = ModelFolder(Path(choice.spec), {}, 2048)
        future.set_result(LoadResult(folder, CANDIDATES[-1], (), False, f"{choice.spec} on CPU"))

    def finish_turn(self, index: int = -1) -> None:
        _control, _emit, future = self.turns[index]
        future.set_result(None)


def _formats(spec: str, _paths) -> ModelSetup:
    return ModelSetup(chat_format=ChatFormat(system_prompt=f"system of {spec}"))


async def _until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


def test_the_fake_is_an_engine_backend():
    assert isinstance(FakeBackend(), EngineBackend)


def test_states_go_checking_loading_ready_with_the_catalog_setup():
    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: spec == "m")
        states = []
        host.subscribe(states.append)
        future = host.switch("m")
        await _until(lambda: backend.loads)
        backend.finish_load()
        ready = await future
        assert [type(s) for s in states] == [Checking, Loading, Ready]
        assert states[0].full is True
        assert backend.loads[0][0].chat_format.system_prompt == "system of m"  # applied to the load
        assert ready.setup.chat_format.system_prompt == "system of m" and host.ready is ready

    asyncio.run(main())


def test_a_superseded_load_never_wins_even_when_its_checks_finish_last():
    release_a = threading.Event()

    def slow_a(spec, paths):
        if spec == "a":
            release_a.wait(5)  # A's file checks take longer than all of B's load
        return _formats(spec, paths)

    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=slow_a, full_check=lambda spec: False)
        first = host.switch("a")
        second = host.switch("b")
        await _until(lambda: backend.loads)
        backend.finish_load()
        ready = await host.wait_ready()
        release_a.set()  # now A's checks end
        with pytest.raises(LoadSupersededError):
            await first
        await asyncio.sleep(0.05)
        assert [c.spec for c, _f in backend.loads] == ["b"]  # A never reached the backend
        assert ready.wanted.spec == "b" and (await second) is ready
        assert isinstance(host.state, Ready) and host.state.wanted.spec == "b"

    asyncio.run(main())


def test_a_request_made_while_an_older_one_loads_is_loaded_after_it_and_wins():
    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: False)
        states = []
        host.subscribe(states.append)
        host.switch("a")
        await _until(lambda: len(backend.loads) == 1)
        host.switch("b")
        await asyncio.sleep(0.05)
        assert len(backend.loads) == 1  # B waits for A's backend load: loads never overlap
        backend.finish_load(0)
        await _until(lambda: len(backend.loads) == 2)
        backend.finish_load(1)
        ready = await host.wait_ready()
        assert ready.wanted.spec == "b"
        assert not any(isinstance(s, Ready) and s.wanted.spec == "a" for s in states)

    asyncio.run(main())


def test_switching_while_a_turn_runs_takes_effect_when_the_turn_ends():
    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: False)
        host.switch("a")
        await _until(lambda: backend.loads)
        backend.finish_load()
        await host.wait_ready()
        turn = host.assistant.chat(ask("What is 2 plus 3?"), session="chat")
        host.switch("b")
        await asyncio.sleep(0.05)
        assert isinstance(host.state, Switching)
        assert host.state.wanted.spec == "b" and host.state.waiting_for == ("chat",)
        assert len(backend.loads) == 1 and host.ready.wanted.spec == "a"  # nothing changed under the turn
        backend.finish_turn()
        await turn.wait_idle()
        await _until(lambda: len(backend.loads) == 2)
        assert backend.loads[1][0].spec == "b"
        backend.finish_load()
        assert (await host.wait_ready()).wanted.spec == "b"

    asyncio.run(main())


def test_a_hold_keeps_a_switch_waiting_until_released():
    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: False)
        with host.hold("summary"):
            host.switch("b")
            await asyncio.sleep(0.05)
            assert host.state.waiting_for == ("summary",) and not backend.loads
        await _until(lambda: backend.loads)
        assert isinstance(host.state, Loading)

    asyncio.run(main())


def test_a_failed_load_publishes_the_typed_error():
    def missing(spec, paths):
        raise ModelNotFoundError(spec)

    async def main():
        host = ModelHost(FakeBackend(), setup=missing, full_check=lambda spec: False)
        states = []
        host.subscribe(states.append)
        with pytest.raises(ModelNotFoundError):
            await host.load("nowhere")
        assert isinstance(states[-1], LoadFailed) and isinstance(states[-1].error, ModelNotFoundError)
        assert host.ready is None

    asyncio.run(main())


def test_close_cancels_running_turns_and_closes_the_backend():
    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: False)
        host.switch("a")
        await _until(lambda: backend.loads)
        backend.finish_load()
        await host.wait_ready()
        host.assistant.chat(ask("What is 2 plus 3?"))
        summary_stopped = []
        host.hold("summary", cancel=lambda: summary_stopped.append(True))
        host.close()
        control = backend.turns[0][0]
        assert control.cancel.is_set() and summary_stopped == [True]
        assert backend.closed and isinstance(host.state, Closed)

    asyncio.run(main())


def test_a_listener_that_raises_does_not_stop_the_load():
    async def main():
        backend = FakeBackend()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: False)
        host.subscribe(lambda state: 1 / 0)
        seen = []
        host.subscribe(seen.append)
        host.switch("a")
        await _until(lambda: backend.loads)
        backend.finish_load()
        await host.wait_ready()
        assert isinstance(seen[-1], Ready)

    asyncio.run(main())



def test_a_turn_the_backend_refuses_does_not_keep_a_switch_waiting():
    class Refusing(FakeBackend):
        def generate(self, request, control, emit, *, session):
            raise RuntimeError("cannot schedule new futures after shutdown")

    async def main():
        backend = Refusing()
        host = ModelHost(backend, setup=_formats, full_check=lambda spec: False)
        with pytest.raises(RuntimeError):
            host.assistant.chat(ask("What is 2 plus 3?"))
        assert host.busy == ()
        host.switch("b")
        await _until(lambda: backend.loads)

    asyncio.run(main())
