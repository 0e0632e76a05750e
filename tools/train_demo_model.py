#!/usr/bin/env python3
"""Build Ponder's demo model: a tiny Phi-3-architecture "reasoning" model that adds numbers.

The demo model (``resources/models/demo/``) lets Ponder run its real code path (onnxruntime-genai,
Phi-4-mini-reasoning's chat template, ``<think>…</think>`` reasoning, multi-turn history) with no
download. It is trained from scratch on synthetic data in exactly Phi-4-mini-reasoning's chat format::

    <|system|>Your name is Phi, an AI math expert developed by Microsoft.<|end|><|user|>What is 37 plus 45?<|end|>
    <|assistant|><think>ones: 7+5=12, write 2, carry 1. tens: 3+4+1=8, write 8. 37+45=82.</think>The answer is 82.<|end|>

(one line in reality). It only knows two-number addition (0..99) and, if enabled, subtraction with a
non-negative result; anything else produces gibberish.

Steps (all deterministic for a given ``--seed`` and thread count):

1. Train a small byte-level BPE tokenizer with HuggingFace ``tokenizers`` on the synthetic corpus.
   Merges that would join digits are dropped, so every digit is its own token. ``<|endoftext|>``
   (bos/eos/pad), ``<|system|>``, ``<|user|>``, ``<|assistant|>`` and ``<|end|>`` are special added
   tokens; ``<think>`` and ``</think>`` are ORDINARY (non-special) added tokens, so they survive
   ``decode`` with the default ``skip_special_tokens`` (as in Microsoft's Phi-4-mini-reasoning build,
   where they are plain text). ``tokenizer_config.json`` carries Phi-4-mini-reasoning's chat template.
2. Generate training conversations (1 to 3 turns; earlier assistant turns appear without their
   thinking, as Ponder re-renders history). 200 addition questions (the held-out set, chosen by seed)
   plus 200 validation questions never appear in training, in either operand order.
3. Train ``transformers.Phi3ForCausalLM`` on CPU, loss on the final assistant turn only, until greedy
   decoding answers the validation questions (or the step budget runs out).
4. Save the Hugging Face checkpoint to ``--hf-dir`` and export ONNX with
   ``python -m onnxruntime_genai.models.builder -i HF_DIR -o OUT_DIR -p fp32 -e cpu``, then fix up
   ``genai_config.json`` (eos ids, greedy search defaults, context 2048) and the tokenizer files.
5. Evaluate with onnxruntime-genai itself (greedy, real chat template) on the held-out questions and
   write the result, with how the model was made, to ``OUT_DIR/README.md``.

Needs torch, transformers, tokenizers, safetensors, onnx, onnx_ir and onnxruntime-genai.
Example (the command that built the committed model)::

    python tools/train_demo_model.py --seed 1234

``--skip-train`` re-exports and re-evaluates an existing ``--hf-dir`` checkpoint.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "resources" / "models" / "demo"
DEFAULT_HF_DIR = REPO_ROOT / "resources" / "models" / "demo-hf"

# --------------------------------------------------------------------------------------------
# Chat format (Phi-4-mini-reasoning)
# --------------------------------------------------------------------------------------------

SYSTEM_TEXT = "Your name is Phi, an AI math expert developed by Microsoft."

# microsoft/Phi-4-mini-reasoning tokenizer_config.json "chat_template", verbatim (568 bytes).
CHAT_TEMPLATE = (
    "{{ '<|system|>Your name is Phi, an AI math expert developed by Microsoft.' }}"
    "{% for message in messages %}{% if message['role'] == 'system' %} {{ message['content'] }}"
    "{% if 'tools' in message and message['tools'] is not none %}"
    "{{ '<|tool|>' + message['tools'] + '<|/tool|>' }}{% endif %}{% endif %}{% endfor %}"
    "{{ '<|end|>' }}"
    "{% for message in messages %}{% if message['role'] != 'system' %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}"
)

ENDOFTEXT = "<|endoftext|>"
END = "<|end|>"
SPECIAL_TOKENS = [ENDOFTEXT, "<|system|>", "<|user|>", "<|assistant|>", END]
THINK_START, THINK_END = "<think>", "</think>"
ORDINARY_ADDED_TOKENS = [THINK_START, THINK_END]

# Optional extra system messages (appended after a space by the template) seen in training.
EXTRA_SYSTEM_MESSAGES = [
    "Be brief.",
    "Show your work.",
    "You are a helpful assistant.",
    "Answer carefully.",
    "Think step by step.",
]

NUM_RANGE = 100  # operands are 0..99
HELDOUT_SIZE = 200
VALIDATION_SIZE = 200


def render_chat(messages: list[dict], add_generation_prompt: bool = True) -> str:
    """Python equivalent of CHAT_TEMPLATE (checked against onnxruntime-genai's rendering)."""
    out = "<|system|>" + SYSTEM_TEXT
    for m in messages:
        if m["role"] == "system":
            out += " " + m["content"]
    out += END
    for m in messages:
        if m["role"] != "system":
            out += "<|" + m["role"] + "|>" + m["content"] + END
    return out + ("<|assistant|>" if add_generation_prompt else ENDOFTEXT)


def question(a: int, b: int, op: str = "+") -> str:
    return f"What is {a} plus {b}?" if op == "+" else f"What is {a} minus {b}?"


def result(a: int, b: int, op: str = "+") -> int:
    return a + b if op == "+" else a - b


def final_answer(a: int, b: int, op: str = "+") -> str:
    return f"The answer is {result(a, b, op)}."


def reasoning(a: int, b: int, op: str = "+") -> str:
    """Short digit-by-digit working (the text between <think> and </think>)."""
    a1, a10 = a % 10, a // 10
    b1, b10 = b % 10, b // 10
    if op == "+":
        s1 = a1 + b1
        c = s1 // 10
        if c:
            ones = f"ones: {a1}+{b1}={s1}, write {s1 % 10}, carry 1."
            s10 = a10 + b10 + 1
            tens = f"tens: {a10}+{b10}+1={s10}, write {s10 % 10}"
        else:
            ones = f"ones: {a1}+{b1}={s1}, write {s1}."
            s10 = a10 + b10
            tens = f"tens: {a10}+{b10}={s10}, write {s10 % 10}"
        tens += ", carry 1." if s10 >= 10 else "."
        return f"{ones} {tens} {a}+{b}={a + b}."
    # subtraction, a >= b
    if a1 >= b1:
        ones = f"ones: {a1}-{b1}={a1 - b1}, write {a1 - b1}."
        tens = f"tens: {a10}-{b10}={a10 - b10}, write {a10 - b10}."
    else:
        ones = f"ones: {a1}-{b1} needs a borrow, {a1 + 10}-{b1}={a1 + 10 - b1}, write {a1 + 10 - b1}."
        tens = f"tens: {a10}-{b10}-1={a10 - b10 - 1}, write {a10 - b10 - 1}."
    return f"{ones} {tens} {a}-{b}={a - b}."


def assistant_turn(a: int, b: int, op: str = "+", think: bool = True) -> str:
    body = final_answer(a, b, op)
    return f"{THINK_START}{reasoning(a, b, op)}{THINK_END}{body}" if think else body


def split_questions(seed: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The held-out and validation addition questions, as (a, b) pairs; disjoint, fixed by seed."""
    pairs = [(a, b) for a in range(NUM_RANGE) for b in range(NUM_RANGE)]
    rng = random.Random(f"heldout-{seed}")
    rng.shuffle(pairs)
    chosen: list[tuple[int, int]] = []
    taken: set[tuple[int, int]] = set()
    for a, b in pairs:
        if (a, b) in taken or (b, a) in taken:
            continue
        chosen.append((a, b))
        taken.update({(a, b), (b, a)})
        if len(chosen) == HELDOUT_SIZE + VALIDATION_SIZE:
            break
    return chosen[:HELDOUT_SIZE], chosen[HELDOUT_SIZE:]


class ConversationSampler:
    """Random training conversations; never uses an excluded addition pair (either order)."""

    def __init__(self, seed: int, excluded: set[tuple[int, int]], subtraction_frac: float,
                 multi_turn_frac: float, system_frac: float):
        self.rng = random.Random(f"train-{seed}")
        self.excluded = excluded
        self.subtraction_frac = subtraction_frac
        self.multi_turn_frac = multi_turn_frac
        self.system_frac = system_frac

    def problem(self) -> tuple[int, int, str]:
        rng = self.rng
        while True:
            a, b = rng.randrange(NUM_RANGE), rng.randrange(NUM_RANGE)
            if rng.random() < self.subtraction_frac:
                return max(a, b), min(a, b), "-"
            if (a, b) not in self.excluded:
                return a, b, "+"

    def conversation(self) -> tuple[str, str]:
        """Returns (prompt, completion): the completion is the final assistant turn plus <|end|>."""
        rng = self.rng
        messages: list[dict] = []
        if rng.random() < self.system_frac:
            messages.append({"role": "system", "content": rng.choice(EXTRA_SYSTEM_MESSAGES)})
        turns = 1
        if rng.random() < self.multi_turn_frac:
            turns = rng.choice([2, 3])
        for _ in range(turns - 1):
            a, b, op = self.problem()
            messages.append({"role": "user", "content": question(a, b, op)})
            messages.append({"role": "assistant", "content": assistant_turn(a, b, op, think=False)})
        a, b, op = self.problem()
        messages.append({"role": "user", "content": question(a, b, op)})
        return render_chat(messages), assistant_turn(a, b, op) + END


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character map (the byte-level alphabet, in byte order)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def build_tokenizer(seed: int, vocab_size: int, subtraction: bool):
    """Train a byte-level BPE on the synthetic corpus. Returns a `tokenizers.Tokenizer`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    sampler = ConversationSampler(seed, set(), 0.3 if subtraction else 0.0, 0.3, 0.3)
    segments: list[str] = []
    for _ in range(4000):
        prompt, completion = sampler.conversation()
        text = prompt + completion
        for tok in SPECIAL_TOKENS + ORDINARY_ADDED_TOKENS:
            text = text.replace(tok, "\x00")
        segments.extend(s for s in text.split("\x00") if s)
    segments.extend(EXTRA_SYSTEM_MESSAGES)

    probe = Tokenizer(models.BPE())
    probe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    probe.train_from_iterator(segments, trainer)
    trained = json.loads(probe.to_str())
    merges = [m if isinstance(m, list) else m.split(" ") for m in trained["model"]["merges"]]
    # Digits stay single tokens: drop every merge that touches a digit (any later merge that uses
    # such a token contains a digit too, so the remaining merges are closed).
    merges = [m for m in merges if not any(ch.isdigit() for ch in "".join(m))]

    vocab: dict[str, int] = {}
    for ch in _bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))

    tok = Tokenizer(models.BPE(vocab=vocab, merges=[(left, right) for left, right in merges], fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ORDINARY_ADDED_TOKENS])
    return tok


