"""Capture text from a named source without Qt (the command line; the window uses Qt's clipboard)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TextIO

from engine.capture.errors import CaptureError, CaptureUnavailableError

MAX_STDIN_CHARS = 8 * 1024 * 1024


def session_kind(environ: dict[str, str] | None = None) -> str:
    """'x11', 'wayland', 'windows', 'macos' or 'none' (no display at all)."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    if env.get("DISPLAY"):
        return "x11"
    return "none"


def capture_text(source: str, *, stdin: TextIO | None = None) -> str:
    """The text of source ('selection', 'clipboard' or 'stdin'); CaptureError if it cannot be read."""
    if source == "stdin":
        stream = stdin or sys.stdin
        return stream.read(MAX_STDIN_CHARS)
    if source not in ("selection", "clipboard"):
        raise CaptureUnavailableError(f"The source '{source}' needs the window (try it from the tray).")
    kind = session_kind()
    if kind == "x11" or (kind == "wayland" and os.environ.get("DISPLAY") and not shutil.which("wl-paste")):
        from engine.capture.x11 import read_selection

        return read_selection("PRIMARY" if source == "selection" else "CLIPBOARD")
    if kind == "wayland":
        return _run(["wl-paste", "--no-newline"] + (["--primary"] if source == "selection" else []), source)
    if kind == "macos" and source == "clipboard":
        return _run(["pbpaste"], source)
    if kind == "windows" and source == "clipboard":
        return _run(["powershell", "-NoProfile", "-Command", "Get-Clipboard -Raw"], source)
    if source == "selection":
        raise CaptureUnavailableError(
            "This system has no separate 'current selection'. Copy the text and use the clipboard source."
        )
    raise CaptureUnavailableError("There is no desktop session here, so there is no clipboard to read.")


def _run(command: list[str], source: str) -> str:
    if not shutil.which(command[0]):
        raise CaptureUnavailableError(f"Reading the {source} here needs '{command[0]}', which is not installed.")
    try:
        result = subprocess.run(command, capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CaptureError(f"Could not read the {source}: {exc}") from exc
    if result.returncode != 0:
        return ""  # wl-paste exits 1 when the selection is empty
    return result.stdout[:MAX_STDIN_CHARS].decode("utf-8", "replace")
