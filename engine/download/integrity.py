"""Hashes, the per-file manifest and the installed.json stamp.

huggingface_hub does not verify downloads (security-and-reliability.md §3), so every file is
hashed here after the transfer and before anything loads it. A cheap stat-based stamp
(size, mtime_ns, inode) is checked at each start; any change forces a full re-hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.catalog.schema import SHA256, safe_relpath
from engine.catalog.setup import STAMP_NAME
from engine.download.errors import IntegrityError

CHUNK = 4 * 1024 * 1024
Progress = Callable[[int], None]


def sha256_file(path: Path, progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> str:
    """Hex sha256 of a file, reporting bytes read."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
            if cancelled and cancelled():
                raise InterruptedError
    return digest.hexdigest()


def git_blob_sha1(path: Path) -> str:
    """Git's object id for a file (what the hub reports for files not stored in LFS)."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    """What one file must be."""

    path: str
    size: int
    sha256: str


@dataclass
class InstalledStamp:
    """installed.json: where the model came from, each file's hash and a stat stamp."""

    model: str
    variant: str | None
    source: str  # "download" | "import" | "convert" | "reuse"
    origin: str  # repo@revision, or the imported folder
    files: list[ManifestEntry]
    stat: dict[str, list[int]] = field(default_factory=dict)
    installed_at: float = field(default_factory=time.time)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=1)

    @classmethod
    def from_dict(cls, data: Any) -> InstalledStamp:
        """Parse installed.json; raises ValueError on anything unexpected."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        files = []
        for f in data.get("files", []):
            if not safe_relpath(f["path"]) or not SHA256.match(f["sha256"]) or int(f["size"]) < 0:
                raise ValueError(f"bad entry {f!r}")
            files.append(ManifestEntry(f["path"], int(f["size"]), f["sha256"]))
        return cls(str(data["model"]), data.get("variant"), str(data["source"]), str(data["origin"]),
                   files, {k: list(v) for k, v in (data.get("stat") or {}).items()},
                   float(data.get("installed_at", 0)))


def stat_stamp(path: Path) -> list[int]:
    st = path.lstat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def read_stamp(folder: Path) -> InstalledStamp | None:
    """The folder's installed.json, or None when absent or unreadable."""
    try:
        return InstalledStamp.from_dict(json.loads((folder / STAMP_NAME).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def write_stamp(folder: Path, stamp: InstalledStamp, *, refresh_stat: bool = True) -> None:
    """Write installed.json atomically and durably (temp file, fsync, rename, fsync dir).

    refresh_stat=False keeps stamp.stat as given: an empty one makes the next check hash every file.
    """
    if refresh_stat:
        stamp.stat = {f.path: stat_stamp(folder / f.path) for f in stamp.files}
    tmp = folder / (STAMP_NAME + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(stamp.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / STAMP_NAME)
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; NTFS journals the rename itself
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def listed_files(folder: Path) -> set[str]:
    """Every regular file under folder except the stamp, as POSIX relative paths."""
    out = set()
    for path in folder.rglob("*"):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(folder).as_posix()
            if rel not in (STAMP_NAME, STAMP_NAME + ".tmp"):
                out.add(rel)
    return out


def check_files(folder: Path, entries: list[ManifestEntry], *, full: bool,
                progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
                stat: dict[str, list[int]] | None = None) -> None:
    """Raise IntegrityError (without deleting) unless the folder holds exactly these files.

    full=False compares sizes and the stat stamp only; any stamp difference falls back to
    hashing that file.
    """
    expected = {e.path for e in entries}
    present = listed_files(folder)
    extra, missing = sorted(present - expected), sorted(expected - present)
    if missing:
        raise IntegrityError(missing[0], "the file is missing")
    if extra:
        raise IntegrityError(extra[0], "an unexpected file is in the model folder")
    for entry in entries:
        path = folder / entry.path
        if path.is_symlink() or not path.is_file():
            raise IntegrityError(entry.path, "not a regular file")
        size = path.stat().st_size
        if size != entry.size:
            raise IntegrityError(entry.path, f"size {size} bytes, expected {entry.size}")
        if not full and stat and stat.get(entry.path) == stat_stamp(path):
            if progress:
                progress(size)
            continue
        actual = sha256_file(path, progress, cancelled)
        if actual != entry.sha256:
            raise IntegrityError(entry.path, f"sha256 {actual[:12]}…, expected {entry.sha256[:12]}…")


def full_check_pending(folder: Path) -> bool:
    """The next quick_verify of this installed model hashes every file (see require_full_check)."""
    stamp = read_stamp(folder)
    return stamp is not None and not stamp.stat


def quick_verify(folder: Path) -> None:
    """Before loading an installed model: exact file set, sizes, and the stat stamp; a file whose
    stamp changed is re-hashed (and the stamp refreshed when it still matches).

    Folders without installed.json (the demo, a folder path) are not checked here. Raises
    ModelDamagedError naming the file.
    """
    from engine.download.errors import ModelDamagedError

    stamp = read_stamp(folder)
    if stamp is None:
        return
    try:
        check_files(folder, stamp.files, full=False, stat=stamp.stat)
    except IntegrityError as exc:
        raise ModelDamagedError(folder.name, exc.file, exc.reason) from None
    current = {f.path: stat_stamp(folder / f.path) for f in stamp.files}
    if current != stamp.stat:
        try:
            write_stamp(folder, stamp)  # re-hashed and still good: remember the new stamp
        except OSError:
            pass  # read-only store: the check simply repeats next time