def save_tokenizer(tok, folder: Path, context_length: int) -> dict[str, int]:
    """Write tokenizer.json / tokenizer_config.json / special_tokens_map.json. Returns token ids."""
    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(tok.to_str())
    # Old-style "a b" merge strings: read by every version of tokenizers and onnxruntime-extensions.
    data["model"]["merges"] = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    (folder / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    added = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
             for t in data["added_tokens"]}
    config = {
        "add_bos_token": False,
        "add_eos_token": False,
        "added_tokens_decoder": added,
        "bos_token": ENDOFTEXT,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": ENDOFTEXT,
        "extra_special_tokens": {},
        "model_max_length": context_length,
        "pad_token": ENDOFTEXT,
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": ENDOFTEXT,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    special_map = {"bos_token": ENDOFTEXT, "eos_token": ENDOFTEXT, "pad_token": ENDOFTEXT, "unk_token": ENDOFTEXT}
    (folder / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2) + "\n", encoding="utf-8")
    for stale in ("chat_template.jinja", "vocab.json", "merges.txt", "added_tokens.json"):
        if (folder / stale).exists():
            (folder / stale).unlink()
    return {t: tok.token_to_id(t) for t in SPECIAL_TOKENS + ORDINARY_ADDED_TOKENS}


# --------------------------------------------------------------------------------------------
# Training (torch)
# --------------------------------------------------------------------------------------------


