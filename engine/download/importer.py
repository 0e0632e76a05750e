"""Import a model folder (a USB stick, another tool's cache) into the store, verified.

The source is checked before anything is copied: no symlinked folders, every file link
resolving inside `root`, config paths relative and inside, and the hashes of an installed.json
manifest when the folder carries one. The copy is hashed as it is written, validated again as a
model folder, stamped, then renamed into place like a download.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from engine.catalog.schema import safe_relpath
from engine.catalog.setup import STAMP_NAME
from engine.download.errors import DownloadStopped, InstallError
from engine.download.integrity import InstalledStamp, ManifestEntry, check_files, read_stamp
from engine.download.staging import StagingKind, claim
from engine.download.store import ModelStore, check_name
from engine.errors import InvalidModelFolderError, ModelNotFoundError
from engine.model_folder import CONFIG_NAME, validate_model_folder

Progress = Callable[[int, int], None]  # bytes done, bytes total


def default_name(folder: Path) -> str:
    """A store name derived from a folder name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.name).strip("-.") or "imported"
    return name[:64]


def source_files(src: Path, root: Path | None = None) -> dict[str, Path]:
    """relative path -> real file, or InvalidModelFolderError naming the first escape."""
    src = Path(src).expanduser()
    if not src.is_dir():
        raise ModelNotFoundError(str(src))
    top = Path(os.path.realpath(src))
    root = Path(os.path.realpath(root)) if root else top
    files: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        for name in dirnames:
            path = Path(dirpath) / name
            if path.is_symlink():
                raise InvalidModelFolderError(top, path.relative_to(src).as_posix(),
                                              "it is a linked folder; copy the real folder instead")
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(src).as_posix()
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(root):
                raise InvalidModelFolderError(top, rel, "it is a link to a file outside the model folder")
            if not real.is_file():
                raise InvalidModelFolderError(top, rel, "it is a broken link or not a regular file")
            if rel != STAMP_NAME:
                files[rel] = real
    _check_config_paths(top, files)
    return files


def _check_config_paths(top: Path, files: dict[str, Path]) -> None:
    if CONFIG_NAME not in files:
        raise InvalidModelFolderError(top, CONFIG_NAME, "the file is missing")
    try:
        config = json.loads(files[CONFIG_NAME].read_text(encoding="utf-8"))
        decoder = config["model"]["decoder"]
        names = [decoder["filename"]]
        for stage in decoder.get("pipeline", []) or []:
            names += [v["filename"] for v in stage.values() if isinstance(v, dict) and "filename" in v]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidModelFolderError(top, CONFIG_NAME, "it is not a valid genai_config.json") from None
    for name in names:
        if not isinstance(name, str) or not safe_relpath(name):
            raise InvalidModelFolderError(top, CONFIG_NAME, f"'{name}' points outside the model folder")
        if name not in files:
            raise InvalidModelFolderError(top, name, "the file is missing")


def import_folder(src: Path, store: ModelStore, *, name: str | None = None, root: Path | None = None,
                  source: str = "import", model: str | None = None, variant: str | None = None,
                  link: bool = False, progress: Progress = lambda done, total: None,
                  cancelled: Callable[[], bool] = lambda: False) -> Path:
    """Verify, copy (or hard-link when link=True) and install a model folder; returns its path."""
    src = Path(src).expanduser()
    name = check_name(name or default_name(src))
    if store.get(name) is not None or store.folder(name).exists():
        raise InstallError(f"A model named '{name}' is already installed. Choose another name "
                           "or remove the installed one first.")
    files = source_files(src, root)
    manifest = read_stamp(src)
    if manifest is not None:  # a folder exported by Ponder: its hashes must hold
        check_files(src, manifest.files, full=True)
    staging = store.staging(name)
    shutil.rmtree(staging, ignore_errors=True)
    claim(staging, StagingKind.IMPORT)
    target = staging / "files"
    total, done = sum(p.stat().st_size for p in files.values()), 0
    entries = []
    try:
        for rel, real in sorted(files.items()):
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            digest = _place(real, dest, link, lambda n: progress(done + n, total), cancelled)
            done += dest.stat().st_size
            entries.append(ManifestEntry(rel, dest.stat().st_size, digest))
        validate_model_folder(target)
        stamp = InstalledStamp(
            model=model or (manifest.model if manifest else "imported"),
            variant=variant or (manifest.variant if manifest else None),
            source=source, origin=str(src), files=entries,
        )
        path = store.install(target, name, stamp)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return path


def _place(real: Path, dest: Path, link: bool, progress: Callable[[int], None],
           cancelled: Callable[[], bool]) -> str:
    """Copy (hashing as it goes) or hard-link; returns the file's sha256."""
    digest = hashlib.sha256()
    if link:
        try:
            os.link(real, dest)
        except OSError:
            link = False
        else:
            with dest.open("rb") as handle:
                while chunk := handle.read(4 * 1024 * 1024):
                    digest.update(chunk)
                    if cancelled():
                        raise DownloadStopped(cancelled=True)
            progress(dest.stat().st_size)
            return digest.hexdigest()
    written = 0
    with real.open("rb") as inp, dest.open("wb") as out:
        while chunk := inp.read(4 * 1024 * 1024):
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
            progress(written)
            if cancelled():
                raise DownloadStopped(cancelled=True)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()
