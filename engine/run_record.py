"""Whether Ponder's earlier runs ended cleanly.

Every Ponder process leaves a record in <data>/running/<pid>.json while it runs and removes it
when it exits normally. A record whose process is gone was left by a crash, a kill or a power
loss. After one of those, a model file may be damaged while its size and modification time still
look right, so installed models are hashed in full before their next load
(security-and-reliability.md §3) instead of trusting the cheap stat stamp.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from types import TracebackType

import psutil

log = logging.getLogger(__name__)

FOLDER = "running"


class RunRecord:
    """This process's record; `unclean` lists the records of earlier runs that never ended."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.unclean: list[int] = []
        self._mine: Path | None = None

    def start(self) -> list[int]:
        """Collect the records left by dead processes (removing them), then write ours.

        Returns the pids of the runs that ended uncleanly. A folder that cannot be written only
        costs the check: Ponder still starts.
        """
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.unclean = [pid for pid, path in self._records() if not _alive(pid, path)]
            for pid in self.unclean:
                (self.folder / f"{pid}.json").unlink(missing_ok=True)
            mine, tmp = self.folder / f"{os.getpid()}.json", self.folder / f"{os.getpid()}.json.tmp"
            tmp.write_text(json.dumps({"pid": os.getpid(), "started": _started(os.getpid())}),
                           encoding="utf-8")
            os.replace(tmp, mine)  # another Ponder starting now never reads half a record
            self._mine = mine
        except OSError as exc:
            log.warning("cannot keep the run record in %s: %s", self.folder, exc)
        return self.unclean

    def finish(self) -> None:
        """Remove our record: this run ended cleanly."""
        if self._mine is not None:
            self._mine.unlink(missing_ok=True)
            self._mine = None

    def __enter__(self) -> RunRecord:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.finish()

    def _records(self) -> list[tuple[int, Path]]:
        out = []
        for path in self.folder.glob("*.json"):
            if path.stem.isdigit() and int(path.stem) != os.getpid():
                out.append((int(path.stem), path))
        return out


def _alive(pid: int, record: Path) -> bool:
    """The process that wrote the record still runs (not merely a later one with its pid)."""
    try:
        started = json.loads(record.read_text(encoding="utf-8")).get("started")
    except (OSError, ValueError, AttributeError):
        return False
    now = _started(pid)
    return now is not None and started is not None and abs(now - float(started)) < 1.0


def _started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
