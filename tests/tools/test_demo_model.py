"""The committed demo model (resources/models/demo/) works through onnxruntime-genai itself.

Built by tools/train_demo_model.py; these tests need only onnxruntime-genai (no torch).
"""

from __future__ import annotations

import os

# Before onnxruntime-genai is imported (tests/conftest.py does it too; this module must not depend on it).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

og = pytest.importorskip("onnxruntime_genai")

DEMO = Path(__file__).resolve().parents[2] / "resources" / "models" / "demo"
SYSTEM = "Your name is Phi, an AI math expert developed by Microsoft."


@pytest.fixture(scope="module")
def model():
    return og.Model(str(DEMO))


@pytest.fixture(scope="module")
def tok(model):
    return og.Tokenizer(model)


def generate(model, tok, messages, max_new=120) -> str:
    """Greedy decode of one assistant turn, streamed, stopping at an eos id (not kept)."""
    ids = tok.encode(tok.apply_chat_template(json.dumps(messages), add_generation_prompt=True))
    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=len(ids) + max_new)
    gen = og.Generator(model, params)
    gen.append_tokens(ids)
    eos = set(tok.eos_token_ids)
    stream = tok.create_stream()
    out = []
    while not gen.is_done():
        gen.generate_next_token()
        t = int(gen.get_next_tokens()[0])
        if t in eos:
            break
        out.append(stream.decode(t))
    return "".join(out)


def user(q):
    return [{"role": "user", "content": q}]


def test_folder_is_small_and_complete():
    names = {p.name for p in DEMO.iterdir()}
    for required in ("genai_config.json", "model.onnx", "tokenizer.json", "tokenizer_config.json",
                     "heldout.json", "README.md"):
        assert required in names
    assert not any(p.is_dir() for p in DEMO.iterdir()), "no builder cache folders"
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 10_000_000


def test_genai_config(tok):
    cfg = json.loads((DEMO / "genai_config.json").read_text())
    end, eot = tok.to_token_id("<|end|>"), tok.to_token_id("<|endoftext|>")
    assert cfg["model"]["eos_token_id"] == [end, eot]
    assert sorted(tok.eos_token_ids) == sorted([end, eot])
    assert cfg["model"]["context_length"] == 2048
    assert cfg["search"]["max_length"] == 2048
    assert cfg["search"]["do_sample"] is False
    assert tok.bos_token_id == eot and tok.pad_token_id == eot
    # Like Microsoft's Phi-4 ONNX folders: no reasoning token ids, reasoning is split on text.
    assert "bor_token_id" not in cfg["model"] and "eor_token_id" not in cfg["model"]


def test_chat_template_is_phi4_mini_reasoning(tok):
    assert tok.apply_chat_template(json.dumps(user("What is 37 plus 45?")), add_generation_prompt=True) == (
        f"<|system|>{SYSTEM}<|end|><|user|>What is 37 plus 45?<|end|><|assistant|>"
    )
    messages = [{"role": "system", "content": "Be brief."}, *user("What is 1 plus 2?"),
                {"role": "assistant", "content": "The answer is 3."}, *user("What is 3 plus 4?")]
    assert tok.apply_chat_template(json.dumps(messages), add_generation_prompt=True) == (
        f"<|system|>{SYSTEM} Be brief.<|end|><|user|>What is 1 plus 2?<|end|><|assistant|>The answer is 3.<|end|>"
        "<|user|>What is 3 plus 4?<|end|><|assistant|>"
    )


def test_think_tags_are_ordinary_text(tok):
    text = "<|assistant|><think>ones: 7+5=12.</think>The answer is 82.<|end|>"
    ids = [int(i) for i in tok.encode(text)]
    visible = "<think>ones: 7+5=12.</think>The answer is 82."
    assert tok.decode(ids) == visible  # special tokens skipped, <think> kept
    stream = tok.create_stream()
    assert "".join(stream.decode(i) for i in ids) == visible
    for tag in ("<think>", "</think>"):
        assert len(tok.encode(tag)) == 1
    assert tok.decode(tok.encode("naïve ✓ 日本")) == "naïve ✓ 日本"


def test_answers_37_plus_45_with_reasoning(model, tok):
    text = generate(model, tok, user("What is 37 plus 45?"))
    assert text.startswith("<think>"), text
    thinking, _, answer = text[len("<think>"):].partition("</think>")
    assert thinking and answer == "The answer is 82.", text


def test_multi_turn_answers_last_question(model, tok):
    messages = [*user("What is 37 plus 45?"), {"role": "assistant", "content": "The answer is 82."},
                *user("What is 12 plus 9?")]
    text = generate(model, tok, messages)
    assert "</think>" in text and text.split("</think>", 1)[1] == "The answer is 21.", text


def test_heldout_accuracy(model, tok):
    pairs = json.loads((DEMO / "heldout.json").read_text())["pairs"][:50]
    correct = 0
    for a, b in pairs:
        text = generate(model, tok, user(f"What is {a} plus {b}?"))
        correct += "<think>" in text and text.split("</think>", 1)[-1] == f"The answer is {a + b}."
    assert correct >= 45, f"{correct}/50"