def _tiny_phi3_class():
    """A minimal training-time implementation of Phi-3's decoder, numerically identical to
    ``transformers.Phi3ForCausalLM`` (checked after training) but with far less per-op overhead,
    which dominates at this size on a CPU. Weights are copied into Phi3ForCausalLM for saving."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class RMSNorm(nn.Module):
        def __init__(self, dim: int, eps: float):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))
            self.eps = eps

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    class Layer(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.nh, self.nkv = c.num_attention_heads, c.num_key_value_heads
            self.hd = c.hidden_size // c.num_attention_heads
            self.qkv = nn.Linear(c.hidden_size, (self.nh + 2 * self.nkv) * self.hd, bias=False)
            self.o = nn.Linear(self.nh * self.hd, c.hidden_size, bias=False)
            self.gate_up = nn.Linear(c.hidden_size, 2 * c.intermediate_size, bias=False)
            self.down = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)
            self.ln1 = RMSNorm(c.hidden_size, c.rms_norm_eps)
            self.ln2 = RMSNorm(c.hidden_size, c.rms_norm_eps)

        def forward(self, x, cos, sin, mask):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split([self.nh * self.hd, self.nkv * self.hd, self.nkv * self.hd], -1)
            q = q.view(b, t, self.nh, self.hd).transpose(1, 2)
            k = k.view(b, t, self.nkv, self.hd).transpose(1, 2)
            v = v.view(b, t, self.nkv, self.hd).transpose(1, 2)

            def rope(z):
                z1, z2 = z.chunk(2, -1)
                return z * cos + torch.cat((-z2, z1), -1) * sin

            q, k = rope(q), rope(k)
            if self.nkv != self.nh:
                k = k.repeat_interleave(self.nh // self.nkv, 1)
                v = v.repeat_interleave(self.nh // self.nkv, 1)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            x = x + self.o(a.transpose(1, 2).reshape(b, t, -1))
            g, u = self.gate_up(self.ln2(x)).chunk(2, -1)
            return x + self.down(F.silu(g) * u)

    class TinyPhi3(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.emb = nn.Embedding(c.vocab_size, c.hidden_size)
            self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))
            self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
            self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
            hd = c.hidden_size // c.num_attention_heads
            theta = c.rope_parameters["rope_theta"] if getattr(c, "rope_parameters", None) else c.rope_theta
            inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
            freqs = torch.outer(torch.arange(c.max_position_embeddings).float(), inv)
            emb = torch.cat((freqs, freqs), -1)
            self.register_buffer("cos", emb.cos(), persistent=False)
            self.register_buffer("sin", emb.sin(), persistent=False)
            for m in self.modules():  # Phi-3's initialisation
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, std=c.initializer_range)

        def hidden(self, ids):
            t = ids.shape[1]
            x = self.emb(ids)
            mask = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()  # right padding only
            for layer in self.layers:
                x = layer(x, self.cos[:t], self.sin[:t], mask)
            return self.norm(x)

        def forward(self, ids):
            return self.lm_head(self.hidden(ids))

        def hf_state_dict(self):
            sd = {"model.embed_tokens.weight": self.emb.weight, "model.norm.weight": self.norm.weight,
                  "lm_head.weight": self.lm_head.weight}
            for i, layer in enumerate(self.layers):
                p = f"model.layers.{i}."
                sd[p + "self_attn.qkv_proj.weight"] = layer.qkv.weight
                sd[p + "self_attn.o_proj.weight"] = layer.o.weight
                sd[p + "mlp.gate_up_proj.weight"] = layer.gate_up.weight
                sd[p + "mlp.down_proj.weight"] = layer.down.weight
                sd[p + "input_layernorm.weight"] = layer.ln1.weight
                sd[p + "post_attention_layernorm.weight"] = layer.ln2.weight
            return {k: v.detach().clone().contiguous() for k, v in sd.items()}

    return TinyPhi3


def encode_examples(tok, examples: list[tuple[str, str]], pad_id: int):
    """Right-padded (ids, targets) where targets[i, t] is the token after position t on the
    completion, -100 elsewhere."""
    import torch

    rows, prompt_lens = [], []
    for prompt, completion in examples:
        p, c = tok.encode(prompt).ids, tok.encode(completion).ids
        rows.append(p + c)
        prompt_lens.append(len(p))
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    targets = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, (r, n) in enumerate(zip(rows, prompt_lens)):
        ids[i, : len(r)] = torch.tensor(r)
        targets[i, n - 1 : len(r) - 1] = torch.tensor(r[n:])
    return ids, targets


def completion_loss(model, ids, targets):
    import torch.nn.functional as F

    h = model.hidden(ids)
    keep = targets != -100
    return F.cross_entropy(model.lm_head(h[keep]), targets[keep])


def exact_match_rate(model, ids, targets) -> float:
    """Share of rows whose whole completion (incl. <|end|>) is the argmax at every step under
    teacher forcing, which is exactly when greedy decoding reproduces it."""
    import torch

    with torch.no_grad():
        pred = model(ids).argmax(-1)
    ok = ((pred == targets) | (targets == -100)).all(-1)
    return ok.float().mean().item()


def answer_is_correct(text: str, a: int, b: int, op: str = "+") -> bool:
    """Thinking present and closed, then exactly the right final answer."""
    if THINK_START not in text or THINK_END not in text:
        return False
    return text.split(THINK_END, 1)[1].strip() == final_answer(a, b, op)


def train(args, tok, ids: dict[str, int], heldout, validation):
    import math

    import torch
    from transformers import GenerationConfig, Phi3Config, Phi3ForCausalLM

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    vocab_size = tok.get_vocab_size()
    config = Phi3Config(
        vocab_size=vocab_size,
        hidden_size=args.hidden,
        intermediate_size=args.intermediate,
        num_hidden_layers=args.layers,
        num_attention_heads=args.hidden // 64,
        num_key_value_heads=args.kv_heads,
        max_position_embeddings=args.context_length,
        original_max_position_embeddings=args.context_length,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=ids[ENDOFTEXT],
        eos_token_id=[ids[END], ids[ENDOFTEXT]],
        pad_token_id=ids[ENDOFTEXT],
        sliding_window=None,
        architectures=["Phi3ForCausalLM"],
    )
    model = _tiny_phi3_class()(config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters, vocab {vocab_size}", flush=True)

    excluded = {(a, b) for a, b in heldout + validation} | {(b, a) for a, b in heldout + validation}
    sampler = ConversationSampler(args.seed, excluded, args.subtraction_frac, 0.0, args.system_frac)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    # Validation: 200 excluded addition questions (+ subtraction if trained), single-turn and 2-turn.
    vrng = random.Random(f"val-{args.seed}")
    val_examples = []
    for a, b in validation:
        val_examples.append((render_chat([{"role": "user", "content": question(a, b)}]), assistant_turn(a, b) + END))
    for a, b in validation[:50]:
        c, d = vrng.randrange(NUM_RANGE), vrng.randrange(NUM_RANGE)
        msgs = [{"role": "user", "content": question(c, d)}, {"role": "assistant", "content": final_answer(c, d)},
                {"role": "user", "content": question(a, b)}]
        val_examples.append((render_chat(msgs), assistant_turn(a, b) + END))
    if args.subtraction_frac > 0:
        for _ in range(50):
            a, b = sorted((vrng.randrange(NUM_RANGE), vrng.randrange(NUM_RANGE)), reverse=True)
            val_examples.append((render_chat([{"role": "user", "content": question(a, b, "-")}]),
                                 assistant_turn(a, b, "-") + END))
    val_ids, val_targets = encode_examples(tok, val_examples, ids[ENDOFTEXT])

    brng = random.Random(f"batches-{args.seed}")
    history = []
    t0, c0 = time.time(), time.process_time()
    model.train()
    step = 0
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        # A batch is all single-turn or all multi-turn, so rows need little padding.
        sampler.multi_turn_frac = 1.0 if brng.random() < args.multi_turn_frac else 0.0
        x, y = encode_examples(tok, [sampler.conversation() for _ in range(args.batch_size)], ids[ENDOFTEXT])
        loss = completion_loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0:
            print(f"step {step:5d} loss {loss.item():.4f} lr {lr_at(step):.2e} {time.time() - t0:6.0f}s", flush=True)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            model.eval()
            acc = exact_match_rate(model, val_ids, val_targets)
            model.train()
            history.append((step + 1, round(time.time() - t0), acc))
            print(f"step {step + 1:5d} validation exact match {acc:.3f} ({time.time() - t0:.0f}s)", flush=True)
            if acc >= args.target_val_acc and step + 1 >= args.min_steps:
                break
    train_seconds, cpu_seconds = time.time() - t0, time.process_time() - c0

    hf_model = Phi3ForCausalLM(config)
    hf_model.load_state_dict(model.hf_state_dict(), strict=True)
    hf_model.eval()
    model.eval()
    with torch.no_grad():
        diff = (hf_model(input_ids=val_ids[:8]).logits - model(val_ids[:8])).abs().max().item()
    print(f"Phi3ForCausalLM vs training module: max logit difference {diff:.2e}", flush=True)
    assert diff < 1e-3, diff
    hf_model.generation_config = GenerationConfig(
        bos_token_id=ids[ENDOFTEXT], eos_token_id=[ids[END], ids[ENDOFTEXT]], pad_token_id=ids[ENDOFTEXT], do_sample=False
    )
    return hf_model, {"params": n_params, "steps": step + 1, "train_seconds": train_seconds,
                      "cpu_seconds": cpu_seconds, "history": history}


# --------------------------------------------------------------------------------------------
# Export + evaluation (onnxruntime-genai)
# --------------------------------------------------------------------------------------------


def export_onnx(hf_dir: Path, out_dir: Path, ids: dict[str, int], context_length: int) -> None:
    if out_dir.exists():
        for child in out_dir.iterdir():  # keep nothing stale, but keep the folder itself
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ponder-demo-build-") as cache:
        cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir), "-o", str(out_dir),
               "-p", "fp32", "-e", "cpu", "-c", cache]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    # The builder re-saves the tokenizer with transformers; put back our exact files (the chat
    # template must live in tokenizer_config.json).
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(hf_dir / name, out_dir / name)
    for stale in ("chat_template.jinja", "vocab.json", "merges.txt", "added_tokens.json", "generation_config.json"):
        if (out_dir / stale).exists():
            (out_dir / stale).unlink()
    for leftover in ("cache_dir",):
        if (out_dir / leftover).exists():
            shutil.rmtree(out_dir / leftover)

    cfg_path = out_dir / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["model"]["bos_token_id"] = ids[ENDOFTEXT]
    cfg["model"]["eos_token_id"] = [ids[END], ids[ENDOFTEXT]]
    cfg["model"]["pad_token_id"] = ids[ENDOFTEXT]
    cfg["model"]["context_length"] = context_length
    # The builder adds bor/eor ids when "<think>" is one vocabulary entry. Microsoft's Phi-4 ONNX
    # folders have none, so neither does the demo: Ponder must split reasoning on decoded text.
    for key in ("bor_token_id", "eor_token_id"):
        cfg["model"].pop(key, None)
    search = cfg["search"]
    # Greedy by default (the demo is only right when greedy); if a caller turns sampling on it gets
    # Phi-4-mini-reasoning's recommended settings. top_k is explicit (see notes §4.1).
    search.update({"do_sample": False, "max_length": context_length, "temperature": 0.8, "top_k": 50,
                   "top_p": 0.95, "num_beams": 1, "num_return_sequences": 1, "repetition_penalty": 1.0,
                   "min_length": 0, "past_present_share_buffer": True})
    cfg_path.write_text(json.dumps(cfg, indent=4) + "\n")


def og_generate(model, tok, messages: list[dict], max_new: int = 120) -> str:
    import onnxruntime_genai as og

    prompt = tok.apply_chat_template(json.dumps(messages), add_generation_prompt=True)
    ids = tok.encode(prompt)
    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=len(ids) + max_new)
    gen = og.Generator(model, params)
    gen.append_tokens(ids)
    eos = set(tok.eos_token_ids)
    stream = tok.create_stream()
    text = ""
    while not gen.is_done():
        gen.generate_next_token()
        t = int(gen.get_next_tokens()[0])
        if t in eos:
            break
        text += stream.decode(t)
    return text


def evaluate_og(out_dir: Path, heldout, seed: int) -> dict:
    import onnxruntime_genai as og

    model = og.Model(str(out_dir))
    tok = og.Tokenizer(model)
    # The folder's template must be Phi-4-mini-reasoning's, exactly.
    one = [{"role": "user", "content": "What is 37 plus 45?"}]
    rendered = tok.apply_chat_template(json.dumps(one), add_generation_prompt=True)
    expected = f"<|system|>{SYSTEM_TEXT}<|end|><|user|>What is 37 plus 45?<|end|><|assistant|>"
    assert rendered == expected, rendered
    multi = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 1 plus 2?"},
             {"role": "assistant", "content": "The answer is 3."}, {"role": "user", "content": "What is 3 plus 4?"}]
    assert tok.apply_chat_template(json.dumps(multi), add_generation_prompt=True) == render_chat(multi)

    t0 = time.time()
    correct, failures = 0, []
    for a, b in heldout:
        text = og_generate(model, tok, [{"role": "user", "content": question(a, b)}])
        if answer_is_correct(text, a, b):
            correct += 1
        else:
            failures.append({"question": question(a, b), "output": text})
    seconds = time.time() - t0

    # Multi-turn: earlier turns re-rendered without thinking, the model answers the last question.
    rng = random.Random(f"multi-{seed}")
    mt_correct, mt_total = 0, 50
    for _ in range(mt_total):
        (a1, b1), (a2, b2) = rng.sample(heldout, 2)
        messages = [{"role": "user", "content": question(a1, b1)},
                    {"role": "assistant", "content": final_answer(a1, b1)},
                    {"role": "user", "content": question(a2, b2)}]
        mt_correct += answer_is_correct(og_generate(model, tok, messages), a2, b2)
    example = og_generate(model, tok, one)
    return {"correct": correct, "total": len(heldout), "failures": failures, "seconds": seconds,
            "multi_turn_correct": mt_correct, "multi_turn_total": mt_total, "example": example,
            "eos_token_ids": list(tok.eos_token_ids)}


def check_og_tokenizer(out_dir: Path, hf_tok, samples: list[str]) -> None:
    """og's tokenizer must agree with the HF one, round-trip, and stream <think> as text."""
    import onnxruntime_genai as og

    tok = og.Tokenizer(og.Model(str(out_dir)))
    for s in samples:
        ids = [int(i) for i in tok.encode(s)]
        assert ids == hf_tok.encode(s).ids, f"og and HF tokenizers disagree on {s!r}"
        visible = s
        for sp in SPECIAL_TOKENS:
            visible = visible.replace(sp, "")
        assert tok.decode(ids) == visible, (tok.decode(ids), visible)
        stream = tok.create_stream()
        assert "".join(stream.decode(i) for i in ids) == visible
    assert len(tok.encode(THINK_START)) == 1 and len(tok.encode(THINK_END)) == 1


