"""Typed view of the catalog data, validated on load.

Every string that later becomes a path or a URL part is checked here, so a damaged or hostile
catalog file cannot make the downloader write outside the model store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from engine.errors import PonderError
from engine.prompt import ChatFormat
from engine.request import Sampling

SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
KINDS = ("npu", "gpu", "cpu")


class CatalogError(PonderError):
    """The catalog file is damaged; names the entry and the field."""

    def user_message(self) -> str:
        return f"The model catalog is damaged: {self}. Reinstall Ponder to repair it."


@dataclass(frozen=True)
class FileEntry:
    """One file of a variant, relative to the variant's folder."""

    path: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Variant:
    """One build of a model for one kind of hardware."""

    id: str
    label: str
    kind: str  # "npu" | "gpu" | "cpu"
    source: str  # "download" | "convert"
    repo: str
    subfolder: str
    providers: tuple[str, ...]
    revision: str | None
    revision_verified: bool
    memory_gb: float
    files: tuple[FileEntry, ...] = ()
    size_verified: bool = False
    total_size: int | None = None
    precision: str | None = None
    execution_provider: str | None = None
    download_gb: float | None = None
    #: Limits of this build below the model's own (e.g. an NPU build compiled for 4,096 tokens).
    context_length: int | None = None
    max_new_tokens: int | None = None
    #: What this build needs beyond Ponder's own dependencies, in words for the user.
    requires: tuple[str, ...] = ()
    #: Set when the file list is not this folder's own (e.g. copied from a sibling model).
    files_unverified: str = ""

    @property
    def pinned(self) -> bool:
        """True when the revision is a full commit hash."""
        return bool(self.revision and COMMIT.match(self.revision))

    @property
    def size(self) -> int:
        """Bytes to download (an estimate unless size_verified)."""
        if self.files and all(f.size is not None for f in self.files):
            return sum(f.size or 0 for f in self.files)
        if self.total_size:
            return self.total_size
        return int((self.download_gb or 0) * 1e9)


@dataclass(frozen=True)
class CatalogModel:
    """A model family member, e.g. Phi-4-reasoning, with its variants."""

    id: str
    name: str
    summary: str
    parameters_b: float
    reasoning: bool
    context_length: int
    chat_format: ChatFormat
    sampling: Sampling
    max_new_tokens: int
    variants: tuple[Variant, ...]
    card: str = ""

    def variant(self, variant_id: str) -> Variant:
        """The variant with this id, or a CatalogLookupError listing the choices."""
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise CatalogLookupError(
            f"{self.name} has no variant '{variant_id}'. Choose one of: "
            + ", ".join(v.id for v in self.variants) + "."
        )


class CatalogLookupError(PonderError):
    """The user named a model or variant the catalog does not have."""

    exit_code = 2


@dataclass(frozen=True)
class Catalog:
    """All models Ponder offers."""

    models: tuple[CatalogModel, ...] = field(default_factory=tuple)

    def model(self, model_id: str) -> CatalogModel:
        """The model with this id (case-insensitive), or a CatalogLookupError listing the ids."""
        for model in self.models:
            if model.id == model_id.lower():
                return model
        raise CatalogLookupError(
            f"No model '{model_id}' in the catalog. Choose one of: "
            + ", ".join(m.id for m in self.models) + "."
        )


def parse_catalog(data: Any) -> Catalog:
    """Build a Catalog from the JSON data, or raise CatalogError naming the bad field."""
    if not isinstance(data, dict) or data.get("schema") != 1:
        raise CatalogError("unknown schema (expected 1)")
    formats = _formats(data.get("formats", {}))
    models = []
    for raw in _list(data, "models", "catalog"):
        models.append(_model(raw, formats))
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise CatalogError("two models share an id")
    return Catalog(tuple(models))


def _formats(raw: Any) -> dict[str, ChatFormat]:
    if not isinstance(raw, dict):
        raise CatalogError("'formats' is not an object")
    out = {}
    for name, spec in raw.items():
        where = f"format {name}"
        out[name] = ChatFormat(
            system_prompt=_str(spec, "system_prompt", where, default=""),
            template=_opt_str(spec, "template", where),
        )
    return out


