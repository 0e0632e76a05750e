"""Print a digest of everything a bundle is built from (sources, resources, package versions).

installer/build.sh writes it to dist/ponder.inputs; the offline-proof test rebuilds only when
the digest of the working tree differs, because a build takes minutes.
"""

from __future__ import annotations

import hashlib
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app", "engine", "resources", "installer")
PACKAGES = ("pyinstaller", "pyinstaller-hooks-contrib", "onnxruntime", "onnxruntime-genai",
            "PySide6-Essentials", "qasync", "keyring", "sqlcipher3", "rapidocr-onnxruntime",
            "platformdirs", "psutil", "numpy")


def inputs_digest(root: Path = ROOT) -> str:
    """sha256 over file paths and contents plus the versions of the bundled packages."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml"]
    for folder in SOURCES:
        files += sorted(p for p in (root / folder).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in PACKAGES:
        try:
            digest.update(f"{name}=={version(name)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{name} absent\n".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


if __name__ == "__main__":
    print(inputs_digest())
