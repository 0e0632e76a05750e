"""What clients do not send, at the HTTP level: foreign Host, cross-origin calls, missing keys, huge
bodies, disconnects, a full queue and a server still loading."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from engine.api.security import ServerConfig, ServerConfigError
from tests.engine.api.conftest import ANSWER, ENDLESS, QUESTION, start_server

pytestmark = pytest.mark.timeout(120)
KEY = "pk-test-key-0123456789abcdef"


def request(port, method, path, body=None, headers=None):
    """(status, headers, parsed JSON body) of one request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, response.headers, (json.loads(raw) if raw else None)


def chat_body(question=QUESTION, **extra):
    return {"model": "demo", "messages": [{"role": "user", "content": question}], **extra}


def test_a_foreign_host_header_is_refused(live):
    status, _, body = request(live.port, "GET", "/v1/models", headers={"Host": "attacker.example:8745"})
    assert status == 403 and body["error"]["code"] == "host_not_allowed"
    status, _, _ = request(live.port, "GET", "/v1/models", headers={"Host": "127.0.0.1.nip.io"})
    assert status == 403
    for host in (f"localhost:{live.port}", f"127.0.0.1:{live.port}", "[::1]"):
        assert request(live.port, "GET", "/v1/models", headers={"Host": host})[0] == 200


def test_no_cors_by_default_and_preflight_fails(live):
    status, headers, body = request(live.port, "OPTIONS", "/v1/chat/completions", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    assert body["error"]["code"] == "origin_not_allowed"
    # A "simple" cross-site POST (no preflight) is refused before the model runs.
    status, headers, _ = request(live.port, "POST", "/v1/chat/completions", chat_body(),
                                 headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, headers, _ = request(live.port, "GET", "/v1/models")
    assert status == 200 and not any(h.lower().startswith("access-control") for h in headers)


def test_an_allowed_origin_gets_cors_headers():
    server = start_server(allow_origins=("http://notes.example",), load=False)
    try:
        status, headers, _ = request(server.port, "OPTIONS", "/v1/chat/completions", headers={
            "Origin": "http://notes.example", "Access-Control-Request-Method": "POST"})
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "http://notes.example"
        assert "Authorization" in headers["Access-Control-Allow-Headers"]
        status, headers, _ = request(server.port, "OPTIONS", "/v1/chat/completions",
                                     headers={"Origin": "http://other.example"})
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
    finally:
        server.close()


def test_other_addresses_need_a_key():
    with pytest.raises(ServerConfigError, match="API key is required"):
        ServerConfig(host="0.0.0.0")
    with pytest.raises(ServerConfigError, match="API key is required"):
        ServerConfig(host="192.168.1.20")
    wild = ServerConfig(host="0.0.0.0", api_key=KEY)
    assert wild.host_allowed("192.168.1.20:8745") and wild.host_allowed("localhost:8745")
    assert not wild.host_allowed("rebind.attacker.example:8745")
    assert ServerConfig(host="::1").host_allowed("[::1]:8745")


def test_the_key_is_required_when_set():
    server = start_server(api_key=KEY, load=False)
    try:
        status, headers, body = request(server.port, "GET", "/v1/models")
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        assert headers["WWW-Authenticate"] == "Bearer"
        assert request(server.port, "GET", "/v1/models", headers={"Authorization": "Bearer pk-wrong"})[0] == 401
        assert request(server.port, "GET", "/v1/models", headers={"Authorization": f"Bearer {KEY}"})[0] == 200
        assert request(server.port, "GET", "/health")[0] == 503  # no key needed; still loading
    finally:
        server.close()


def test_503_while_the_model_loads():
    server = start_server(load=False)
    try:
        status, headers, body = request(server.port, "POST", "/v1/chat/completions", chat_body())
        assert status == 503 and body["error"]["code"] == "model_loading" and headers["Retry-After"]
        assert request(server.port, "GET", "/health")[2]["status"] == "loading"
        server.load()
        status, _, body = request(server.port, "POST", "/v1/chat/completions", chat_body())
        assert status == 200 and body["choices"][0]["message"]["content"] == ANSWER
    finally:
        server.close()


def test_a_10_mb_body_is_refused(live):
    status, _, body = request(live.port, "POST", "/v1/chat/completions", b"x" * (10 * 1024 * 1024))
    assert status == 413 and body["error"]["code"] == "request_too_large"
    # Without Content-Length (chunked), the limit applies while reading.
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    connection.request("POST", "/v1/chat/completions", body=iter([b"x" * (1024 * 1024)] * 10),
                       headers={"Content-Type": "application/json"}, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_too_many_messages_are_refused(live):
    messages = [{"role": "user", "content": "1"}, {"role": "assistant", "content": "2"}] * 200
    status, _, body = request(live.port, "POST", "/v1/chat/completions",
                              {"model": "demo", "messages": messages + [{"role": "user", "content": "3"}]})
    assert status == 400 and "Too many messages" in body["error"]["message"]


def test_unknown_paths_get_an_openai_error(live):
    status, _, body = request(live.port, "GET", "/v1/files")
    assert status == 404 and body["error"]["type"] == "invalid_request_error"


def _start_stream(port, question=ENDLESS):
    """A raw streaming request; returns the socket after the first event arrived."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    body = json.dumps(chat_body(question, stream=True, max_tokens=1900)).encode()
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    received = b""
    while b'"content": "' not in received.split(b"\r\n\r\n", 1)[-1].replace(b'"content": ""', b""):
        received += sock.recv(4096)
    return sock


def _wait_idle(server, limit_s):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if server.run(lambda: server.server.gate.running) == 0:
            return True
        time.sleep(0.01)
    return False


def test_a_client_that_disconnects_mid_stream_stops_its_turn(live):
    # Uncancelled, this turn writes ~2,000 tokens (seconds on the demo model).
    cancelled_before = live.run(lambda: live.server.activity.cancelled)
    started = time.monotonic()
    sock = _start_stream(live.port)
    sock.close()
    assert _wait_idle(live, 1.0), "the engine was still generating 1 s after the client left"
    stopped_after = time.monotonic() - started
    assert live.run(lambda: live.server.activity.cancelled) == cancelled_before + 1
    uncancelled = _time_endless(live)
    print(f"stopped after {stopped_after:.3f} s; uncancelled {uncancelled:.3f} s")
    assert stopped_after < 0.6 * uncancelled, "the turn ran to its end"
    status, _, body = request(live.port, "POST", "/v1/chat/completions", chat_body())
    assert status == 200 and body["choices"][0]["message"]["content"] == ANSWER


def _time_endless(live) -> float:
    started = time.monotonic()
    status, _, body = request(live.port, "POST", "/v1/chat/completions", chat_body(ENDLESS, max_tokens=1900))
    assert status == 200 and body["usage"]["completion_tokens"] > 1000
    return time.monotonic() - started


def test_a_full_queue_answers_429_with_retry_after():
    server = start_server(waiting=0)
    try:
        sock = _start_stream(server.port)  # holds the only slot
        try:
            status, headers, body = request(server.port, "POST", "/v1/chat/completions", chat_body())
            assert status == 429 and body["error"]["code"] == "rate_limit_exceeded"
            assert int(headers["Retry-After"]) >= 1
        finally:
            sock.close()
        assert _wait_idle(server, 1.0)
        assert request(server.port, "POST", "/v1/chat/completions", chat_body())[0] == 200
    finally:
        server.close()


def test_a_port_in_use_is_a_clear_error(live):
    with pytest.raises(ServerConfigError, match="address already in use|Cannot listen"):
        start_server(port=live.port, load=False)
