"""Real OpenAI-compatible servers started by the tests on a free loopback port: llama.cpp's
(llama-cpp-python[server]) and another Ponder (`ponder serve`)."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[3]
#: The demo model converted to GGUF by tools/remote_peer.sh.
GGUF = Path(os.environ.get("PONDER_PEER_GGUF", ROOT / "build" / "remote-peer" / "demo-f32.gguf"))
# tools/test.sh builds the peer and sets PONDER_TEST_PEER=1: there a missing peer fails the run
# instead of skipping it silently.
_REQUIRED = os.environ.get("PONDER_TEST_PEER") == "1"
#: `pytestmark` of a test module that needs llama.cpp's server.
LLAMA_PEER_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not _REQUIRED and importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python[server] is not installed: run tools/remote_peer.sh"),
    pytest.mark.skipif(not _REQUIRED and not GGUF.is_file(),
                       reason=f"no GGUF demo model at {GGUF}: run tools/remote_peer.sh"),
]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeerProcess:
    """A server process; ready once its /v1/models lists a model (whose id is kept as `model`)."""

    name = "server"
    start_s = 60.0

    def __init__(self, argv: list[str], port: int, **popen: object) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self.model: str | None = None
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        **popen)  # type: ignore[call-overload]
        deadline = time.monotonic() + self.start_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.process.stderr.read()[-2000:]}")
            try:
                reply = httpx2.get(self.url + "/models", timeout=1)
                if reply.status_code == 200 and reply.json().get("data"):
                    self.model = reply.json()["data"][0]["id"]
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {self.start_s:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process.stderr.close()


class LlamaPeer(PeerProcess):
    """`python -m llama_cpp.server` serving a GGUF model as "demo"."""

    name = "llama_cpp.server"

    def __init__(self, gguf: Path) -> None:
        port = free_port()
        super().__init__([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "demo",
                          "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1"], port)


class PonderPeer(PeerProcess):
    """`ponder serve --model demo` under a private Ponder home."""

    name = "ponder serve"
    start_s = 90.0

    def __init__(self, home: Path) -> None:
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ORT_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
        super().__init__([sys.executable, "-m", "app.cli", "--data-dir", str(home), "serve", "--model", "demo",
                          "--port", str(port)], port, cwd=ROOT, env=env)
