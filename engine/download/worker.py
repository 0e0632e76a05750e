"""The transfer process: `python -m engine.download.worker STAGING_FOLDER`.

Runs in its own process so that pausing or cancelling is a plain kill at any moment (even in
a DNS lookup or a stalled read), so that the network switch (HF_HUB_OFFLINE=0) never applies
to the app itself, and so that a crash leaves only resumable partial files behind.

huggingface_hub does the HTTP work (HF_ENDPOINT, proxies, tokens, redirects and retries); this
module keeps its own `<file>.part` files because huggingface_hub deletes its partial file on
any failure, which would make resuming after a pause or a crash impossible.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import sys
from pathlib import Path
from typing import Any

JOB, PLAN, FILES = "job.json", "plan.json", "files"
CHUNK_SIZE = 1024 * 1024
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


class WorkerFailure(Exception):
    """A failure with a kind the parent maps to a typed error."""

    def __init__(self, kind: str, message: str, file: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.file = kind, file


def main(argv: list[str]) -> int:
    staging = Path(argv[0])
    try:
        job = json.loads((staging / JOB).read_text(encoding="utf-8"))
        from huggingface_hub import constants

        # huggingface_hub writes in 10 MiB pieces; smaller ones give smoother progress and lose
        # less on a pause. This process exists only for this transfer, so the change stays here.
        constants.DOWNLOAD_CHUNK_SIZE = int(job.get("chunk_size") or CHUNK_SIZE)
        plan = load_or_make_plan(staging, job)
        for entry in plan["files"]:
            fetch(staging, job, plan["commit"], entry)
        return 0
    except WorkerFailure as exc:
        return _report(exc.kind, str(exc), exc.file)
    except OSError as exc:
        kind = "disk_full" if exc.errno in _DISK_FULL else "network" if _is_network(exc) else "other"
        return _report(kind, _short(exc))
    except Exception as exc:  # noqa: BLE001 - the parent needs one line, never a traceback
        return _report("network" if _is_network(exc) else "other", _short(exc))


def load_or_make_plan(staging: Path, job: dict[str, Any]) -> dict[str, Any]:
    """The pinned commit and the exact files with their hub hashes (saved for resuming)."""
    path = staging / PLAN
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_url

    endpoint = job.get("endpoint")
    revision = job.get("revision") or "main"
    if len(revision) == 40:
        commit = revision
    else:
        probe = job.get("probe_file", "genai_config.json")
        url = hf_hub_url(job["repo"], probe, subfolder=job.get("subfolder") or None,
                         revision=revision, endpoint=endpoint)
        commit = _hub(lambda: get_hf_file_metadata(url).commit_hash, probe)
        if not commit:
            raise WorkerFailure("other", "the server did not say which commit it serves")
    api = HfApi(endpoint=endpoint)
    prefix = (job.get("subfolder") or "").strip("/")
    tree = _hub(lambda: list(api.list_repo_tree(job["repo"], path_in_repo=prefix or None,
                                                revision=commit, recursive=True)), prefix or job["repo"])
    remote = {}
    for item in tree:
        if not hasattr(item, "blob_id"):
            continue  # a folder
        rel = item.path[len(prefix) + 1:] if prefix else item.path
        remote[rel] = {"path": rel, "size": int(item.size),
                       "sha256": item.lfs.sha256 if item.lfs else None,
                       "git_sha1": None if item.lfs else item.blob_id}
    files = []
    wanted = job.get("files") or []
    if wanted:
        for want in wanted:
            got = remote.get(want["path"])
            if got is None:
                raise WorkerFailure("not_found", f"{want['path']} is not in {job['repo']}@{commit[:8]}",
                                    want["path"])
            if want.get("sha256") and got["sha256"] not in (None, want["sha256"]):
                raise WorkerFailure("integrity", "the server's hash differs from the catalog's", want["path"])
            if want.get("sha256"):
                got["sha256"] = want["sha256"]
            if job.get("strict_sizes") and want.get("size") not in (None, got["size"]):
                raise WorkerFailure("integrity", "the server's size differs from the catalog's", want["path"])
            files.append(got)
    else:
        patterns = job.get("patterns") or ["*"]
        files = [f for rel, f in sorted(remote.items())
                 if any(fnmatch.fnmatch(rel, p) for p in patterns) and not rel.startswith(".")]
    if not files:
        raise WorkerFailure("not_found", f"no model files in {job['repo']}/{prefix}")
    plan = {"commit": commit, "files": files}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(plan), encoding="utf-8")
    os.replace(tmp, path)
    return plan


def fetch(staging: Path, job: dict[str, Any], commit: str, entry: dict[str, Any]) -> None:
    """Download one file into files/<path>, resuming from files/<path>.part."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get

    dest = staging / FILES / entry["path"]
    if dest.is_file() and dest.stat().st_size == entry["size"]:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > entry["size"]:
        part.unlink()
        have = 0
    url = hf_hub_url(job["repo"], entry["path"], subfolder=job.get("subfolder") or None,
                     revision=commit, endpoint=job.get("endpoint"))
    meta = _hub(lambda: get_hf_file_metadata(url), entry["path"])
    with part.open("ab") as handle:
        if have < entry["size"]:
            _hub(lambda: http_get(meta.location, handle, resume_size=have, expected_size=entry["size"],
                                  headers={"Accept-Encoding": "identity"}), entry["path"])
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, dest)


def _hub(call, what: str):
    """Run a huggingface_hub call, turning its errors into WorkerFailure kinds."""
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError, \
        RevisionNotFoundError

    try:
        return call()
    except (EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise WorkerFailure("not_found", f"{what}: {_short(exc)}", what) from None
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        kind = "not_found" if status == 404 else "network"
        raise WorkerFailure(kind, f"{what}: {_short(exc)}", what) from None
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            raise
        if "Consistency check failed" in str(exc):
            raise WorkerFailure("network", f"{what}: the transfer ended early", what) from None
        raise WorkerFailure("network", f"{what}: {_short(exc)}", what) from None


def _is_network(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "h11", "ssl", "socket")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _report(kind: str, message: str, file: str | None = None) -> int:
    print(json.dumps({"error": kind, "message": message, "file": file}), flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
