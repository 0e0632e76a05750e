"""The model's tokenizer without loading the model, for --print-prompt and the prompt tests."""

from __future__ import annotations

from typing import Any

from engine.model_folder import ModelFolder
from engine.prompt import ChatFormat, render_prompt
from engine.request import ChatRequest


def load_tokenizer(folder: ModelFolder) -> Any:
    """An onnxruntime-genai Tokenizer read from the folder's tokenizer files only."""
    from engine.og_native import folder_tokenizer

    return folder_tokenizer(folder.path)  # built without holding the GIL where possible


def rendered_prompt(folder: ModelFolder, request: ChatRequest, fmt: ChatFormat | None = None) -> str:
    """Exactly the text the engine encodes for this request (engine.prompt.render_prompt)."""
    return render_prompt(load_tokenizer(folder), request, fmt or ChatFormat())
