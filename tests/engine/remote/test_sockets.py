"""The privacy promise with a connection configured: `ponder ask` on a saved connection to
127.0.0.1 opens internet sockets to that address only, seen at the system-call level (strace -f
covers every thread, native ones included, which patching Python's socket module would not)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.remote.connections import Connection, ConnectionStore
from engine.paths import resolve_paths
from tests.engine.remote.fake_openai import Script, chunk

ROOT = Path(__file__).resolve().parents[3]
CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?), (.*?)\}")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_connection_to_loopback_is_the_only_socket(tmp_path, fake):
    home = tmp_path / "home"
    ConnectionStore.for_paths(resolve_paths(home)).add(Connection("local", fake.url, "demo"))
    fake.state.script = Script(chunks=[chunk(content="<think>7+5=12</think>82"), chunk(finish="stop")])
    log = tmp_path / "strace.log"
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "TF_BUILD")}
    env.update(PYTHONPATH=str(ROOT), ORT_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="1", HOME=str(tmp_path))
    result = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(log), sys.executable, "-m", "app.cli",
         "--data-dir", str(home), "ask", "What is 37+45?", "--endpoint", "local"],
        capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    if "PTRACE" in result.stderr or "Operation not permitted" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "82"
    port = fake.url.split(":")[2].split("/")[0]
    inet = [m.groups() for m in CONNECT.finditer(log.read_text())]
    assert inet, "no connect() seen: the trace did not cover the request"
    for family, address in inet:
        assert family == "AF_INET" and f"sin_port=htons({port})" in address \
            and 'inet_addr("127.0.0.1")' in address, f"unexpected connect: {family} {address}"
