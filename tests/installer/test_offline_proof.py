"""The offline proof (tools/offline_proof.sh): its detector must catch a leak, and the frozen
bundle must pass it.

The slow test builds dist/ponder (or reuses it when installer/inputs.py says it is up to date)
and runs the whole proof: `ponder --self-test` and a ~100 s scripted GUI session in a network
namespace under strace, with every CI variable removed and a temporary HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROOF = ROOT / "tools" / "offline_proof.sh"


def _proof(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "GITHUB_ACTIONS": "true"}  # the proof must shed these
    return subprocess.run(["bash", str(PROOF), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


# What the fake bundle does for `serve`: an OpenAI-like server on loopback, as ponder serve.
_FAKE_SERVER = '''
import json, os, signal, socketserver, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
HOST = globals().get("HOST", "127.0.0.1")  # a body may set another

class Server(ThreadingHTTPServer):
    def server_bind(self):  # no getfqdn(): that would be a DNS lookup of its own
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]

class Handler(BaseHTTPRequestHandler):
    def _send(self, kind, body):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send("application/json", json.dumps({"data": [{"id": "demo"}]}).encode())

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request.get("stream"):
            chunk = {"choices": [{"delta": {"content": "5"}}]}
            self._send("text/event-stream", f"data: {json.dumps(chunk)}\\n\\ndata: [DONE]\\n\\n".encode())
        else:
            self._send("application/json", json.dumps({"choices": [{"message": {"content": "5"}}]}).encode())

if "serve" in sys.argv:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = Server((HOST, 0), Handler)
    print(f"ponder: ready: model demo at http://127.0.0.1:{server.server_address[1]}/v1.", file=sys.stderr, flush=True)
    server.serve_forever()
'''


def _fake_bundle(tmp_path: Path, body: str) -> Path:
    """An executable standing in for dist/ponder/ponder: runs `body` as Python for every
    command, then, for `serve`, a loopback server like ponder serve's."""
    program = tmp_path / "fake_ponder.py"
    program.write_text(body + "\n" + _FAKE_SERVER)
    script = tmp_path / "fake-ponder"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {program} \"$@\"\n")
    script.chmod(0o755)
    return script


def test_detector_flags_internet_sockets_and_accepts_local_ones(tmp_path):
    local = tmp_path / "local.strace"
    local.write_text(
        '101 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 5\n'
        '101 connect(5, {sa_family=AF_UNIX, sun_path="/run/dbus"}, 110) = 0\n'
        '101 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 6\n'
        '101 recvmsg(6, {msg_name={sa_family=AF_NETLINK}, msg_iov=[{iov_base=[{ifa_family=AF_INET}]}]}, 0) = 76\n'
    )
    assert _proof("--check-log", str(local)).returncode == 0
    for leak in ('202 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 7\n',
                 '202 connect(7, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("13.69.1.1")}, 16)'
                 ' = -1 ENETUNREACH (Network is unreachable)\n',
                 '202 sendto(8, "\\x12\\x34", 40, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53)}, 16) = 40\n'):
        log = tmp_path / "leak.strace"
        log.write_text(local.read_text() + leak)
        result = _proof("--check-log", str(log))
        assert result.returncode == 1, leak
        assert "FAIL" in result.stdout


# A `ponder serve` session as strace -f logs it: the listening socket on loopback, two accepted
# loopback connections (one split by another thread's call), asyncio's wake-up socketpair.
SERVE_LOG = (
    '300 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 4\n'
    '300 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 7\n'
    '300 setsockopt(7, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n'
    '300 bind(7, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
    '300 listen(7, 128) = 0\n'
    '300 accept4(7, {sa_family=AF_INET, sin_port=htons(42726), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 8\n'
    '300 recvfrom(8, "POST /v1/chat/completions HTTP/1"..., 262144, 0, NULL, NULL) = 226\n'
    '301 sendto(5, "\\0", 1, 0, NULL, 0) = 1\n'
    '300 sendto(8, "HTTP/1.1 200 OK\\r\\nContent-Type: a"..., 962, 0, NULL, 0) = 962\n'
    '300 accept4(7,  <unfinished ...>\n'
    '301 sendto(5, "\\0", 1, 0, NULL, 0) = 1\n'
    '300 <... accept4 resumed>{sa_family=AF_INET, sin_port=htons(42742), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 9\n'
    '300 sendto(9, "data: [DONE]"..., 14, 0, NULL, 0) = 14\n'
)


