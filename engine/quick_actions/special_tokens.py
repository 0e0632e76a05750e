"""Neutralise special-token text inside untrusted text (screen text, clipboards, documents).

onnxruntime-genai's encode() turns the *text* `<|end|>` into the real control token, so screen
text holding it could end the user's turn and forge a new one. Every added token of the model's
tokenizer (special or not: og parses both), plus a fixed list of well-known chat markers, is
broken with a zero-width space after its first character. The text still reads the same to a
person; the tokenizer no longer sees the marker.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)

#: Inserted after the first character of a marker: invisible, and not part of any marker.
BREAK = "\u200b"

#: Markers of the common chat formats, neutralised whatever the tokenizer says.
FIXED_MARKERS: tuple[str, ...] = (
    "<|end|>", "<|user|>", "<|system|>", "<|assistant|>", "<|tool|>", "<|/tool|>",
    "<|im_start|>", "<|im_end|>", "<|im_sep|>", "<|endoftext|>", "<|endofprompt|>",
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<think>", "</think>", "<s>", "</s>", "[INST]", "[/INST]",
)


def tokenizer_markers(model_dir: Path) -> tuple[str, ...]:
    """The added tokens of the tokenizer in model_dir (empty if it has no readable tokenizer.json)."""
    path = Path(model_dir) / "tokenizer.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.info("no added tokens read from %s: %s", path, exc)
        return ()
    tokens = data.get("added_tokens") or []
    return tuple(t["content"] for t in tokens if isinstance(t, dict) and isinstance(t.get("content"), str))


#: Any `<|name|>` marker (and DeepSeek's full-width `<｜name｜>`): the shape most chat formats give
#: their special tokens. Used when the model's tokenizer is not here (a model on a remote server).
GENERIC_MARKER = re.compile(r"<[|\uff5c][^<>|\uff5c\s]{1,48}[|\uff5c]>")


def markers_for(model_dir: Path | None, text: str = "") -> tuple[str, ...]:
    """The tokenizer's markers plus the fixed list, longest first, without duplicates.

    With no model folder (a remote model: its tokenizer is on the server), every `<|…|>`-shaped
    marker found in text is added too, since its tokenizer's own list cannot be read.
    """
    found = set(FIXED_MARKERS)
    if model_dir is not None:
        found.update(tokenizer_markers(model_dir))
    else:
        found.update(GENERIC_MARKER.findall(text))
    # A marker of one character cannot be broken by an insertion; none exist in practice.
    return tuple(sorted((m for m in found if len(m) >= 2), key=lambda m: (-len(m), m)))


def neutralise(text: str, markers: tuple[str, ...]) -> str:
    """text with every occurrence of every marker broken by BREAK.

    Repeated until nothing matches: breaking one marker can never create another (the inserted
    character is in no marker), but the loop makes that an invariant rather than an argument.
    """
    changed = True
    while changed:
        changed = False
        for marker in markers:
            if marker in text:
                text = text.replace(marker, marker[0] + BREAK + marker[1:])
                changed = True
    return text


def strip_controls(text: str) -> str:
    """Drop NULs and lone surrogates (which cannot be encoded) and unify line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")