def _model(raw: Any, formats: dict[str, ChatFormat]) -> CatalogModel:
    model_id = _id(raw, "model")
    where = f"model {model_id}"
    fmt_name = _str(raw, "format", where)
    if fmt_name not in formats:
        raise CatalogError(f"{where}: unknown format '{fmt_name}'")
    s = raw.get("sampling") or {}
    try:
        sampling = Sampling(greedy=bool(s.get("greedy", False)), temperature=float(s.get("temperature", 0.8)),
                            top_p=float(s.get("top_p", 0.95)), top_k=int(s.get("top_k", 50)))
    except (PonderError, TypeError, ValueError) as exc:
        raise CatalogError(f"{where}: bad sampling ({exc})") from None
    variants = tuple(_variant(v, where) for v in _list(raw, "variants", where))
    if len({v.id for v in variants}) != len(variants):
        raise CatalogError(f"{where}: two variants share an id")
    return CatalogModel(
        id=model_id, name=_str(raw, "name", where), summary=_str(raw, "summary", where, default=""),
        parameters_b=float(raw.get("parameters_b", 0)), reasoning=bool(raw.get("reasoning", True)),
        context_length=int(raw.get("context_length", 4096)), chat_format=formats[fmt_name],
        sampling=sampling, max_new_tokens=int(raw.get("max_new_tokens", 4096)),
        variants=variants, card=_str(raw, "card", where, default=""),
    )


def _variant(raw: Any, owner: str) -> Variant:
    variant_id = _id(raw, f"{owner} variant")
    where = f"{owner} variant {variant_id}"
    kind = _str(raw, "kind", where)
    source = _str(raw, "source", where)
    repo = _str(raw, "repo", where)
    if kind not in KINDS or source not in ("download", "convert") or not _REPO.match(repo):
        raise CatalogError(f"{where}: bad kind, source or repo")
    subfolder = _str(raw, "subfolder", where, default="")
    if subfolder and not safe_relpath(subfolder):
        raise CatalogError(f"{where}: unsafe subfolder '{subfolder}'")
    revision = _opt_str(raw, "revision", where)
    if revision is not None and not (COMMIT.match(revision) or _ID.match(revision)):
        raise CatalogError(f"{where}: bad revision '{revision}'")
    files = tuple(_file(f, where) for f in raw.get("files") or [])
    return Variant(
        id=variant_id, label=_str(raw, "label", where), kind=kind, source=source, repo=repo,
        subfolder=subfolder, providers=tuple(raw.get("providers") or ()), revision=revision,
        revision_verified=bool(raw.get("revision_verified", False)),
        memory_gb=float(raw.get("memory_gb", 0)), files=files,
        size_verified=bool(raw.get("size_verified", False)),
        total_size=raw.get("total_size"), precision=raw.get("precision"),
        execution_provider=raw.get("execution_provider"), download_gb=raw.get("download_gb"),
        context_length=_opt_int(raw, "context_length", where),
        max_new_tokens=_opt_int(raw, "max_new_tokens", where),
        requires=tuple(_str({"r": r}, "r", where) for r in raw.get("requires") or ()),
        files_unverified=_str(raw, "files_unverified", where, default=""),
    )


def _file(raw: Any, owner: str) -> FileEntry:
    path = _str(raw, "path", owner)
    if not safe_relpath(path):
        raise CatalogError(f"{owner}: unsafe file path '{path}'")
    sha = raw.get("sha256")
    if sha is not None and not (isinstance(sha, str) and SHA256.match(sha)):
        raise CatalogError(f"{owner}: bad sha256 for {path}")
    size = raw.get("size")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise CatalogError(f"{owner}: bad size for {path}")
    return FileEntry(path, size, sha)


def safe_relpath(path: str) -> bool:
    """True for a plain relative POSIX path with no '..', no absolute part and no drive."""
    if not path or "\\" in path or ":" in path or "\x00" in path:
        return False
    parts = PurePosixPath(path).parts
    return not PurePosixPath(path).is_absolute() and all(p not in ("..", ".", "") for p in parts)


def _list(raw: Any, key: str, where: str) -> list[Any]:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, list) or not value:
        raise CatalogError(f"{where}: '{key}' must be a non-empty list")
    return value


def _id(raw: Any, where: str) -> str:
    value = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(value, str) or not _ID.match(value):
        raise CatalogError(f"{where}: bad id {value!r}")
    return value


def _str(raw: Any, key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default) if isinstance(raw, dict) else default
    if not isinstance(value, str):
        raise CatalogError(f"{where}: '{key}' must be text")
    return value


def _opt_int(raw: Any, key: str, where: str) -> int | None:
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
        raise CatalogError(f"{where}: '{key}' must be a positive whole number")
    return value


def _opt_str(raw: Any, key: str, where: str) -> str | None:
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is not None and not isinstance(value, str):
        raise CatalogError(f"{where}: '{key}' must be text or null")
    return value
