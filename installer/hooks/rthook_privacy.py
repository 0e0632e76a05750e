"""PyInstaller runtime hook: runs before Ponder's own code and before any import of onnxruntime.

onnxruntime and onnxruntime-genai start a telemetry uploader when imported unless
ORT_DISABLE_TELEMETRY=1 is already in the environment (their disable_telemetry_events() does not
stop it); huggingface_hub reads HF_HUB_OFFLINE when imported. Forced, not defaulted: a value
inherited from the user's shell must not switch telemetry back on. The one exception is the
model-download worker (`ponder -m engine.download.worker`, started by engine/download/job.py for
a download the user asked for), which keeps the HF_HUB_OFFLINE its parent gave it.
"""

import os
import sys

os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
if sys.argv[1:3] != ["-m", "engine.download.worker"]:
    os.environ["HF_HUB_OFFLINE"] = "1"