def test_loopback_server_detector_accepts_the_servers_own_socket_and_nothing_else(tmp_path):
    log = tmp_path / "serve.strace"
    log.write_text(SERVE_LOG)
    result = _proof("--check-log", str(log), "--loopback-server")
    assert result.returncode == 0, result.stdout
    assert "2 connection(s) it accepted from loopback" in result.stdout
    # Without the flag the same log is internet use: the other runs allow no AF_INET socket.
    assert _proof("--check-log", str(log)).returncode == 1
    leaks = {
        "connect to 13.69.1.1": '300 connect(10, {sa_family=AF_INET, sin_port=htons(443), '
                                'sin_addr=inet_addr("13.69.1.1")}, 16) = -1 ENETUNREACH (Network is unreachable)\n',
        "bound to 0.0.0.0": '300 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 11\n'
                            '300 bind(11, {sa_family=AF_INET, sin_port=htons(8745), sin_addr=inet_addr("0.0.0.0")}, 16) = 0\n',
        "bound to ::": '300 socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 11\n'
                      '300 bind(11, {sa_family=AF_INET6, sin6_port=htons(8745), sin6_flowinfo=htonl(0), '
                      'inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}, 28) = 0\n',
        "never bound": '302 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 12\n',
        "sent to 127.0.0.53": '302 sendto(12, "\\x12\\x34", 40, MSG_NOSIGNAL, {sa_family=AF_INET, '
                              'sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 40\n',
        "connection accepted from 10.1.2.3": '300 accept4(7, {sa_family=AF_INET, sin_port=htons(5000), '
                                             'sin_addr=inet_addr("10.1.2.3")}, [16], SOCK_CLOEXEC) = 13\n',
        # A connect that blocks is logged in two halves; the detector joins them.
        "connect to 192.0.2.7": '303 connect(14, {sa_family=AF_INET, sin_port=htons(80),  <unfinished ...>\n'
                                '300 sendto(8, "x", 1, 0, NULL, 0) = 1\n'
                                '303 <... connect resumed>sin_addr=inet_addr("192.0.2.7")}, 16) = -1 ETIMEDOUT\n',
    }
    for reason, leak in leaks.items():
        log.write_text(SERVE_LOG + leak)
        result = _proof("--check-log", str(log), "--loopback-server")
        assert result.returncode == 1, reason
        assert "FAIL" in result.stdout and reason in result.stdout, (reason, result.stdout)


def test_loopback_server_detector_fails_a_log_with_no_server(tmp_path):
    log = tmp_path / "serve.strace"
    log.write_text('300 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 4\n')
    result = _proof("--check-log", str(log), "--loopback-server")
    assert result.returncode == 1
    assert "never started" in result.stdout


def test_proof_catches_a_server_that_listens_on_every_address(tmp_path):
    fake = _fake_bundle(tmp_path, 'HOST = "0.0.0.0"')
    result = _proof("--bundle", str(fake), "--seconds", "0")
    assert result.returncode == 1, result.stdout
    assert "PASS  local API session" in result.stdout  # the requests worked...
    assert "FAIL  ponder serve:" in result.stdout and "bound to 0.0.0.0" in result.stdout  # ...on the wrong socket


def test_proof_catches_a_program_that_reaches_for_the_network(tmp_path):
    fake = _fake_bundle(tmp_path, 'import socket\n'
                                  'try: socket.create_connection(("192.0.2.1", 443), timeout=1)\n'
                                  'except OSError: pass')
    result = _proof("--bundle", str(fake), "--seconds", "0")
    assert result.returncode == 1, result.stdout
    assert "FAIL  self-test:" in result.stdout
    assert "sa_family=AF_INET" in result.stdout
    # With the server on, the same connection is still caught (loopback is the only exception).
    assert "FAIL  ponder serve:" in result.stdout and "connect to 192.0.2.1" in result.stdout


def test_proof_catches_the_onnxruntime_telemetry_folder(tmp_path):
    fake = _fake_bundle(tmp_path, 'import os, pathlib\n'
                                  'pathlib.Path(os.environ["HOME"], ".cache/Microsoft/DeveloperTools/'
                                  '.onnxruntime").mkdir(parents=True, exist_ok=True)')
    result = _proof("--bundle", str(fake), "--seconds", "0")
    assert result.returncode == 1
    assert "FAIL  onnxruntime telemetry folder created" in result.stdout


def test_proof_catches_real_onnxruntime_telemetry_although_the_caller_is_a_ci_job(tmp_path):
    # Negative control with the real library: onnxruntime creates its telemetry folder at the
    # first session unless ORT_DISABLE_TELEMETRY=1 - or a CI variable - is set. _proof() sets CI,
    # so this only fails if the proof really strips it.
    fake = _fake_bundle(tmp_path, 'import onnxruntime\n'
                                  'try: onnxruntime.InferenceSession(b"not a model")\n'
                                  'except Exception: pass')
    result = _proof("--bundle", str(fake), "--seconds", "0")
    assert result.returncode == 1, result.stdout
    assert "FAIL  onnxruntime telemetry folder created" in result.stdout
    assert "onnxruntime.db" in result.stdout


def test_proof_runs_the_app_with_no_ci_variable_and_a_private_home(tmp_path):
    fake = _fake_bundle(tmp_path, 'import os, sys\n'
                                  'bad = [k for k in ("CI", "GITHUB_ACTIONS", "TF_BUILD") if k in os.environ]\n'
                                  'home = os.environ["HOME"]\n'
                                  'if bad or "ponder-offline-proof" not in home: sys.exit(3)')
    result = _proof("--bundle", str(fake), "--seconds", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Offline proof PASSED" in result.stdout
    # The fake's loopback server answered real requests and passed the loopback-only check.
    assert "PASS  streamed chat completion" in result.stdout
    assert "PASS  ponder serve:" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_frozen_ponder_passes_the_offline_proof(bundle):
    result = _proof("--seconds", "100", timeout=600)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "PASS  self-test exited 0" in result.stdout
    assert "PASS  GUI session exited 0" in result.stdout
    assert "PASS  chat completion" in result.stdout and "PASS  streamed chat completion" in result.stdout
    assert "PASS  ponder serve:" in result.stdout
    assert "FAIL" not in result.stdout
