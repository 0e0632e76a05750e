"""Build a Phi-4-mini-shaped ONNX model with random weights, for benchmarks only.

The model has Phi-4-mini's width and vocabulary (hidden 3072, intermediate 8192, 24 heads,
8 KV heads, head_dim 128, vocabulary 200,064, LongRoPE with partial_rotary_factor 0.75) and
is quantised like Microsoft's CPU builds (`-p int4 -e cpu`, accuracy_level=4, block_size=32).
Its output is gibberish: it exists to time prefill and decode.

prune_lm_head=true is off by default: with it, og.Engine (which Ponder's engine uses) fails
every turn with ENGINE_EXECUTION_FAILURE on onnxruntime-genai 0.18.0, while the Generator API
works (checked on this shape and on a tiny Phi-3). --prune-lm-head builds it anyway.

onnxruntime-genai's builder needs ~10 GB of RAM at 2 layers and ~29 GB at Phi-4-mini's 32,
so the model is built shallow (--build-layers, default 2) and then deepened to --layers by
cloning the last decoder layer in the ONNX graph. The clones share the original layer's
weights on disk (onnxruntime may still prepack a copy per node in RAM: the 32-layer model ran
in 1.6 GB), and every clone runs and reads its ~50 MB of int4 weights per step (more than the
L3 cache), so a step costs what a real layer costs.

Usage (writes under bench/models/, which git ignores; never commit a model):

    python tools/build_bench_model.py --layers 32 --tokenizer resources/models/demo
    python tools/build_bench_model.py --layers 8     # reuses the 2-layer base: seconds

The first run builds the base (bench/models/phi4-mini-shape-L2, a few minutes, ~10 GB of RAM);
each depth is then a folder whose model.onnx.data is a hard link to the base's.

Needs the `tools` extra (torch, transformers, onnx).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOKENIZER = ROOT / "resources" / "models" / "demo"
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.json", "merges.txt", "chat_template.jinja",
)
#: Phi-4-mini's end-of-turn id: far outside a small tokenizer's range, so random weights
#: practically never end a benchmark turn early.
EOS_TOKEN_ID = 200020
BOS_TOKEN_ID = 199999
#: head_dim 128 x partial_rotary_factor 0.75 = 96 rotary dimensions = 48 frequencies.
ROPE_FREQUENCIES = 48


def phi4_mini_config(layers: int) -> dict:
    """Phi-4-mini-instruct's config.json (same as -reasoning) at a chosen depth.

    The LongRoPE factors are synthetic but shaped like the real ones (short ≈ 1, long rising
    to ~50); their values do not change the cost of a step.
    """
    short = [round(1.0 + 0.002 * i, 6) for i in range(ROPE_FREQUENCIES)]
    long = [round(1.0 * (50.0 ** (i / (ROPE_FREQUENCIES - 1))), 6) for i in range(ROPE_FREQUENCIES)]
    return {
        "architectures": ["Phi3ForCausalLM"],
        "model_type": "phi3",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": BOS_TOKEN_ID,
        "eos_token_id": EOS_TOKEN_ID,
        "pad_token_id": BOS_TOKEN_ID,
        "embd_pdrop": 0.0,
        "resid_pdrop": 0.0,
        "full_attn_mod": 1,
        "hidden_act": "silu",
        "hidden_size": 3072,
        "initializer_range": 0.02,
        "intermediate_size": 8192,
        "interpolate_factor": 1,
        "lm_head_bias": False,
        "max_position_embeddings": 131072,
        "original_max_position_embeddings": 4096,
        "mlp_bias": False,
        "num_attention_heads": 24,
        "num_hidden_layers": layers,
        "num_key_value_heads": 8,
        "partial_rotary_factor": 0.75,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"long_factor": long, "short_factor": short, "type": "longrope"},
        "rope_theta": 10000.0,
        "sliding_window": 262144,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": 200064,
    }


def write_hf_checkpoint(hf_dir: Path, layers: int, tokenizer_dir: Path, seed: int) -> None:
    """A Hugging Face folder with random bf16 weights and a borrowed small tokenizer."""
    import torch
    from transformers import AutoConfig, Phi3ForCausalLM

    hf_dir.mkdir(parents=True, exist_ok=True)
    (hf_dir / "config.json").write_text(json.dumps(phi4_mini_config(layers), indent=2))
    copied = [name for name in TOKENIZER_FILES if (tokenizer_dir / name).is_file()]
    if "tokenizer.json" not in copied:
        raise SystemExit(f"{tokenizer_dir} has no tokenizer.json: pass --tokenizer DIR")
    for name in copied:
        shutil.copy2(tokenizer_dir / name, hf_dir / name)
    config = AutoConfig.from_pretrained(hf_dir)
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.bfloat16)  # halves the RAM and the file; int4 follows anyway
    try:
        model = Phi3ForCausalLM(config)
    finally:
        torch.set_default_dtype(torch.float32)
    model.save_pretrained(hf_dir)
    # save_pretrained rewrites config.json in its own format; keep ours, which the builder reads.
    (hf_dir / "config.json").write_text(json.dumps(phi4_mini_config(layers), indent=2))
    del model
    gc.collect()


def run_builder(hf_dir: Path, out_dir: Path, cache_dir: Path, *, prune_lm_head: bool) -> None:
    """onnxruntime-genai's builder, as Microsoft builds its CPU int4 models."""
    command = [
        sys.executable, "-m", "onnxruntime_genai.models.builder",
        "-i", str(hf_dir), "-o", str(out_dir), "-p", "int4", "-e", "cpu", "-c", str(cache_dir),
        "--extra_options", "accuracy_level=4", "block_size=32",
    ]
    if prune_lm_head:
        command.append("prune_lm_head=true")
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def deepen(out_dir: Path, built: int, target: int) -> None:
    """Clone the last decoder layer until the graph has `target` layers (weights shared)."""
    import onnx

    path = out_dir / "model.onnx"
    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    last, final = built - 1, built  # the builder names the final norm as layer `built`
    prefix = lambda i: f"/model/layers.{i}/"  # noqa: E731 - the builder's naming scheme
    layer_nodes = [n for n in graph.node if n.name.startswith(prefix(last))]
    final_nodes = [n for n in graph.node if n.name.startswith(prefix(final))]
    if not layer_nodes or not final_nodes or last < 1:
        raise SystemExit("unexpected graph layout: build at least 2 layers with the stock builder")
    for node in layer_nodes:
        for out in node.output:
            if out and not (out.startswith(prefix(last)) or out.startswith(f"present.{last}.")):
                raise SystemExit(f"unexpected output {out!r} of {node.name}: cannot clone layers")

    def renamed(name: str, new: int, prev: int) -> str:
        if name.startswith(prefix(last)):
            return prefix(new) + name[len(prefix(last)):]
        if name.startswith(prefix(last - 1)):
            return prefix(prev) + name[len(prefix(last - 1)):]
        for kind in ("past_key_values", "present"):
            for part in ("key", "value"):
                if name == f"{kind}.{last}.{part}":
                    return f"{kind}.{new}.{part}"
        return name  # weights, caches and masks are shared by every layer

    # The final norm moves to the end: it reads the deepest layer's outputs.
    for node in final_nodes:
        node.name = prefix(target) + node.name[len(prefix(final)):]
        node.input[:] = [prefix(target - 1) + i[len(prefix(last)):] if i.startswith(prefix(last)) else i
                         for i in node.input]
        node.output[:] = [prefix(target) + o[len(prefix(final)):] if o.startswith(prefix(final)) else o
                          for o in node.output]
    for node in graph.node:
        if node not in final_nodes:
            node.input[:] = [prefix(target) + i[len(prefix(final)):] if i.startswith(prefix(final)) else i
                             for i in node.input]
    clones = []
    for new in range(built, target):
        for node in layer_nodes:
            clone = copy.deepcopy(node)
            clone.name = renamed(node.name, new, new - 1)
            clone.input[:] = [renamed(i, new, new - 1) for i in node.input]
            clone.output[:] = [renamed(o, new, new - 1) for o in node.output]
            clones.append(clone)
    at = min(i for i, n in enumerate(graph.node) if n.name.startswith(prefix(target)))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes[:at] + clones + nodes[at:])
    _add_kv_io(graph.input, "past_key_values", last, built, target)
    _add_kv_io(graph.output, "present", last, built, target)
    onnx.save(model, str(path))  # the weights stay in model.onnx.data, referenced as before

    config_path = out_dir / "genai_config.json"
    config = json.loads(config_path.read_text())
    config["model"]["decoder"]["num_hidden_layers"] = target
    config_path.write_text(json.dumps(config, indent=4))


