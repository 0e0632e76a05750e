"""Who is filling a staging folder, so that cleaning the store never deletes live work.

Every writer under `.staging/` (a download, a local build, an import) claims its folder first
with a `StagingRecord`: what it is, and its owner (process id + that process's start time, so a
recycled process id is not taken for the owner). `ModelStore.cleanup()` reads the record and
deletes a folder only when its owner is gone and the folder is of no further use.
"""

from __future__ import annotations

import enum
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

RECORD = "staging.json"


class StagingKind(enum.Enum):
    """What fills a staging folder; it decides what is worth keeping after a crash."""

    DOWNLOAD = "download"  # resumable: kept (until stale) when its owner is gone
    BUILD = "build"  # reusable once marked done, else it starts over
    IMPORT = "import"  # a copy: never worth keeping


@dataclass(frozen=True)
class Owner:
    """A process, identified so that a reused pid does not pass for it."""

    pid: int
    started: float  # psutil's create_time(), seconds since the epoch

    @classmethod
    def current(cls) -> Owner:
        return cls(os.getpid(), psutil.Process().create_time())

    def alive(self) -> bool:
        """True while that very process runs (or when the system will not say: keep the work)."""
        try:
            return abs(psutil.Process(self.pid).create_time() - self.started) < 1.0
        except psutil.NoSuchProcess:
            return False
        except (psutil.AccessDenied, psutil.Error):
            return True


@dataclass(frozen=True)
class StagingRecord:
    """The typed content of `staging.json`."""

    kind: StagingKind
    owner: Owner
    claimed: float  # when the owner (re)claimed the folder

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind.value, "pid": self.owner.pid,
                           "started": self.owner.started, "claimed": self.claimed})

    @classmethod
    def from_json(cls, text: str) -> StagingRecord:
        data = json.loads(text)
        return cls(StagingKind(data["kind"]), Owner(int(data["pid"]), float(data["started"])),
                   float(data["claimed"]))


def claim(folder: Path, kind: StagingKind) -> StagingRecord:
    """Create folder if needed and mark it as this process's work (atomically replaced)."""
    folder.mkdir(parents=True, exist_ok=True)
    record = StagingRecord(kind, Owner.current(), time.time())
    tmp = folder / (RECORD + f".{os.getpid()}.tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    os.replace(tmp, folder / RECORD)
    return record


def read_record(folder: Path) -> StagingRecord | None:
    """The folder's record, or None when it has none (or an unreadable one)."""
    try:
        return StagingRecord.from_json((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
