#!/usr/bin/env bash
# Build the test peer for the remote-engine tests with one command:
#   1. llama.cpp's OpenAI-compatible server (`llama-cpp-python[server]`, compiled from source:
#      PyPI has no Linux wheel), unless it is already importable;
#   2. the demo model (resources/models/demo-hf) converted to GGUF with llama.cpp's own
#      convert_hf_to_gguf.py from the same release's sdist.
# Output: build/remote-peer/demo-f32.gguf (tests/engine/remote/test_llama_peer.py looks there,
# or at $PONDER_PEER_GGUF). Needs gcc, g++, cmake, network access to PyPI, and the `tools` extra
# (torch, transformers) for the converter.
# Usage: tools/remote_peer.sh [PYTHON]   (default: .venv/bin/python, else python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${1:-}
if [[ -z "$PY" ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
OUT=$ROOT/build/remote-peer
mkdir -p "$OUT"
start=$(date +%s)

if "$PY" -c "import llama_cpp.server" 2>/dev/null; then
    echo "llama-cpp-python[server] is already installed"
else
    echo "building llama-cpp-python[server] from source (about 6 minutes on 2 cores)..."
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
        "$PY" -m pip install "llama-cpp-python[server]"
fi
built=$(date +%s)
VERSION=$("$PY" -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))")

# The converter ships in the sdist, not in the installed package.
SRC=$OUT/llama-cpp-python-$VERSION
if [[ ! -f $SRC/vendor/llama.cpp/convert_hf_to_gguf.py ]]; then
    "$PY" -m pip download --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$OUT/sdist"
    tar -xzf "$OUT/sdist/llama_cpp_python-$VERSION.tar.gz" -C "$OUT" 2>/dev/null \
        || tar -xzf "$OUT"/sdist/llama*cpp*python-"$VERSION".tar.gz -C "$OUT"
    [[ -d $SRC ]] || mv "$OUT"/llama_cpp_python-"$VERSION" "$SRC"
fi

# The demo tokenizer is byte-level BPE with GPT-2's pre-tokenizer regex, but llama.cpp knows
# pre-tokenizers by a hash of their output and refuses unknown ones; reporting "gpt-2" is correct
# for this tokenizer (not for models in general).
"$PY" - "$SRC/vendor/llama.cpp" "$ROOT/resources/models/demo-hf" "$OUT/demo-f32.gguf" <<'PYEOF'
import sys
converter, model, outfile = sys.argv[1:4]
sys.path[:0] = [converter, converter + "/gguf-py"]
import convert_hf_to_gguf as c
base = getattr(c, "TextModel", None) or getattr(c, "Model", None)
if base is None:  # llama.cpp 2026: the model classes moved to conversion/base.py
    from conversion.base import TextModel as base
base.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
sys.argv = ["convert_hf_to_gguf.py", model, "--outtype", "f32", "--outfile", outfile]
c.main()
PYEOF
end=$(date +%s)
echo "peer ready: $OUT/demo-f32.gguf (build $((built - start)) s, total $((end - start)) s)"