def _add_kv_io(values, kind: str, last: int, built: int, target: int) -> None:
    templates = {v.name: v for v in values if v.name.startswith(f"{kind}.{last}.")}
    after = max(i for i, v in enumerate(values) if v.name.startswith(f"{kind}.{last}."))
    extra = []
    for new in range(built, target):
        for part in ("key", "value"):
            value = copy.deepcopy(templates[f"{kind}.{last}.{part}"])
            value.name = f"{kind}.{new}.{part}"
            extra.append(value)
    items = list(values)
    del values[:]
    values.extend(items[: after + 1] + extra + items[after + 1 :])


def only_unreachable_eos(out_dir: Path) -> None:
    """Keep only EOS_TOKEN_ID as end of sequence.

    The builder also lists the borrowed tokenizer's own end token (a small id that random
    weights may well pick greedily), which would end a timed turn early.
    """
    path = out_dir / "genai_config.json"
    config = json.loads(path.read_text())
    config["model"]["eos_token_id"] = [EOS_TOKEN_ID]
    path.write_text(json.dumps(config, indent=4))


def derive(base: Path, out_dir: Path, built: int, target: int) -> None:
    """A deeper copy of the base model: small files copied, the weights file hard-linked."""
    out_dir.mkdir(parents=True)
    for item in base.iterdir():
        if item.name == "model.onnx.data":
            try:
                (out_dir / item.name).hardlink_to(item)
            except OSError:  # another file system: a plain copy
                shutil.copy2(item, out_dir / item.name)
        elif item.is_file():
            shutil.copy2(item, out_dir / item.name)
    deepen(out_dir, built, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=32, help="depth of the model (Phi-4-mini: 32)")
    parser.add_argument("--build-layers", type=int, default=2,
                        help="depth the builder builds before cloning (RAM: ~10 GB at 2)")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER,
                        help="folder with a small tokenizer.json to borrow (ids only index the embedding)")
    parser.add_argument("--models", type=Path, default=ROOT / "bench" / "models",
                        help="where models go (git-ignored)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prune-lm-head", action="store_true",
                        help="last-token LM head (faster prefill; og.Engine 0.18 cannot run it)")
    args = parser.parse_args(argv)
    if args.build_layers < 2 or args.layers < args.build_layers:
        parser.error("need --layers >= --build-layers >= 2")
    suffix = "-pruned" if args.prune_lm_head else ""
    base = args.models / f"phi4-mini-shape-L{args.build_layers}{suffix}"
    out_dir = args.models / f"phi4-mini-shape-L{args.layers}{suffix}"
    if out_dir.exists():
        print(f"{out_dir} exists (delete it to rebuild)")
        return 0
    if not base.exists():  # the slow, memory-hungry part: once per base depth
        work = args.models / (base.name + ".work")
        write_hf_checkpoint(work / "hf", args.build_layers, args.tokenizer, args.seed)
        run_builder(work / "hf", base, work / "cache", prune_lm_head=args.prune_lm_head)
        only_unreachable_eos(base)
        shutil.rmtree(work)
        print(f"built {base} ({args.build_layers} layers)")
    if out_dir != base:
        derive(base, out_dir, args.build_layers, args.layers)
        print(f"derived {out_dir} ({args.layers} layers, weights shared with {base.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
