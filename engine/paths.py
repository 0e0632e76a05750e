"""Every location Ponder reads or writes, from one place.

platformdirs gives the per-OS folders; PONDER_HOME (or --data-dir) puts all of them under one
folder, which tests and portable installs use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Ponder"
HOME_VARIABLE = "PONDER_HOME"


@dataclass(frozen=True)
class Paths:
    """The folders Ponder uses. Nothing is created until ensure() is called."""

    config: Path
    data: Path
    cache: Path
    logs: Path

    @property
    def models(self) -> Path:
        """Downloaded and imported models."""
        return self.data / "models"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def ensure(self) -> None:
        """Create the folders, private to the user (0700) whatever the umask."""
        for folder in (self.config, self.data, self.cache, self.logs, self.models):
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, 0o700)


def resolve_paths(
    data_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Paths:
    """The flag wins over PONDER_HOME, which wins over the platform's folders."""
    env = os.environ if environ is None else environ
    root = data_dir if data_dir is not None else env.get(HOME_VARIABLE) or None
    if root is not None:
        base = Path(root).expanduser().resolve()
        return Paths(base / "config", base / "data", base / "cache", base / "logs")
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Paths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


def resources_dir() -> Path:
    """The read-only resources/ folder, in a checkout or inside a frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def demo_model_dir() -> Path:
    """The tiny demo model that ships with Ponder."""
    return resources_dir() / "models" / "demo"
