"""Closing the inference service: a load under way (which onnxruntime-genai cannot stop) is not
waited for; the thread frees what it loaded and ends by itself."""

from __future__ import annotations

import threading
import time

import pytest

from engine.errors import EngineFailureError
from engine.runtime import load_model
from engine.service import InferenceService, ModelChoice


def _inference_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("ponder-inference") and t.is_alive()}


def _until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_closing_during_a_load_returns_without_waiting_for_it(demo_copy):
    release = threading.Event()

    def slow_load(folder, candidate):
        release.wait(30)  # stands in for a large model's load inside onnxruntime-genai
        return load_model(folder, candidate)

    before = _inference_threads()
    service = InferenceService(loader=slow_load)
    future = service.load(ModelChoice(spec=str(demo_copy), provider="cpu"))
    _until(lambda: service.loading)
    service.close()
    assert not future.done()  # close() came back while the load ran
    threads = _inference_threads() - before
    assert threads  # still loading
    release.set()
    with pytest.raises(EngineFailureError):  # loaded after close: freed, not kept
        future.result(timeout=30)
    _until(lambda: not any(t.is_alive() for t in threads))


def test_closing_when_idle_waits_for_the_thread(demo_copy):
    before = _inference_threads()
    service = InferenceService()
    service.load(ModelChoice(spec=str(demo_copy))).result(timeout=60)
    mine = _inference_threads() - before
    service.close()
    assert mine and not service.loading
    assert not any(t.is_alive() for t in mine)
