"""Build an ONNX model on this computer with onnxruntime-genai's model builder.

Used where no prebuilt variant fits (Phi-4-mini-reasoning publishes only a GPU build, so a
CPU-only machine needs a local int4 CPU build). The builder needs the optional `tools` extra
(torch, transformers); it runs in a child process, offline, so it can be stopped at any time
and its memory is returned when it ends. Resumable at the step level: the checkpoint download
resumes, and a finished build that was not yet installed is reused after a crash.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine import parent_watch
from engine.download.errors import DownloadError, DownloadStopped
from engine.download.importer import import_folder
from engine.download.staging import StagingKind, claim
from engine.download.store import ModelStore
from engine.errors import PonderError
from engine.model_folder import validate_model_folder

BUILDER = "onnxruntime_genai.models.builder"
PRECISIONS = ("int4", "int8", "fp16", "fp32", "bf16")
TARGETS = ("cpu", "cuda", "dml", "webgpu")
_LAYER = re.compile(r"^Reading (?:decoder )?layer (\d+)")


class ConversionUnavailableError(PonderError):
    """The optional tools needed to build models are not installed."""

    exit_code = 8

    def user_message(self) -> str:
        if getattr(sys, "frozen", False):  # the packaged app: pip cannot add to it
            return ("Building a model on this computer needs tools that the packaged Ponder leaves out "
                    "(they are several GB). Download a prebuilt variant instead, or build the model with "
                    "Ponder installed from Python (pip install 'ponder-desktop[tools]', then ponder models "
                    "convert) and add the folder here with Import.")
        return (f"Building a model on this computer needs the optional tools ({self}). Install them "
                "with: pip install 'ponder-desktop[tools]', or download a prebuilt variant instead.")


class ConversionFailedError(DownloadError):
    """The builder failed; its last output line says why."""

    def user_message(self) -> str:
        return f"Building the model failed: {self}. Nothing was installed."


@dataclass(frozen=True)
class ConvertRequest:
    """Build `source` (a Hugging Face checkpoint folder) into model `name`."""

    name: str
    source: Path
    precision: str = "int4"
    target: str = "cpu"
    model: str | None = None  # catalog id, for the chat format
    variant: str | None = None


@dataclass(frozen=True)
class ConvertProgress:
    """Where the build is: a stage and an overall fraction."""

    stage: str
    fraction: float


def missing_tools() -> list[str]:
    """The modules the builder needs that are not installed."""
    needed = ("torch", "transformers", "onnx", "onnx_ir", BUILDER)
    missing = []
    for name in needed:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def builder_command(req: ConvertRequest, out: Path, cache: Path) -> list[str]:
    """The builder's command line, run under engine/parent_watch.py so it dies with Ponder."""
    return parent_watch.command(BUILDER, "-i", str(req.source), "-o", str(out),
                                "-p", req.precision, "-e", req.target, "-c", str(cache))


class Conversion:
    """One build. run() blocks; cancel() may be called from any thread."""

    def __init__(self, request: ConvertRequest, store: ModelStore, *,
                 command: Sequence[str] | None = None) -> None:
        if request.precision not in PRECISIONS or request.target not in TARGETS:
            from engine.errors import BadRequestError
            raise BadRequestError(f"Choose a precision from {', '.join(PRECISIONS)} and a target from "
                                  f"{', '.join(TARGETS)}.")
        self.request, self.store, self._command = request, store, command
        self._stop = threading.Event()
        self._cancelled = True
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def cancel(self, cancelled: bool = True) -> None:
        """Stop the builder. A stopped build starts over next time (the builder cannot resume
        mid-way); the downloaded checkpoint is kept unless the whole install is cancelled."""
        with self._lock:
            self._cancelled = cancelled
            self._stop.set()
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()

    def run(self, on_progress: Callable[[ConvertProgress], None] = lambda p: None) -> Path:
        req = self.request
        if self._command is None and (missing := missing_tools()):
            raise ConversionUnavailableError("missing: " + ", ".join(missing))
        if not (req.source / "config.json").is_file():
            raise ConversionFailedError(f"{req.source} has no config.json (not a Hugging Face checkpoint)")
        work = self.store.staging(req.name + ".convert")
        out, cache = work / "out", work / "cache"
        record = {"source": str(req.source), "precision": req.precision, "target": req.target}
        if _read(work / "convert.json") != record or not (work / "done").exists():
            shutil.rmtree(work, ignore_errors=True)
            claim(work, StagingKind.BUILD)
            (work / "convert.json").write_text(json.dumps(record), encoding="utf-8")
            self._build(out, cache, on_progress)
            (work / "done").touch()  # a crash from here on reuses the build
        else:
            claim(work, StagingKind.BUILD)  # ours now: a cleanup meanwhile keeps it
        on_progress(ConvertProgress("checking", 0.97))
        validate_model_folder(out)
        for leftover in out.rglob("*"):
            if leftover.is_symlink():
                leftover.unlink()
        on_progress(ConvertProgress("installing", 0.99))
        path = import_folder(out, self.store, name=req.name, source="convert", model=req.model,
                             variant=req.variant, link=True)
        shutil.rmtree(work, ignore_errors=True)
        on_progress(ConvertProgress("done", 1.0))
        return path

    def _build(self, out: Path, cache: Path, on_progress: Callable[[ConvertProgress], None]) -> None:
        layers = _layers(self.request.source)
        env = dict(os.environ, ORT_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                   HF_HUB_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1", TQDM_DISABLE="1")
        with self._lock:
            if self._stop.is_set():
                raise DownloadStopped(cancelled=self._cancelled)
            command = (builder_command(self.request, out, cache) if self._command is None
                       else [*self._command, str(self.request.source), str(out)])
            self._proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                text=True, errors="replace", env=env)
        tail, last = "", 0.02
        on_progress(ConvertProgress("loading weights", last))
        with self._proc as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.strip()
                tail = line or tail
                update = _progress_for(line, layers)
                if update and update.fraction > last:  # the builder's messages may repeat
                    last = update.fraction
                    on_progress(update)
        if self._stop.is_set():
            raise DownloadStopped(cancelled=self._cancelled)
        if proc.returncode != 0:
            raise ConversionFailedError(tail[-300:] or f"exit code {proc.returncode}")


def _progress_for(line: str, layers: int) -> ConvertProgress | None:
    if match := _LAYER.match(line):
        return ConvertProgress(f"reading layer {int(match[1]) + 1} of {layers}",
                               0.05 + 0.55 * (int(match[1]) + 1) / max(layers, 1))
    if line.startswith("Saving ONNX model"):
        return ConvertProgress("quantizing and saving", 0.7)
    if line.startswith("Saving GenAI config"):
        return ConvertProgress("writing the configuration", 0.95)
    return None


def _layers(source: Path) -> int:
    config = _read(source / "config.json") or {}
    return int(config.get("num_hidden_layers") or 1)


def _read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
