"""Remote-engine fixtures: the fake OpenAI server and a RemoteService connected to it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.events import Event, Failed, Finished
from engine.generation import TurnControl
from engine.remote.endpoint import Endpoint
from engine.remote.service import RemoteChoice, RemoteService
from tests.engine.remote.fake_openai import FakeOpenAI

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Recorder:
    """An emit callback that keeps every event (called from the service's loop thread)."""

    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type) -> list:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]

    @property
    def final(self) -> Event:
        return self.events[-1]


def run_turn(service: RemoteService, request, control: TurnControl | None = None,
             timeout: float = 10) -> tuple[Finished | None, Recorder]:
    """Run one turn to its end; (result, recorded events)."""
    recorder = Recorder()
    result = service.generate(request, control or TurnControl(), recorder).result(timeout=timeout)
    assert isinstance(recorder.final, (Finished, Failed))
    return result, recorder


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def service():
    svc = RemoteService(frame_s=0)
    yield svc
    svc.close()


@pytest.fixture
def connected(fake, service):
    """A service connected to the fake server's model 'demo'."""
    service.load(RemoteChoice(Endpoint(fake.url, "demo"))).result(timeout=10)
    return service