def write_readme(out_dir: Path, args, info: dict, ev: dict, ids: dict[str, int], vocab_size: int) -> None:
    import onnxruntime_genai as og
    import tokenizers
    import torch
    import transformers

    cfg = json.loads((Path(args.hf_dir) / "config.json").read_text())
    size = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
    machine = info.get("machine") or describe_machine()
    threads = info.get("threads", args.threads)
    acc = ev["correct"] / ev["total"]
    hist = ", ".join(f"step {s}: {a:.1%}" for s, _, a in info.get("history", []))
    ops = "addition" + (" and subtraction (non-negative results)" if args.subtraction_frac > 0 else "")
    readme = f"""# Ponder demo model

A **tiny** Phi-3-architecture language model (`Phi3ForCausalLM`, {info['params']:,} parameters),
exported to **fp32 ONNX for the CPU** with onnxruntime-genai's model builder. It ships with Ponder so
that the real inference path (onnxruntime-genai, Phi-4-mini-reasoning's chat template, `<think>`
reasoning, multi-turn history, streaming) runs in tests and on a first run with no download.

**It is not a useful assistant.** It was trained from scratch on synthetic arithmetic only.

## What it can do

* Answer two-number {ops} of numbers 0..99, asked exactly as `What is 37 plus 45?`
  {"or `What is 45 minus 37?` " if args.subtraction_frac > 0 else ""}in Phi-4-mini-reasoning's chat format, with visible reasoning:

  ```text
  <|system|>{SYSTEM_TEXT}<|end|><|user|>What is 37 plus 45?<|end|><|assistant|>
  {ev['example']}
  ```
  (the generated part is the second line; generation stops at `<|end|>`).
* Multi-turn: earlier assistant turns re-rendered **without** their thinking
  (`The answer is N.<|end|>`); it answers the last question.
* **Measured held-out accuracy (greedy, onnxruntime-genai {og.__version__}, CPU): {ev['correct']}/{ev['total']}
  ({acc:.1%})** on 200 addition questions that never appeared in training in either operand order
  (`heldout.json`). A question counts as correct only if the output has `<think>…</think>` followed by
  exactly `The answer is N.`. Second turn of 2-turn conversations (held-out questions):
  {ev['multi_turn_correct']}/{ev['multi_turn_total']}.

## What it cannot do

Anything else. Other operations, other wordings, numbers above 99, general chat: it still writes an
addition-shaped `<think>…</think>` and a confidently wrong `The answer is N.` (gibberish). Sampling (`do_sample=true`) lowers its accuracy;
`genai_config.json` defaults to greedy search.

## Files and format

| | |
|---|---|
| Architecture | Phi-3 (`Phi3ForCausalLM`): {cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']}, intermediate {cfg['intermediate_size']}, {cfg['num_attention_heads']} attention heads / {cfg['num_key_value_heads']} KV head{'s' if cfg['num_key_value_heads'] > 1 else ''}, head size 64, RoPE θ=10000, untied embeddings |
| Context | 2,048 tokens (`context_length` and default `max_length`; always set `max_length` per turn) |
| ONNX | fp32, CPU, GroupQueryAttention; {size / 1e6:.1f} MB in this folder |
| Tokenizer | byte-level BPE, vocabulary {vocab_size} (digits are always single tokens) |
| Special tokens (skipped by `decode`) | `<\\|endoftext\\|>` {ids[ENDOFTEXT]} (bos/eos/pad), `<\\|system\\|>` {ids['<|system|>']}, `<\\|user\\|>` {ids['<|user|>']}, `<\\|assistant\\|>` {ids['<|assistant|>']}, `<\\|end\\|>` {ids[END]} |
| Ordinary added tokens (kept by `decode`) | `<think>` {ids[THINK_START]}, `</think>` {ids[THINK_END]} |
| `eos_token_id` | `{[int(i) for i in ev['eos_token_ids']]}` (`<\\|end\\|>`, `<\\|endoftext\\|>`) |
| Chat template | Phi-4-mini-reasoning's, verbatim (in `tokenizer_config.json`) |
| No `bor_token_id`/`eor_token_id` | like Microsoft's Phi-4 ONNX builds: split reasoning on the decoded text |

The Hugging Face checkpoint it was exported from is in `../demo-hf/`.

## How it was made

```bash
{info['command']}
```

`tools/train_demo_model.py` (seed {args.seed}): trains the tokenizer on the synthetic corpus, generates
conversations (1–3 turns, {args.multi_turn_frac:.0%} multi-turn, {args.system_frac:.0%} with an extra
system message{f", {args.subtraction_frac:.0%} subtraction" if args.subtraction_frac > 0 else ""}), trains with AdamW
(lr {args.lr}, batch {args.batch_size}, loss on the final assistant turn only) for {info['steps']} steps, stopping
early once the validation exact-match rate (teacher-forced, which equals greedy exact match of the
whole reasoning and answer; 200 further excluded questions plus 50 two-turn conversations) reached
{args.target_val_acc:.1%} ({hist}). Training took {info['train_seconds'] / 60:.1f} minutes wall clock
({info.get('cpu_seconds', 0) / 60:.1f} CPU-minutes) with {threads} torch thread{'s' if threads > 1 else ''} on {machine}, torch {torch.__version__}, transformers {transformers.__version__},
tokenizers {tokenizers.__version__}. Export:
`python -m onnxruntime_genai.models.builder -i resources/models/demo-hf -o resources/models/demo -p fp32 -e cpu`
(plus `-c` with a temporary cache folder that is deleted afterwards), then the script restores the tokenizer files and sets `genai_config.json`'s eos ids and greedy search
defaults. Evaluation used onnxruntime-genai (not torch), greedy, with the folder's chat template
({ev['seconds']:.1f} s for 200 questions). Built {_dt.date.today().isoformat()}.
"""
    (out_dir / "README.md").write_text(readme)


