"""The model store under paths.models: installed models, staging, atomic install and removal.

A model is either absent or installed-and-verified: files are assembled and hashed in
.staging/<name>/, installed.json is written there, and one rename makes it visible. Removal
renames to .trash/ first, so a crash mid-delete leaves nothing that looks installed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from engine.catalog.setup import STAMP_NAME
from engine.download.errors import InstallError
from engine.download.integrity import InstalledStamp, check_files, fsync_dir, read_stamp, write_stamp
from engine.download.staging import StagingKind, read_record
from engine.model_folder import CONFIG_NAME
from engine.paths import Paths

log = logging.getLogger(__name__)

STAGING = ".staging"
TRASH = ".trash"
#: Partial downloads older than this are deleted at start instead of resumed.
STALE_AFTER_S = 14 * 24 * 3600
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class InstalledModel:
    """A model folder in the store."""

    name: str
    path: Path
    stamp: InstalledStamp | None  # None: a folder Ponder did not install (unverified)
    disk_bytes: int


def check_name(name: str) -> str:
    """A model name is a folder name: refuse anything that could leave the store."""
    if not _NAME.match(name) or name in ("demo",):
        raise InstallError(f"'{name}' cannot be a model name: use letters, digits, '.', '-' or '_' "
                           "(and not 'demo').")
    return name


class ModelStore:
    """Installed models and the staging area; every path stays under paths.models."""

    def __init__(self, paths: Paths) -> None:
        self.root = paths.models

    def folder(self, name: str) -> Path:
        return self.root / check_name(name)

    def staging(self, name: str) -> Path:
        return self.root / STAGING / check_name(name)

    def installed(self) -> list[InstalledModel]:
        """Every model folder in the store, with its stamp and disk use."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(self.root.iterdir()):
            if folder.name.startswith(".") or not (folder / CONFIG_NAME).is_file():
                continue
            out.append(InstalledModel(folder.name, folder, read_stamp(folder), disk_use(folder)))
        return out

    def get(self, name: str) -> InstalledModel | None:
        folder = self.folder(name)
        if not (folder / CONFIG_NAME).is_file():
            return None
        return InstalledModel(name, folder, read_stamp(folder), disk_use(folder))

    def install(self, staging: Path, name: str, stamp: InstalledStamp) -> Path:
        """Write the stamp into the verified staging folder and rename it into place."""
        target = self.folder(name)
        if target.exists():
            raise InstallError(f"A model named '{name}' is already installed. Remove it first "
                               f"(ponder models remove {name}) or choose another name.")
        write_stamp(staging, stamp)
        os.replace(staging, target)
        fsync_dir(self.root)
        return target

    def remove(self, name: str) -> int:
        """Remove an installed model; returns the bytes freed."""
        folder = self.folder(name)
        if not folder.is_dir():
            raise InstallError(f"No installed model named '{name}'.")
        size = disk_use(folder)
        trash = self.root / TRASH
        trash.mkdir(parents=True, exist_ok=True)
        moved = trash / f"{name}-{time.time_ns()}"
        os.replace(folder, moved)  # atomic: the model disappears at once
        shutil.rmtree(moved, ignore_errors=True)
        return size

    def verify(self, name: str, *, full: bool = True, progress=None) -> InstalledStamp:
        """Re-check an installed model against its stamp; raises IntegrityError or InstallError."""
        folder = self.folder(name)
        stamp = read_stamp(folder)
        if stamp is None:
            raise InstallError(f"'{name}' has no valid {STAMP_NAME}; import it again to verify it.")
        check_files(folder, stamp.files, full=full, progress=progress, stat=stamp.stat)
        if full:
            write_stamp(folder, stamp)  # refresh the stat stamp after a clean full check
        return stamp

    def require_full_check(self) -> list[str]:
        """Make the next load of every installed model hash all its files (after an unclean
        shutdown, when a file can be damaged behind an unchanged stat stamp). Returns the names."""
        marked = []
        for model in self.installed():
            if model.stamp is None or not model.stamp.stat:
                continue
            model.stamp.stat = {}
            try:
                write_stamp(model.path, model.stamp, refresh_stat=False)
                marked.append(model.name)
            except OSError as exc:
                log.warning("cannot mark %s for a full check: %s", model.name, exc)
        return marked

    def cleanup(self, now: float | None = None) -> list[str]:
        """Empty the trash and drop staging folders nobody will use again (engine/download/staging.py
        says which). Safe while downloads or builds run, in this process or another. Returns what went."""
        removed = []
        now = time.time() if now is None else now
        trash = self.root / TRASH
        if trash.is_dir():
            for entry in trash.iterdir():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
        staging = self.root / STAGING
        if staging.is_dir():
            for entry in staging.iterdir():
                if not entry.is_dir():
                    entry.unlink()
                    removed.append(str(entry))
                elif _staging_is_stale(entry, now):
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(str(entry))
                elif not _owner_is_alive(entry):
                    for junk in entry.rglob("*.incomplete"):  # huggingface_hub's own temp files
                        junk.unlink(missing_ok=True)
                        removed.append(str(junk))
        for name in removed:
            log.info("removed stale %s", name)
        return removed


def _owner_is_alive(folder: Path) -> bool:
    record = read_record(folder)
    return record is not None and record.owner.alive()


def _staging_is_stale(folder: Path, now: float) -> bool:
    """Whether a staging folder can go: never while its owner runs; a download stays resumable
    for STALE_AFTER_S, a finished build stays reusable as long; anything else goes."""
    record = read_record(folder)
    if record is not None and record.owner.alive():
        return False
    kind = record.kind if record is not None else None
    if kind is None and (folder / "job.json").is_file():
        kind = StagingKind.DOWNLOAD  # written by a Ponder from before staging records
    if kind is StagingKind.DOWNLOAD:
        marker = folder / "job.json"
    elif kind is StagingKind.BUILD:
        marker = folder / "done"
    else:
        return True  # an import, or a folder nobody claimed: nothing to resume
    try:
        return now - marker.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return True


def disk_use(folder: Path) -> int:
    """Bytes used by the regular files under folder (links not followed)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total
