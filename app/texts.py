"""User-facing texts that more than one place shows, kept together so they are easy to change."""

from __future__ import annotations

DEMO_BANNER = (
    "You are using the built-in demo model: it only knows small sums like “What is 2 plus 3?”. "
    "Get a real model to ask anything."
)

GET_A_MODEL_ACTION = "Get a model…"
GET_A_MODEL_TITLE = "Getting a real model"

#: The manual way, next to the model manager.
GET_A_MODEL = (
    "<p>Open <b>File → Models…</b> (Ctrl+M) to download a model that suits this computer. "
    "Or use a model folder you already have:</p>"
    "<ol>"
    "<li>Download an ONNX build of <b>Phi-4-mini-reasoning</b> (for example the "
    "<code>cpu-int4-rtn-block-32-acc-level-4</code> folder of "
    "<code>microsoft/Phi-4-mini-reasoning-onnx</code> on Hugging Face). The folder holds "
    "<code>genai_config.json</code>.</li>"
    "<li>Start Ponder with <code>ponder --model /path/to/that/folder</code>, or enter the folder "
    "under <i>Model</i> in Settings (Ctrl+,).</li>"
    "</ol>"
    "<p>Ponder never downloads anything on its own.</p>"
)

SETTINGS_CORRUPT = (
    "Your settings file could not be read, so the defaults are in use. The old file was kept as {path}."
)

ABOUT = (
    "<h3>Ponder</h3><p>An offline reasoning assistant. Everything runs on this computer; "
    "nothing you type leaves it.</p>"
)
