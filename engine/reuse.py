"""Find ONNX model folders the user already has: the Hugging Face cache, Foundry Local's and
AI Toolkit's model caches. Found folders are offered; using one imports it with hard links
(no second copy on the same disk), validated like any import.

The Hugging Face cache keeps `snapshots/<rev>/<file>` as links into `blobs/`, so the
containment root for those folders is the repository's cache folder, not the snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.catalog.schema import Catalog
from engine.download.store import disk_use
from engine.model_folder import CONFIG_NAME

HF_CACHE, FOUNDRY, AI_TOOLKIT = "Hugging Face cache", "Foundry Local", "AI Toolkit"


@dataclass(frozen=True)
class FoundModel:
    """A model folder found in another tool's cache."""

    path: Path
    root: Path  # every file must resolve inside this folder
    tool: str
    model: str | None  # catalog id, when recognised
    variant: str | None
    size: int
    revision: str | None = None

    def label(self) -> str:
        what = self.model or "unknown model"
        return f"{what}{' (' + self.variant + ')' if self.variant else ''} in {self.tool}: {self.path}"


def cache_roots(environ: Mapping[str, str] | None = None, home: Path | None = None) -> list[tuple[str, Path]]:
    """Where each tool keeps its models (the documented defaults and their overrides)."""
    env = os.environ if environ is None else environ
    home = home or Path.home()
    hf_home = Path(env.get("HF_HOME") or home / ".cache" / "huggingface")
    hf = Path(env["HF_HUB_CACHE"]) if env.get("HF_HUB_CACHE") else hf_home / "hub"
    foundry = Path(env.get("FOUNDRY_LOCAL_CACHE") or home / ".foundry" / "cache" / "models")
    return [(HF_CACHE, hf), (FOUNDRY, foundry), (AI_TOOLKIT, home / ".aitk" / "models")]


def find_reusable(catalog: Catalog, environ: Mapping[str, str] | None = None,
                  home: Path | None = None) -> list[FoundModel]:
    """Every compatible folder found; never raises (unreadable places are skipped)."""
    found: list[FoundModel] = []
    for tool, root in cache_roots(environ, home):
        if not root.is_dir():
            continue
        if tool == HF_CACHE:
            found += _hf_cache(catalog, root)
        else:
            found += _scan(catalog, tool, root)
    return found


def _hf_cache(catalog: Catalog, root: Path) -> list[FoundModel]:
    out = []
    for model in catalog.models:
        for variant in model.variants:
            if variant.source != "download":
                continue
            owner, name = variant.repo.split("/")
            repo_dir = root / f"models--{owner}--{name}"
            snapshots = repo_dir / "snapshots"
            if not snapshots.is_dir():
                continue
            for snap in sorted(snapshots.iterdir()):
                folder = snap / variant.subfolder if variant.subfolder else snap
                if (folder / CONFIG_NAME).is_file():
                    out.append(FoundModel(folder, repo_dir, HF_CACHE, model.id, variant.id,
                                          _linked_size(folder), snap.name))
    return out


def _scan(catalog: Catalog, tool: str, root: Path, max_depth: int = 7) -> list[FoundModel]:
    out = []
    base = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        if len(Path(dirpath).parts) - base >= max_depth:
            dirnames.clear()
        if CONFIG_NAME in filenames:
            folder = Path(dirpath)
            model, variant = _guess(catalog, folder.relative_to(root).as_posix())
            out.append(FoundModel(folder, folder, tool, model, variant, disk_use(folder)))
            dirnames.clear()
    return out


def _guess(catalog: Catalog, path: str) -> tuple[str | None, str | None]:
    """The catalog model and variant a folder's path names (Foundry Local's
    `Phi-4-mini-reasoning-generic-cpu` is Ponder's locally built CPU variant's equivalent)."""
    text = path.lower().replace("_", "-")
    for model in sorted(catalog.models, key=lambda m: -len(m.id)):
        if model.id in text:
            if "trtrtx" in text or "tensorrt" in text:
                return model.id, None  # built for TensorRT-RTX only: not one of our variants
            kind = "npu" if ("npu" in text or "qnn" in text) else "gpu" if any(
                k in text for k in ("gpu", "cuda", "dml", "directml", "webgpu")) else "cpu"
            variant = next((v.id for v in model.variants if v.kind == kind), None)
            return model.id, variant
    return None, None


def _linked_size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size  # follows the snapshot's links into blobs/
        except OSError:
            continue
    return total


def use_found(found: FoundModel, store, *, name: str | None = None, progress=lambda d, t: None) -> Path:
    """Import a found folder into the store, hard-linked when on the same disk."""
    from engine.download.importer import import_folder

    return import_folder(found.path, store, name=name or found.model, root=found.root, source="reuse",
                         model=found.model, variant=found.variant, link=True, progress=progress)
