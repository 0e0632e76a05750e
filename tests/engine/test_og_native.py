"""Loading through onnxruntime-genai's C API (engine/og_native.py): the same model and tokenizer,
the same typed errors, and the model freed through it only when nothing else holds it. (That the
window keeps running meanwhile is measured in bench/load_responsiveness.py: a demo load is too
short to time here.)"""

from __future__ import annotations

import asyncio
import json

import pytest

from engine.errors import InvalidModelFolderError
from engine.model_folder import validate_model_folder
from engine.og_native import NativeOg
from engine.providers import CANDIDATES
from engine.runtime import import_og, load_model, smoke_test

CPU = next(c for c in CANDIDATES if c.og_name == "cpu")


@pytest.fixture
def native():
    found = NativeOg.find(import_og())
    assert found is not None, "the C API loader must work with the onnxruntime-genai this project pins"
    return found


def test_a_model_loaded_through_the_c_api_answers_like_one_loaded_by_og_model(native, demo_copy, monkeypatch):
    from engine.assistant import Assistant
    from engine.events import Finished
    from engine.request import Sampling, ask
    from engine.service import InferenceService, ModelChoice

    used = []
    for name in ("load_model", "load_tokenizer"):
        real = getattr(NativeOg, name)
        monkeypatch.setattr(NativeOg, name, lambda self, *a, real=real, name=name: used.append(name) or real(self, *a))
    service = InferenceService()
    try:
        async def turn():
            assistant = Assistant(service)
            await assistant.load(ModelChoice(spec=str(demo_copy)))
            async for batch in assistant.chat(ask("What is 2 plus 3?", sampling=Sampling(greedy=True))):
                for event in batch:
                    if isinstance(event, Finished):
                        return event.answer
        answer = asyncio.run(turn())
    finally:
        service.close()
    assert used == ["load_model", "load_tokenizer"] and answer == "The answer is 5."


def test_broken_folders_give_the_same_typed_errors(native, demo_copy):
    from engine.model_folder import ModelFolder

    # Past the folder validation (which would refuse these first): what the C API itself says.
    (demo_copy / "model.onnx").rename(demo_copy / "elsewhere.onnx")
    folder = ModelFolder(demo_copy, json.loads((demo_copy / "genai_config.json").read_text()), 2048)
    with pytest.raises(InvalidModelFolderError) as info:
        load_model(folder, CPU, native=native)
    assert info.value.file == "model.onnx"
    (demo_copy / "genai_config.json").write_text('{"model": {"bogus_key": 1}}')
    with pytest.raises(InvalidModelFolderError) as info:
        load_model(folder, CPU, native=native)
    assert info.value.file == "genai_config.json"


def test_a_model_is_freed_only_when_nothing_else_holds_it(native, demo_copy):
    og = import_og()
    loaded = load_model(validate_model_folder(demo_copy), CPU, native=native)
    smoke_test(og, loaded)
    kept = loaded.model
    assert native.free(kept) is False  # held elsewhere too: left to Python
    del kept
    assert loaded.close(native) is True and loaded.model is None and loaded.tokenizer is None


def test_it_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("PONDER_NATIVE_LOAD", "0")
    assert NativeOg.find(import_og()) is None


def test_a_folder_tokenizer_from_the_c_api_encodes_as_og_tokenizer_does(native, demo_copy):
    from engine.og_native import folder_tokenizer

    text = "What is 37 plus 45? <think>7 plus 5 is 12</think>"
    ours, theirs = folder_tokenizer(demo_copy), import_og().Tokenizer(str(demo_copy))
    assert list(ours.encode(text)) == list(theirs.encode(text))
    assert ours.decode(ours.encode(text)) == theirs.decode(theirs.encode(text))
    assert native.free(ours) is True
