"""One host, local and remote models: the spec decides the backend, leaving a kind frees it, and
the generation counter still makes the newest choice win across kinds."""

from __future__ import annotations

import asyncio
import threading

from engine.catalog.setup import ModelSetup
from engine.errors import ConnectionNotFoundError
from engine.generation import TurnControl
from engine.host import EngineBackend, LoadFailed, ModelHost, Ready
from engine.host.kinds import KindBackend, connection_of, remote_spec
from engine.request import ask
from tests.engine.host.test_host import FakeBackend, _until


class LocalFake(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.unloads = 0

    def unload(self):
        self.unloads += 1


class Remotes:
    """A factory of fake remote backends, one per connection chosen; `gate` holds a build."""

    def __init__(self) -> None:
        self.built: dict[str, list[FakeBackend]] = {}
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, name: str) -> FakeBackend:
        self.threads.append(threading.current_thread().name)
        self.gate.wait(5)
        if name == "missing":
            raise ConnectionNotFoundError(name)
        backend = FakeBackend()
        self.built.setdefault(name, []).append(backend)
        return backend


def _host(local, remotes) -> ModelHost:
    return ModelHost(KindBackend(local, remotes), setup=lambda spec, _paths: ModelSetup(),
                     full_check=lambda spec: False)


def test_remote_specs_name_a_connection():
    assert remote_spec("gpu-box") == "remote:gpu-box" and connection_of("remote:gpu-box") == "gpu-box"
    assert connection_of("demo") is None and connection_of("/models/remote:x") is None
    assert isinstance(KindBackend(FakeBackend(), Remotes()), EngineBackend)


def test_the_spec_decides_where_the_model_loads_and_turns_run():
    async def main():
        local, remotes = LocalFake(), Remotes()
        host = _host(local, remotes)
        host.switch("demo")
        await _until(lambda: local.loads)
        local.finish_load()
        await host.wait_ready()

        host.switch("remote:gpu-box")
        await _until(lambda: remotes.built.get("gpu-box") and remotes.built["gpu-box"][0].loads)
        remote = remotes.built["gpu-box"][0]
        remote.finish_load()
        ready = await host.wait_ready()
        assert ready.wanted.spec == "remote:gpu-box" and remotes.threads == ["ponder-remote-connect"]
        assert local.unloads == 1  # the local model's memory was given back
        host.backend.generate(ask("hi"), TurnControl(), lambda e: None, session="s")
        assert len(remote.turns) == 1 and local.turns == []

        host.switch("demo")
        await _until(lambda: len(local.loads) == 2)
        await _until(lambda: remote.closed)  # leaving the remote closes its connection
        local.finish_load()
        await host.wait_ready()
        host.backend.generate(ask("hi"), TurnControl(), lambda e: None, session="s")
        assert len(local.turns) == 1 and len(remote.turns) == 1
        host.close()
        assert local.closed

    asyncio.run(main())


def test_the_newest_choice_wins_across_kinds():
    async def main():
        local, remotes = LocalFake(), Remotes()
        remotes.gate.clear()  # the connection is slow to set up
        host = _host(local, remotes)
        first = host.switch("remote:gpu-box")
        await _until(lambda: remotes.threads)
        host.switch("demo")  # chosen while the remote one connects
        await asyncio.sleep(0.05)
        assert local.loads == []  # loads never overlap: the local one waits
        remotes.gate.set()
        await _until(lambda: remotes.built.get("gpu-box") and remotes.built["gpu-box"][0].loads)
        remotes.built["gpu-box"][0].finish_load()
        await _until(lambda: local.loads)
        local.finish_load()
        ready = await host.wait_ready()
        assert ready.wanted.spec == "demo" and isinstance(host.state, Ready)
        await _until(lambda: remotes.built["gpu-box"][0].closed)  # the superseded remote was let go
        assert first.done()
        host.close()

    asyncio.run(main())


def test_an_unknown_connection_fails_with_its_typed_error_and_close_frees_everything():
    async def main():
        local, remotes = LocalFake(), Remotes()
        host = _host(local, remotes)
        host.switch("remote:missing")
        await _until(lambda: isinstance(host.state, LoadFailed))
        assert isinstance(host.state.error, ConnectionNotFoundError)
        host.switch("remote:gpu-box")
        await _until(lambda: remotes.built.get("gpu-box"))
        host.close()
        assert remotes.built["gpu-box"][0].closed and local.closed

    asyncio.run(main())


def test_the_host_needs_no_files_for_a_remote_model(ponder_home):
    from engine.host.host import _full_check_pending, _setup_for_spec

    assert _setup_for_spec("remote:gpu-box", ponder_home) == ModelSetup()
    assert _full_check_pending("remote:gpu-box", ponder_home) is False
