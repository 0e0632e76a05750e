"""Check a model folder before onnxruntime-genai opens it.

onnxruntime-genai follows a symlinked .onnx out of the folder and crashes or misbehaves on
truncated files, so the engine refuses anything doubtful here, naming the file and the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InvalidModelFolderError, ModelNotFoundError
from engine.onnx_external import MalformedOnnxError, external_refs

CONFIG_NAME = "genai_config.json"


@dataclass(frozen=True)
class ModelFolder:
    """A validated model folder and the facts the engine needs from its config."""

    path: Path
    config: dict[str, Any]
    name: str

    @property
    def context_length(self) -> int:
        return int(self.config["model"].get("context_length") or 4096)

    @property
    def eos_token_ids(self) -> list[int]:
        value = self.config["model"].get("eos_token_id", [])
        return list(value) if isinstance(value, list) else [int(value)]


def validate_model_folder(folder: str | os.PathLike[str]) -> ModelFolder:
    """Return the folder's facts, or raise a typed error naming the bad file."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ModelNotFoundError(str(folder))
    root = root.resolve()
    for path in sorted(root.rglob("*")):
        _check_contained(root, path)
    config = _read_config(root)
    for name in _onnx_files(root, config):
        _check_onnx(root, name)
    return ModelFolder(path=root, config=config, name=root.name)


def _check_contained(root: Path, path: Path) -> None:
    rel = path.relative_to(root).as_posix()
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(root):
            raise InvalidModelFolderError(root, rel, "it is a link to a file outside the model folder")
        if not target.exists():
            raise InvalidModelFolderError(root, rel, "it is a broken link")


def _read_config(root: Path) -> dict[str, Any]:
    path = root / CONFIG_NAME
    if not path.is_file():
        raise InvalidModelFolderError(root, CONFIG_NAME, "the file is missing")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidModelFolderError(root, CONFIG_NAME, f"it is not valid JSON ({exc})") from None
    decoder = config.get("model", {}).get("decoder") if isinstance(config, dict) else None
    if not isinstance(decoder, dict) or not isinstance(decoder.get("filename"), str):
        raise InvalidModelFolderError(root, CONFIG_NAME, "it names no decoder model file")
    return config


def _onnx_files(root: Path, config: dict[str, Any]) -> list[str]:
    """The decoder file and any pipeline stage files the config names."""
    decoder = config["model"]["decoder"]
    names = [decoder["filename"]]
    for stage in decoder.get("pipeline", []) or []:
        if isinstance(stage, dict):
            names += [v["filename"] for v in stage.values() if isinstance(v, dict) and "filename" in v]
    return names


def _inside(root: Path, name: str, referrer: str, base: Path | None = None) -> Path:
    path = Path(os.path.realpath((base or root) / name))
    if Path(name).is_absolute() or not path.is_relative_to(root):
        raise InvalidModelFolderError(root, referrer, f"'{name}' points outside the model folder")
    return path


def _check_onnx(root: Path, name: str) -> None:
    path = _inside(root, name, CONFIG_NAME)
    if not path.is_file():
        raise InvalidModelFolderError(root, name, "the file is missing")
    try:
        refs = external_refs(path)
    except MalformedOnnxError as exc:
        raise InvalidModelFolderError(root, name, str(exc)) from None
    needed: dict[str, int] = {}
    for ref in refs:
        needed[ref.location] = max(needed.get(ref.location, 0), ref.end or 0)
    for location, end in needed.items():
        data = _inside(root, location, name, base=path.parent)
        if not data.is_file():
            raise InvalidModelFolderError(root, location, "the weights file is missing")
        size = data.stat().st_size
        if size < end:
            raise InvalidModelFolderError(
                root, location, f"the file is truncated ({size} bytes, {end} needed)"
            )
