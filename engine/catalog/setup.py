"""What the engine needs from the catalog for a model folder: its chat format and sampling.

An installed model's installed.json names its catalog entry. A folder from elsewhere (the demo,
an imported folder) is matched by its chat template's control tokens, so a Phi-4-reasoning
folder still gets its ChatML system prompt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalog.schema import Catalog, CatalogError, CatalogLookupError, CatalogModel
from engine.prompt import ChatFormat
from engine.request import Sampling

STAMP_NAME = "installed.json"
_CHATML_MARK = "<|im_sep|>"


@dataclass(frozen=True)
class ModelSetup:
    """The chat format and sampling the engine should use for one model folder."""

    chat_format: ChatFormat = field(default_factory=ChatFormat)
    sampling: Sampling = field(default_factory=Sampling)
    catalog_id: str | None = None
    variant_id: str | None = None
    max_new_tokens: int | None = None
    #: The build's own context limit when it is below the model's (None: the folder's config decides).
    context_length: int | None = None


def setup_for_folder(folder: Path, catalog: Catalog) -> ModelSetup:
    """The catalog's format and sampling for the folder; defaults when nothing matches."""
    stamp = _read_stamp(folder)
    if stamp:
        try:
            model = catalog.model(str(stamp.get("model", "")))
        except CatalogLookupError:
            model = None
        if model is not None:
            return _setup(model, stamp.get("variant"))
    if _CHATML_MARK in _template_text(folder):
        family = [m for m in catalog.models if m.chat_format.template and _CHATML_MARK in m.chat_format.template]
        if family:
            return _setup(family[0], None)
    return ModelSetup()


def setup_for_spec(spec: str, paths, catalog: Catalog | None = None) -> ModelSetup:
    """ModelSetup for what the user typed (demo, installed name or folder); defaults on any doubt.

    A broken catalog does not stop a model from loading (defaults apply), and a bad folder is
    reported by the load itself. An installed model whose files changed since they were verified
    raises ModelDamagedError here, before onnxruntime-genai ever opens it.
    """
    from engine.catalog.load import load_catalog
    from engine.models import DEMO
    from engine.paths import demo_model_dir

    try:
        catalog = catalog or load_catalog()
    except CatalogError:
        return ModelSetup()
    if spec == DEMO:
        folder = demo_model_dir()
    elif paths is not None and "/" not in spec and "\\" not in spec and (paths.models / spec).is_dir():
        folder = paths.models / spec
        from engine.download.integrity import quick_verify

        quick_verify(folder)
    else:
        folder = Path(spec).expanduser()
    return setup_for_folder(folder, catalog) if folder.is_dir() else ModelSetup()


def _setup(model: CatalogModel, variant_id: object) -> ModelSetup:
    variant = next((v for v in model.variants if v.id == variant_id), None)
    max_new = model.max_new_tokens
    if variant is not None and variant.max_new_tokens:
        max_new = min(max_new, variant.max_new_tokens)
    return ModelSetup(model.chat_format, model.sampling, model.id,
                      variant_id if isinstance(variant_id, str) else None, max_new,
                      variant.context_length if variant is not None else None)


def _read_stamp(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _template_text(folder: Path) -> str:
    """The folder's chat template text, from either place Hugging Face tools put it."""
    text = ""
    try:
        text += (folder / "chat_template.jinja").read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        template = config.get("chat_template") if isinstance(config, dict) else None
        text += template if isinstance(template, str) else json.dumps(template or "")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    return text
