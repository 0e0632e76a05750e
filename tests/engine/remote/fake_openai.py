"""A tiny OpenAI-style server on 127.0.0.1, for the failure modes a real server will not produce
on demand (killed mid-stream, 401, 429, silence). Real peers (llama.cpp's server) cover the
normal path in test_llama_peer.py.

Each test sets `server.script` to what the next chat request should get; the server records the
request bodies and when a client hung up on a stream.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """What the next chat request gets."""

    status: int = 200
    chunks: list[dict[str, Any]] = field(default_factory=list)
    done: bool = True  # send `data: [DONE]` at the end
    delay_s: float = 0.0  # between chunks
    #: After this many chunks, reset the connection (a killed server).
    kill_after: int | None = None
    #: Keep sending chunks (every delay_s) until the client hangs up.
    endless: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw_sse: str | None = None  # a recorded stream, sent as it is


@dataclass
class FakeState:
    api_key: str | None = None
    models: list[dict[str, Any]] = field(default_factory=lambda: [{"id": "demo", "object": "model", "owned_by": "vllm"}])
    script: Script = field(default_factory=Script)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    hung_up: threading.Event = field(default_factory=threading.Event)
    hung_up_at: float | None = None
    models_delay_s: float = 0.0


def chunk(*, content: str | None = None, reasoning: str | None = None, field_name: str = "reasoning",
          finish: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """One chat.completion.chunk."""
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta[field_name] = reasoning
    out: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "demo",
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        out["choices"] = []
        out["usage"] = usage
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FakeState

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _authorised(self) -> bool:
        if self.state.api_key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {self.state.api_key}":
            return True
        self._json(401, {"error": {"message": "Invalid API key", "type": "invalid_request_error"}})
        return False

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if not self._authorised():
            return
        time.sleep(self.state.models_delay_s)
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": self.state.models})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self._authorised():
            return
        self.state.bodies.append(body)
        script = self.state.script
        if script.status != 200:
            self._json(script.status, {"error": {"message": script.body or "refused"}}, script.headers)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if script.raw_sse is not None:
                self._send(script.raw_sse)
            for n, item in enumerate(script.chunks):
                if script.kill_after is not None and n >= script.kill_after:
                    time.sleep(0.3)  # let what was sent reach the client: a reset drops unsent data
                    self._kill()
                    return
                self._send(f"data: {json.dumps(item)}\n\n")
                time.sleep(script.delay_s)
            while script.endless is not None:
                self._send(f"data: {json.dumps(script.endless)}\n\n")
                time.sleep(script.delay_s)
            if script.done:
                self._send("data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.state.hung_up_at = time.monotonic()
            self.state.hung_up.set()
            self.close_connection = True

    def _send(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _kill(self) -> None:
        """Reset the TCP connection, as a killed process's kernel would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close_connection = True
        self.connection.close()


class FakeOpenAI:
    """The server; use as a context manager. `url` ends in /v1."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.state = FakeState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._scheme = "https" if tls else "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.script.endless = None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
