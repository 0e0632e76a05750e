"""The offline proof's local-API session; tools/offline_proof.sh runs it inside the network
namespace, in the app's clean environment.

Usage: python offline_proof_serve.py --bundle PONDER --log STRACE_LOG --out SERVER_OUTPUT [--model M]

Brings the namespace's loopback up (`unshare -n` leaves it down), starts `ponder serve --port 0`
under strace, waits for it to say it is ready, makes real requests over loopback (the model list,
a chat completion, a streamed chat completion), then stops the server with SIGTERM as Ctrl-C
would. Prints a PASS/FAIL line per step; exits 1 if any failed. Only the server is traced: these
requests come from this (untraced) process. Standard library only.
"""

from __future__ import annotations

import argparse
import fcntl
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

QUESTION = "What is 2 plus 3?"
READY_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 120.0
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    """Set IFF_UP on lo (what `ip link set lo up` does); nothing to do where it is up already."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack_from("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        if not flags & _IFF_UP:
            fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def wait_ready(server: subprocess.Popen, out: Path) -> tuple[str, int]:
    """The host and port from `ponder: ready: ... at http://HOST:PORT/v1`."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        text = out.read_text(errors="replace") if out.exists() else ""
        ready = re.search(r"ready: .* at http://([\d.]+):(\d+)/v1", text)
        if ready:
            return ready[1], int(ready[2])
        if server.poll() is not None:
            raise RuntimeError(f"ponder serve exited ({server.returncode}) before it was ready")
        time.sleep(0.1)
    raise TimeoutError(f"ponder serve not ready after {READY_TIMEOUT_S:.0f} s")


def _request(host: str, port: int, method: str, path: str, body: dict | None = None) -> tuple[int, str, str]:
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_S)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def check_models(host: str, port: int, model: str) -> str:
    status, _, text = _request(host, port, "GET", "/v1/models")
    ids = [entry.get("id") for entry in json.loads(text).get("data", [])] if status == 200 else []
    if status != 200 or not ids:
        raise RuntimeError(f"GET /v1/models: {status} {text[:200]}")
    return f"GET /v1/models -> {', '.join(map(str, ids))}"


def check_completion(host: str, port: int, model: str) -> str:
    status, _, text = _request(host, port, "POST", "/v1/chat/completions",
                               {"model": model, "messages": [{"role": "user", "content": QUESTION}]})
    if status != 200:
        raise RuntimeError(f"chat completion: {status} {text[:200]}")
    content = json.loads(text)["choices"][0]["message"]["content"]
    if not content:
        raise RuntimeError(f"chat completion: no answer in {text[:200]}")
    return f"chat completion: {QUESTION} -> {content.strip()[:40]!r}"


def check_stream(host: str, port: int, model: str) -> str:
    status, kind, text = _request(host, port, "POST", "/v1/chat/completions",
                                  {"model": model, "stream": True,
                                   "messages": [{"role": "user", "content": QUESTION}]})
    events = [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]
    if status != 200 or not kind.startswith("text/event-stream") or not events or events[-1] != "[DONE]":
        raise RuntimeError(f"streamed completion: {status} {kind} {text[:200]!r}")
    answer = "".join((json.loads(event)["choices"] or [{}])[0].get("delta", {}).get("content") or ""
                     for event in events[:-1])
    return f"streamed chat completion: {len(events) - 1} chunks -> {answer.strip()[:40]!r}"


def stop(server: subprocess.Popen) -> int:
    """SIGTERM to ponder (strace's child), as Ctrl-C; its exit code (strace passes it on)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    for pid in (children.read_text().split() if children.exists() else []):
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        return server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()  # strace -f: killing it detaches ponder, which then gets the SIGKILL below
        for pid in (children.read_text().split() if children.exists() else []):
            os.kill(int(pid), signal.SIGKILL)
        server.wait(timeout=30)
        return -9


def main(argv: list[str] | None = None) -> int:
    """Run the session; 0 if every step passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--model", default="demo")
    args = parser.parse_args(argv)
    failed = False
    try:
        loopback_up()
    except OSError as exc:
        print(f"FAIL  loopback: cannot bring lo up ({exc})")
        return 1
    with open(args.out, "w") as output:
        server = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=%network", "-o", str(args.log),
                                   args.bundle, "serve", "--model", args.model, "--port", "0"],
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        host, port = wait_ready(server, args.out)
        print(f"PASS  ponder serve ready on {host}:{port} (loopback)")
        for step in (check_models, check_completion, check_stream):
            try:
                print(f"PASS  {step(host, port, args.model)}")
            except Exception as exc:  # noqa: BLE001 - report each request, then go on
                print(f"FAIL  {step.__name__}: {type(exc).__name__}: {exc}")
                failed = True
    except Exception as exc:  # noqa: BLE001 - the server did not come up
        print(f"FAIL  ponder serve: {exc}")
        failed = True
    finally:
        running = server.poll() is None
        code = stop(server) if running else server.returncode
    if running and code == 0:
        print("PASS  ponder serve stopped on SIGTERM, exit 0")
    elif running:
        print(f"FAIL  ponder serve exited {code} on SIGTERM")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
