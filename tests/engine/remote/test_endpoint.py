"""Which addresses Ponder sends prompts to: http only to loopback, or to a private address the
user confirmed; https verified (a custom CA file allowed)."""

from __future__ import annotations

import pytest

from engine.errors import InsecureEndpointError, RemoteTlsError
from engine.remote.endpoint import Endpoint, address_kind, check_endpoint
from engine.remote.service import RemoteChoice
from engine.request import ask
from tests.engine.remote.conftest import run_turn
from tests.engine.remote.fake_openai import FakeOpenAI, Script, chunk


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/v1", "http://localhost:11434", "http://[::1]:8000/v1",
                                 "https://gpu.example.com/v1", "https://10.0.0.5:8000/v1"])
def test_accepted_without_asking(url):
    assert check_endpoint(Endpoint(url, "m")).base_url.endswith("/v1")


@pytest.mark.parametrize("url", ["http://192.168.1.20:8000/v1", "http://10.1.2.3:8000", "http://gpu-box:8000",
                                 "http://gpu.lan:8000/v1", "http://[fe80::1]:8000"])
def test_private_http_needs_confirmation(url):
    with pytest.raises(InsecureEndpointError, match="confirm"):
        check_endpoint(Endpoint(url, "m"))
    assert check_endpoint(Endpoint(url, "m", allow_private_http=True))


@pytest.mark.parametrize("url", ["http://example.com/v1", "http://8.8.8.8:8000/v1"])
def test_public_http_is_refused_even_when_confirmed(url):
    with pytest.raises(InsecureEndpointError, match="Use https"):
        check_endpoint(Endpoint(url, "m", allow_private_http=True))


@pytest.mark.parametrize("url", ["ftp://host/v1", "gpu:8000", "https://user:pw@host/v1", "https:///v1"])
def test_malformed_addresses_get_a_message(url):
    with pytest.raises(InsecureEndpointError) as info:
        check_endpoint(Endpoint(url, "m"))
    assert "Ponder will not use" in info.value.user_message()


def test_missing_ca_file_and_model_are_reported(tmp_path):
    with pytest.raises(InsecureEndpointError, match="CA file"):
        check_endpoint(Endpoint("https://h/v1", "m", ca_file=str(tmp_path / "none.pem")))
    with pytest.raises(InsecureEndpointError, match="model name"):
        check_endpoint(Endpoint("https://h/v1", " "))


def test_address_kind_needs_no_dns():
    assert address_kind("localhost") == "loopback" and address_kind("127.0.0.2") == "loopback"
    assert address_kind("172.16.0.1") == "private" and address_kind("printer.local") == "private"
    assert address_kind("api.example.org") == "public"


@pytest.fixture
def tls_server():
    """The fake server behind TLS with a certificate from a private CA (trustme)."""
    import ssl

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeOpenAI(tls=context) as server:
        yield server, ca


def test_untrusted_certificate_is_refused_with_a_next_step(service, tls_server):
    server, _ = tls_server
    with pytest.raises(RemoteTlsError) as info:
        service.load(RemoteChoice(Endpoint(server.url, "demo"))).result(timeout=10)
    assert "CA file" in info.value.user_message()
    assert server.state.bodies == []


def test_a_custom_ca_file_makes_it_trusted(service, tls_server, tmp_path):
    server, ca = tls_server
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server.state.script = Script(chunks=[chunk(content="OK"), chunk(finish="stop")])
    service.load(RemoteChoice(Endpoint(server.url, "demo", ca_file=str(ca_file)))).result(timeout=10)
    finished, _ = run_turn(service, ask("hi"))
    assert finished.answer == "OK"
