"""Process environment that must be set before onnxruntime is imported.

onnxruntime and onnxruntime-genai start a telemetry uploader at import unless
ORT_DISABLE_TELEMETRY=1 is already set (their disable_telemetry_events() does not stop
it), and huggingface_hub reads HF_HUB_OFFLINE at import. Every entry point calls
prepare_environment() first thing.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

PRIVACY_VARIABLES = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def prepare_environment(
    environ: MutableMapping[str, str] | None = None, *, allow_downloads: bool = False
) -> None:
    """Force the privacy variables; keep the hub offline unless a download was asked for."""
    env = os.environ if environ is None else environ
    env.update(PRIVACY_VARIABLES)
    if not allow_downloads:
        env["HF_HUB_OFFLINE"] = "1"
