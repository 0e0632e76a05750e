"""A local stand-in for the Hugging Face endpoints huggingface_hub uses, with fault injection.

Implements HEAD/GET /{repo}/resolve/{revision}/{path} (with Range) and
GET /api/models/{repo}/tree/{revision}/{path}. Bound to 127.0.0.1, shut down by the fixture,
and by a timer in any case, so a broken test cannot leave it running.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_MIN = 1024  # files at least this big are served as LFS files (sha256 etag)


@dataclass
class Fault:
    """What to do wrong when serving one file."""

    drop_after: int | None = None  # close the connection after this many body bytes
    times: int = 1  # how many GETs the drop applies to
    corrupt: bool = False  # serve the right size, wrong bytes
    missing: bool = False  # 404
    delay_s: float = 0.0  # pause between 16 KiB chunks (a slow server)


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    commit: str = COMMIT


@dataclass
class FakeHub:
    """The server's state: repos, faults, and a log of requests for assertions."""

    repos: dict[str, FakeRepo] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    log: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range
    url: str = ""

    def add_folder(self, repo: str, folder: Path, subfolder: str = "") -> None:
        files = self.repos.setdefault(repo, FakeRepo({})).files
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                files[f"{subfolder}/{rel}" if subfolder else rel] = path.read_bytes()

    def ranges_for(self, suffix: str) -> list[str | None]:
        return [r for m, p, r in self.log if m == "GET" and p.endswith(suffix) and "/resolve/" in p]


def _is_lfs(data: bytes) -> bool:
    return len(data) >= LFS_MIN


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        if self.path.startswith("/api/models/"):
            self._tree()
        else:
            self._serve(body=True)

    def _split(self, marker: str):
        path = unquote(urlparse(self.path).path).lstrip("/")
        if path.startswith("api/models/"):
            path = path[len("api/models/"):]
        pieces = path.split("/")
        if len(pieces) < 4 or pieces[2] != marker:
            return None
        return f"{pieces[0]}/{pieces[1]}", pieces[3], "/".join(pieces[4:])

    def _repo(self, repo_id: str, rev: str) -> FakeRepo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None or rev not in ("main", repo.commit):
            return None
        return repo

    def _not_found(self, code: str) -> None:
        self.send_response(404)
        self.send_header("X-Error-Code", code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _tree(self) -> None:
        self.hub.log.append(("GET", self.path, None))
        parts = self._split("tree")
        repo = self._repo(parts[0], parts[1]) if parts else None
        if repo is None:
            return self._not_found("RepoNotFound")
        prefix = parts[2].strip("/")
        items = []
        for path, data in sorted(repo.files.items()):
            if prefix and not path.startswith(prefix + "/"):
                continue
            item = {"type": "file", "path": path, "size": len(data), "oid": _git_sha1(data)}
            if _is_lfs(data):
                item["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
            items.append(item)
        body = json.dumps(items).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, body: bool) -> None:
        rng = self.headers.get("Range")
        self.hub.log.append((self.command, self.path, rng))
        parts = self._split("resolve")
        repo = self._repo(parts[0], parts[1]) if parts else None
        if repo is None:
            return self._not_found("RevisionNotFound")
        path = parts[2]
        fault = self.hub.faults.get(path) or Fault()
        if path not in repo.files or fault.missing:
            return self._not_found("EntryNotFound")
        data = repo.files[path]
        sha = hashlib.sha256(data).hexdigest()
        if fault.corrupt:
            data = bytes(b ^ 0xFF for b in data)
        start = 0
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
        payload = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", repo.commit)
        etag = sha if _is_lfs(repo.files[path]) else _git_sha1(repo.files[path])
        self.send_header("ETag", f'"{etag}"')
        if _is_lfs(repo.files[path]):
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if not body:
            return
        limit = None
        if fault.drop_after is not None and fault.times > 0:
            fault.times -= 1
            limit = max(0, fault.drop_after - start)
        sent = 0
        for offset in range(0, len(payload), 16384):
            chunk = payload[offset:offset + 16384]
            if limit is not None and sent + len(chunk) > limit:
                self.wfile.write(chunk[: limit - sent])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault.delay_s:
                time.sleep(fault.delay_s)
            try:
                self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return
            sent += len(chunk)


class HubServer:
    """Run a FakeHub on 127.0.0.1 in a thread; stops on close() or after max_s seconds."""

    def __init__(self, hub: FakeHub, max_s: float = 120.0) -> None:
        handler = type("Handler", (_Handler,), {"hub": hub})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        hub.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.timer = threading.Timer(max_s, self.close)
        self.timer.daemon = True

    def start(self) -> None:
        self.thread.start()
        self.timer.start()

    def close(self) -> None:
        self.timer.cancel()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serving(repo: str, folder: Path, subfolder: str = "") -> Iterator[FakeHub]:
    """A started hub serving folder as repo/subfolder; stopped on exit."""
    fake = FakeHub()
    fake.add_folder(repo, folder, subfolder)
    server = HubServer(fake)
    server.start()
    try:
        yield fake
    finally:
        server.close()