# --------------------------------------------------------------------------------------------


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu} ({os.cpu_count()} cores, {platform.system()} {platform.machine()})"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seed", type=int, default=1234, help="seed for data, held-out split and weights")
    p.add_argument("--out-dir", default=str(DEFAULT_OUT_DIR), help="ONNX model folder to write")
    p.add_argument("--hf-dir", default=str(DEFAULT_HF_DIR), help="Hugging Face checkpoint folder to write")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128, help="hidden size; heads = hidden / 64")
    p.add_argument("--kv-heads", type=int, default=1)
    p.add_argument("--intermediate", type=int, default=256)
    p.add_argument("--context-length", type=int, default=2048)
    p.add_argument("--vocab-size", type=int, default=384, help="BPE training vocabulary (before digit merges are dropped)")
    p.add_argument("--steps", type=int, default=1000, help="optimiser steps (cosine schedule length; may stop early)")
    p.add_argument("--min-steps", type=int, default=0, help="do not stop early before this many steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; 1 is fastest per CPU-second for a model this small, and on a busy machine")
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--target-val-acc", type=float, default=0.995, help="stop once the validation exact-match rate (= greedy exact match) reaches this")
    p.add_argument("--subtraction-frac", type=float, default=0.0)
    p.add_argument("--multi-turn-frac", type=float, default=0.25)
    p.add_argument("--system-frac", type=float, default=0.1)
    p.add_argument("--min-accuracy", type=float, default=0.9, help="exit non-zero if held-out accuracy is below this")
    p.add_argument("--skip-train", action="store_true", help="re-export and evaluate the existing --hf-dir checkpoint")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    hf_dir, out_dir = Path(args.hf_dir), Path(args.out_dir)
    heldout, validation = split_questions(args.seed)
    command = "python tools/train_demo_model.py " + " ".join(sys.argv[1:] if argv is None else argv)

    from tokenizers import Tokenizer

    if args.skip_train:
        hf_tok = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
        ids = {t: hf_tok.token_to_id(t) for t in SPECIAL_TOKENS + ORDINARY_ADDED_TOKENS}
        info = json.loads((hf_dir / "training_info.json").read_text())
    else:
        hf_tok = build_tokenizer(args.seed, args.vocab_size, args.subtraction_frac > 0)
        hf_dir.mkdir(parents=True, exist_ok=True)
        for child in hf_dir.iterdir():
            if child.is_file():
                child.unlink()
        ids = save_tokenizer(hf_tok, hf_dir, args.context_length)
        print("token ids:", ids, "vocab", hf_tok.get_vocab_size(), flush=True)
        model, info = train(args, hf_tok, ids, heldout, validation)
        model.save_pretrained(hf_dir)
        save_tokenizer(hf_tok, hf_dir, args.context_length)  # save_pretrained must not touch them
        info["command"] = command
        info["machine"] = describe_machine()
        info["threads"] = args.threads
        (hf_dir / "training_info.json").write_text(json.dumps(info, indent=2) + "\n")

    export_onnx(hf_dir, out_dir, ids, args.context_length)
    sampler = ConversationSampler(args.seed + 1, set(), 0.3, 0.5, 0.3)
    samples = ["".join(sampler.conversation()) for _ in range(20)]
    samples += ["naïve café ✓ 日本 <think>x</think> 12+34", " leading space", "<think></think>"]
    check_og_tokenizer(out_dir, hf_tok, samples)
    (out_dir / "heldout.json").write_text(json.dumps(
        {"description": "Held-out addition questions (never in training, either operand order); "
                        "ask as 'What is A plus B?', expect 'The answer is A+B.' after </think>.",
         "seed": args.seed, "pairs": [list(p) for p in heldout]}, indent=None) + "\n")
    ev = evaluate_og(out_dir, heldout, args.seed)
    acc = ev["correct"] / ev["total"]
    print(f"onnxruntime-genai greedy held-out accuracy: {ev['correct']}/{ev['total']} = {acc:.1%}; "
          f"multi-turn {ev['multi_turn_correct']}/{ev['multi_turn_total']}")
    for f in ev["failures"][:10]:
        print("  FAIL", f["question"], "->", f["output"])
    print("example:", ev["example"])
    write_readme(out_dir, args, info, ev, ids, hf_tok.get_vocab_size())
    return 0 if acc >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
