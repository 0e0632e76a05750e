"""Saved connections (key in the keyring, never in a file) and the command line:
`ponder connections add|list|test|remove` and `ponder ask --endpoint`."""

from __future__ import annotations

import io
import json

import pytest

from app.cli import main
from engine.errors import SecretStoreError
from engine.history.keys import SECURE_BACKENDS, Keyring, backend_name
from engine.remote import connections as connections_module
from engine.remote.connections import KEYRING_SERVICE, Connection, ConnectionStore
from tests.engine.history.conftest import MemoryKeyring
from tests.engine.remote.fake_openai import Script, chunk

KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def memory():
    return MemoryKeyring()


@pytest.fixture
def keyring(memory, monkeypatch):
    """An allowlisted in-memory keyring, also for the commands (which build their own store)."""
    wrapper = Keyring(lambda: memory, allowed=SECURE_BACKENDS | {backend_name(memory)})
    monkeypatch.setattr(connections_module, "Keyring", lambda: wrapper)
    return wrapper


def test_key_goes_to_the_keyring_never_to_the_file(ponder_home, keyring, memory, fake):
    store = ConnectionStore.for_paths(ponder_home, keyring)
    saved = store.add(Connection("gpu", fake.url, "demo"), api_key=KEY)
    assert saved.has_key and memory.secrets[(KEYRING_SERVICE, "gpu")] == KEY
    text = store.path.read_text()
    assert KEY not in text and json.loads(text)["connections"][0]["base_url"] == fake.url
    assert (store.path.stat().st_mode & 0o777) == 0o600
    assert not any(KEY in p.read_text(errors="ignore") for p in ponder_home.config.parent.rglob("*") if p.is_file())
    connection, endpoint = store.endpoint("gpu")
    assert endpoint.api_key == KEY and KEY not in repr(endpoint)
    store.remove("gpu")
    assert store.list() == [] and (KEYRING_SERVICE, "gpu") not in memory.secrets


def test_without_a_secure_keyring_a_key_is_refused(ponder_home, memory, fake):
    insecure = Keyring(lambda: memory)  # not allowlisted, like keyrings.alt's plaintext file
    store = ConnectionStore.for_paths(ponder_home, insecure)
    with pytest.raises(SecretStoreError) as info:
        store.add(Connection("gpu", fake.url, "demo"), api_key=KEY)
    assert "PONDER_API_KEY" in info.value.user_message()
    assert memory.secrets == {} and store.list() == []
    store.add(Connection("open", fake.url, "demo"))  # a server with no key is fine
    assert [c.name for c in store.list()] == ["open"]


def test_cli_add_test_list_remove_and_ask(ponder_home, keyring, fake, monkeypatch, capsys):
    fake.state.api_key = KEY
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["connections", "add", "box", "--url", fake.url, "--model", "demo", "--key-stdin"]) == 0
    assert main(["connections", "list"]) == 0
    out = capsys.readouterr().out
    assert "box\tdemo\t" in out and KEY not in out
    fake.state.script = Script(chunks=[chunk(content="OK"), chunk(finish="stop")])
    assert main(["connections", "test", "box"]) == 0
    out = capsys.readouterr().out
    assert "box: OK, serves demo; vllm server; first token in" in out
    assert fake.state.bodies[-1]["max_tokens"] == 1
    fake.state.script = Script(chunks=[chunk(reasoning="7+5=12"), chunk(content="82"), chunk(finish="stop")])
    assert main(["ask", "What is 37+45?", "--endpoint", "box"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "82" and "7+5=12" in captured.err
    assert main(["connections", "remove", "box"]) == 0
    assert main(["connections", "test", "box"]) == 3
    assert "No connection named 'box'" in capsys.readouterr().err


def test_ask_with_endpoint_url_and_a_key_from_the_environment(ponder_home, fake, monkeypatch, capsys):
    fake.state.api_key = KEY
    monkeypatch.setenv("PONDER_API_KEY", KEY)
    fake.state.script = Script(chunks=[chunk(content="<think>carry 1</think>"), chunk(content="82"),
                                       chunk(finish="stop")])
    assert main(["ask", "What is 37+45?", "--endpoint", fake.url, "--model", "demo", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "done" and lines[-1]["answer"] == "82" and lines[-1]["thinking"] == "carry 1"


def test_ask_with_a_wrong_key_exits_with_the_reason(ponder_home, fake, monkeypatch, capsys):
    fake.state.api_key = KEY
    monkeypatch.setenv("PONDER_API_KEY", "wrong")
    assert main(["ask", "hi", "--endpoint", fake.url, "--model", "demo"]) == 7
    assert "refused the API key (HTTP 401)" in capsys.readouterr().err


def test_ask_endpoint_without_model_says_what_is_missing(ponder_home, capsys):
    assert main(["ask", "hi", "--endpoint", "http://127.0.0.1:9/v1"]) == 2
    assert "--endpoint URL needs --model" in capsys.readouterr().err


def test_key_in_the_real_secret_service(ponder_home, fake):
    """The OS keyring path (gnome-keyring on a private D-Bus, as tools/test.sh runs it)."""
    keyring = Keyring()
    backend = keyring.secure()
    if backend is None or backend_name(backend) != "keyring.backends.SecretService.Keyring":
        pytest.skip(f"no Secret Service on this bus (effective keyring: {keyring.describe()})")
    store = ConnectionStore.for_paths(ponder_home, keyring)
    store.add(Connection("secret-service-test", fake.url, "demo"), api_key=KEY)
    try:
        assert backend.get_password(KEYRING_SERVICE, "secret-service-test") == KEY
        assert store.endpoint("secret-service-test")[1].api_key == KEY
        assert KEY not in store.path.read_text()
    finally:
        store.remove("secret-service-test")
    assert backend.get_password(KEYRING_SERVICE, "secret-service-test") is None
