"""One download, from the catalog entry to an installed, verified model.

`Download.run()` blocks (call it from a worker thread or `asyncio.to_thread`) and reports
`DownloadProgress`; `pause()` and `cancel()` may be called from any thread. The transfer runs
in a child process (engine/download/worker.py); this side checks free space, measures
progress from the bytes on disk, verifies every file and installs atomically.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine import parent_watch
from engine.catalog.schema import CatalogModel, FileEntry, Variant
from engine.download.errors import (
    DownloadError, DownloadStopped, FileNotOnHubError, HubUnreachableError, IntegrityError,
    NotEnoughSpaceError,
)
from engine.download.integrity import InstalledStamp, ManifestEntry, git_blob_sha1, sha256_file
from engine.download.staging import StagingKind, claim
from engine.download.store import ModelStore
from engine.download.worker import FILES, JOB, PLAN
from engine.model_folder import validate_model_folder

#: Room kept free beyond the model itself (hashing and the OS need some).
SPACE_MARGIN = 256 * 1024 * 1024


class Phase(enum.Enum):
    PREPARING = "preparing"
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    BUILDING = "building"  # local conversion; done/total are thousandths
    INSTALLING = "installing"
    DONE = "done"


@dataclass(frozen=True)
class DownloadProgress:
    """A progress report: bytes, speed and time left (None until known)."""

    phase: Phase
    done: int
    total: int
    speed: float | None = None  # bytes per second
    eta: float | None = None  # seconds
    stage: str = ""  # what a build is doing

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def line(self) -> str:
        """One line for a terminal or a status label."""
        if self.phase is Phase.BUILDING:
            return f"building: {self.stage} ({self.fraction:.0%})"
        text = f"{self.phase.value} {self.done / 1e6:,.1f} / {self.total / 1e6:,.1f} MB"
        if self.speed:
            text += f", {self.speed / 1e6:,.1f} MB/s"
        if self.eta is not None:
            text += f", {_duration(self.eta)} left"
        return text


@dataclass(frozen=True)
class DownloadRequest:
    """What to fetch from which repository, and under which name to install it."""

    name: str
    model: str
    variant: str | None
    repo: str
    subfolder: str = ""
    revision: str | None = None
    files: tuple[FileEntry, ...] = ()
    strict_sizes: bool = False
    estimated_size: int = 0
    probe_file: str = "genai_config.json"
    patterns: tuple[str, ...] = ()
    is_onnx_model: bool = True
    chunk_size: int | None = None  # bytes per write in the transfer process (None: 1 MiB)

    @classmethod
    def for_variant(cls, model: CatalogModel, variant: Variant, name: str | None = None) -> DownloadRequest:
        """A request for a prebuilt ONNX variant from the catalog.

        An unverified file list is only an estimate: the folder's listing on the hub at the pinned
        commit decides which files are fetched, so a stale list cannot block a download.
        """
        trusted = variant.size_verified or any(f.sha256 for f in variant.files)
        return cls(name=name or model.id, model=model.id, variant=variant.id, repo=variant.repo,
                   subfolder=variant.subfolder, revision=variant.revision,
                   files=variant.files if trusted else (), strict_sizes=variant.size_verified,
                   estimated_size=variant.size)

    def job(self, endpoint: str | None) -> dict:
        return {
            "repo": self.repo, "subfolder": self.subfolder, "revision": self.revision,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
            "strict_sizes": self.strict_sizes, "probe_file": self.probe_file,
            "patterns": list(self.patterns), "endpoint": endpoint, "chunk_size": self.chunk_size,
        }


@dataclass
class _Speed:
    """Bytes per second over a sliding window of samples."""

    window_s: float = 5.0
    samples: list[tuple[float, int]] = field(default_factory=list)

    def add(self, now: float, done: int) -> float | None:
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window_s:
            self.samples.pop(0)
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 and d1 >= d0 else None


def worker_command() -> list[str]:
    """How to start the transfer process (it ends by itself if this process dies)."""
    return parent_watch.command("engine.download.worker")


def free_space(path: Path) -> int:
    """Free bytes on the file system that holds path (or its nearest existing parent)."""
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


class Download:
    """Fetch, verify and install one model. Not reusable: make a new one to resume."""

    def __init__(self, request: DownloadRequest, store: ModelStore, *, endpoint: str | None = None,
                 command: Sequence[str] | None = None, disk_free: Callable[[Path], int] = free_space,
                 poll_s: float = 0.2, install: bool = True) -> None:
        self.request, self.store, self.endpoint = request, store, endpoint
        self._command = list(command or worker_command())
        self._disk_free, self._poll_s, self._install = disk_free, poll_s, install
        self._stop = threading.Event()
        self._cancelled = False
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def pause(self) -> None:
        """Stop now and keep what was downloaded; a new Download resumes it."""
        self._halt(cancelled=False)

    def cancel(self) -> None:
        """Stop now and delete what was downloaded."""
        self._halt(cancelled=True)

    def _halt(self, cancelled: bool) -> None:
        with self._lock:
            self._cancelled = self._cancelled or cancelled
            self._stop.set()
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()

    # --- the job ---

    def run(self, on_progress: Callable[[DownloadProgress], None] = lambda p: None) -> Path:
        """Download, verify, install; returns the installed folder (or the verified files
        folder when install=False). Raises a DownloadError subclass; the model stays absent."""
        req = self.request
        if self._install and self.store.get(req.name) is not None:
            from engine.download.errors import InstallError
            raise InstallError(f"'{req.name}' is already installed. Remove it first to download it again.")
        staging = self.store.staging(req.name)
        try:
            on_progress(DownloadProgress(Phase.PREPARING, 0, req.estimated_size))
            self._prepare(staging)
            self._check_space(staging)
            self._transfer(staging, on_progress)
            entries = self._verify(staging, on_progress)
            files = staging / FILES
            if req.is_onnx_model:
                validate_model_folder(files)
            if not self._install:
                return files
            on_progress(DownloadProgress(Phase.INSTALLING, 0, 0))
            plan = _read_json(staging / PLAN) or {}
            stamp = InstalledStamp(req.model, req.variant, "download",
                                   f"{req.repo}@{plan.get('commit', '?')}", entries)
            target = self.store.install(files, req.name, stamp)
            shutil.rmtree(staging, ignore_errors=True)
            on_progress(DownloadProgress(Phase.DONE, stamp.size, stamp.size))
            return target
        except DownloadStopped as exc:
            if exc.cancelled:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        except DownloadError:
            raise
        except Exception:
            if self._stop.is_set():
                raise DownloadStopped(self._cancelled) from None
            raise

    def _prepare(self, staging: Path) -> None:
        job = self.request.job(self.endpoint)
        if _read_json(staging / JOB) != job:
            shutil.rmtree(staging, ignore_errors=True)  # another variant or revision: start over
        claim(staging, StagingKind.DOWNLOAD)
        (staging / FILES).mkdir(parents=True, exist_ok=True)
        tmp = staging / (JOB + ".tmp")
        tmp.write_text(json.dumps(job), encoding="utf-8")
        os.replace(tmp, staging / JOB)  # also refreshes its mtime, which keeps it from going stale

    def _check_space(self, staging: Path) -> None:
        have = _bytes_on_disk(staging / FILES)
        needed = max(0, self._total(staging) - have) + SPACE_MARGIN
        free = self._disk_free(staging)
        if needed > free:
            raise NotEnoughSpaceError(needed, free, str(self.store.root))

    def _total(self, staging: Path) -> int:
        plan = _read_json(staging / PLAN)
        if plan:
            return sum(int(f["size"]) for f in plan["files"])
        return self.request.estimated_size

    def _transfer(self, staging: Path, on_progress: Callable[[DownloadProgress], None]) -> None:
        env = dict(os.environ, HF_HUB_OFFLINE="0", HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HUB_DISABLE_PROGRESS_BARS="1")
        # The worker's output goes to files, not pipes: nothing reads a pipe while progress is
        # polled, and a worker that says more than a pipe holds (64 KiB of warnings) would block
        # on it forever.
        with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
            with self._lock:
                if self._stop.is_set():
                    raise DownloadStopped(self._cancelled)
                self._proc = subprocess.Popen(
                    [*self._command, str(staging)], stdout=out_file, stderr=err_file,
                    stdin=subprocess.PIPE, text=True, env=env,  # stdin: see engine/parent_watch.py
                )
            proc = self._proc
            try:
                self._watch(proc, staging, on_progress)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.communicate()  # reap it and close stdin whatever happened
            if self._stop.is_set():
                raise DownloadStopped(self._cancelled)
            if proc.returncode != 0:
                raise _worker_error(_tail(out_file), _tail(err_file), proc.returncode, str(self.store.root))

    def _watch(self, proc: subprocess.Popen[str], staging: Path,
               on_progress: Callable[[DownloadProgress], None]) -> None:
        """Report progress until the process ends; stop it on pause/cancel or a full disk."""
        speed, checked_plan = _Speed(), False
        while True:
            finished = proc.poll() is not None
            now, done, total = time.monotonic(), _bytes_on_disk(staging / FILES), self._total(staging)
            if not checked_plan and (staging / PLAN).is_file():
                checked_plan = True
                self._check_space(staging)  # the real total is known now
            rate = speed.add(now, done)
            eta = (total - done) / rate if rate and total >= done else None
            on_progress(DownloadProgress(Phase.DOWNLOADING, done, total, rate, eta))
            if finished:
                return
            self._stop.wait(self._poll_s)
            if self._stop.is_set():
                raise DownloadStopped(self._cancelled)

    def _verify(self, staging: Path, on_progress: Callable[[DownloadProgress], None]) -> list[ManifestEntry]:
        plan = _read_json(staging / PLAN)
        if not plan:
            raise DownloadError("the download plan is missing")
        total = sum(int(f["size"]) for f in plan["files"])
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            on_progress(DownloadProgress(Phase.VERIFYING, done, total))

        entries = []
        for f in plan["files"]:
            path = staging / FILES / f["path"]
            if not path.is_file() or path.stat().st_size != int(f["size"]):
                raise IntegrityError(f["path"], "the file is missing or has the wrong size")
            try:
                actual = sha256_file(path, step, self._stop.is_set)
            except InterruptedError:
                raise DownloadStopped(self._cancelled) from None
            bad = (f["sha256"] and actual != f["sha256"]) or (
                f.get("git_sha1") and not f["sha256"] and git_blob_sha1(path) != f["git_sha1"])
            if bad:
                path.unlink()
                raise IntegrityError(f["path"], "its bytes differ from the server's published hash")
            entries.append(ManifestEntry(f["path"], int(f["size"]), actual))
        return entries


def _worker_error(out: str, err: str, code: int, where: str) -> DownloadError:
    lines = [line for line in out.splitlines() if line.startswith("{")]
    report = _loads(lines[-1]) if lines else None
    if not report:
        tail = (err.strip().splitlines() or [f"exit code {code}"])[-1]
        return DownloadError(f"the download process stopped unexpectedly ({tail[:200]})")
    kind, message, file = report.get("error"), str(report.get("message")), report.get("file")
    if kind == "not_found":
        return FileNotOnHubError(message)
    if kind == "network":
        return HubUnreachableError(message)
    if kind == "disk_full":
        return NotEnoughSpaceError(0, 0, where)
    if kind == "integrity":
        return IntegrityError(file or "?", message)
    return DownloadError(message)


def _tail(handle: IO[bytes], limit: int = 64 * 1024) -> str:
    """The last `limit` bytes a worker wrote to a file (its report is its last line)."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - limit))
    return handle.read().decode("utf-8", errors="replace")


def _bytes_on_disk(folder: Path) -> int:
    total = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _loads(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
