"""A real local API server on the demo model, in-process on an ephemeral port.

The server runs on its own asyncio loop in a background thread (as it runs on the window's or the
CLI's loop), so tests can drive it with blocking clients: the official `openai` package and
plain http.client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace

import pytest

from engine.api.model import HostStatus
from engine.api.security import ServerConfig
from engine.host import ModelHost
from engine.service import InferenceService

#: A question the demo model answers in ~50 tokens, and its greedy answer.
QUESTION = "What is 37 plus 45?"
ANSWER = "The answer is 82."
THINKING = "ones: 7+5=12, write 2, carry 1. tens: 3+4+1=8, write 8. 37+45=82."
#: A prompt the demo model answers with digits until the context is full (~2,000 tokens, seconds).
ENDLESS = "What is 999999999999999999999999999999999999999999999999 plus 1?"


class LiveServer:
    """An ApiServer with its own loop thread; `call(coro)` runs a coroutine there."""

    def __init__(self, config: ServerConfig, *, load: bool = True) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="api-test-loop", daemon=True)
        self.thread.start()
        self.host = ModelHost(InferenceService())  # as `ponder serve` runs it
        self.status = HostStatus(self.host)
        self.config = config
        try:
            self.server = self.call(self._start())
        except BaseException:
            self._end()
            raise
        if load:
            self.load()

    def call(self, coro: Coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Callable[[], object]):
        async def wrapper():
            return fn()
        return self.call(wrapper())

    async def _start(self):
        from engine.api.server import ApiServer

        server = ApiServer(self.host.assistant, self.status, self.config)
        await server.start()
        return server

    def load(self) -> None:
        self.call(self.host.load("demo", "cpu"))

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.call(self.server.stop())
        self._end()

    def _end(self) -> None:
        self.run(self.host.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def start_server(**options) -> LiveServer:
    load = options.pop("load", True)
    return LiveServer(replace(ServerConfig(port=0), **options), load=load)


@pytest.fixture(scope="module")
def live() -> LiveServer:
    """One server with the demo model loaded, shared by a module's tests."""
    server = start_server()
    yield server
    server.close()


@pytest.fixture
def client(live):
    from openai import OpenAI

    with OpenAI(base_url=live.base_url, api_key="unused", max_retries=0, timeout=30) as c:
        yield c
