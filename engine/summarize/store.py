"""Progress of a long summary, kept on disk so that it resumes after a restart.

One JSON file per job, named by a hash of everything that decides the steps (the documents' bytes,
the options, the model, the chunk size); each finished step is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.documents.model import Document
from engine.summarize.options import SummaryOptions
from engine.summarize.points import Point
from engine.summarize.sources import Source

log = logging.getLogger(__name__)
VERSION = 1


def job_key(documents: Sequence[Document], options: SummaryOptions, model: str, chunk_tokens: int) -> str:
    """Same key ⇔ same steps: a resumed job reuses only what is still valid."""
    parts = [str(VERSION), model, str(chunk_tokens), options.length.value, options.form.value, options.focus]
    parts += [d.sha256 for d in documents]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class ProgressStore:
    """Saved steps of summary jobs under one folder (the cache folder's summaries/)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, key: str) -> dict[str, Any]:
        """The saved steps of a job, or an empty record. A damaged file is ignored."""
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") == VERSION:
                return data
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable summary progress %s: %s", path.name, exc)
        return {"version": VERSION, "map": {}, "reduce": {}}

    def save(self, key: str, data: dict[str, Any]) -> None:
        """Write atomically (temp file + rename), private to the user."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, ensure_ascii=False)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self._path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def discard(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"


def points_to_json(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{"text": p.text, "group": p.group, "sources": [s.as_dict() for s in p.sources]} for p in points]


def points_from_json(items: Sequence[dict[str, Any]]) -> list[Point]:
    return [Point(i["text"], tuple(Source(**s) for s in i["sources"]), i.get("group", "")) for i in items]
