"""`ponder serve` as a user runs it: a subprocess on the demo model, driven by the openai client."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from tests.engine.api.conftest import ANSWER, QUESTION, THINKING

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[3]


def ponder(tmp_path, *args, **env):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "ORT_DISABLE_TELEMETRY": "1", **env}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "-v", "--data-dir", str(tmp_path / "home"), "serve", *args],
                            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(process, lines: list[str]) -> str:
    for line in process.stderr:
        lines.append(line)
        found = re.search(r"ready: model 'demo' at (http://\S+/v1)", line)
        if found:
            return found.group(1)
    raise AssertionError("ponder serve never became ready:\n" + "".join(lines))


def test_ponder_serve_answers_the_openai_client_and_stops_on_ctrl_c(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("pk-subprocess-test-key-123456\n")
    process = ponder(tmp_path, "--model", "demo", "--port", "0", "--api-key-file", str(key_file))
    try:
        lines: list[str] = []
        url = wait_ready(process, lines)
        with openai.OpenAI(base_url=url, api_key="pk-subprocess-test-key-123456", max_retries=0) as client:
            completion = client.chat.completions.create(model="demo", messages=[{"role": "user", "content": QUESTION}])
            assert completion.choices[0].message.content == ANSWER
            assert completion.choices[0].message.model_extra["reasoning_content"] == THINKING
            streamed = "".join(chunk.choices[0].delta.content or "" for chunk in client.chat.completions.create(
                model="demo", messages=[{"role": "user", "content": QUESTION}], stream=True) if chunk.choices)
            assert streamed == ANSWER
        with openai.OpenAI(base_url=url, api_key="pk-wrong-key", max_retries=0) as stranger, \
                pytest.raises(openai.AuthenticationError):
            stranger.models.list()
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=20)
        assert process.returncode == 0
        log = "".join(lines) + rest
        assert "engine.api.server" in log  # -v: every request is logged…
        assert QUESTION not in log and ANSWER not in log  # …without the prompt or the answer
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_ponder_serve_refuses_other_addresses_without_a_key(tmp_path):
    process = ponder(tmp_path, "--host", "0.0.0.0", "--port", "0",
                     PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "API key" in err and "--api-key-file" in err
    assert "Traceback" not in err


def test_ponder_serve_says_how_many_sessions_it_can_keep(tmp_path):
    process = ponder(tmp_path, "--sessions", "9")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "'9' is not a number of sessions (1-4)" in err and "Traceback" not in err


def history(tmp_path, *args, stdin=""):
    """`ponder history …` on the same data folder as ponder() (no secure keyring: a definite one)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "ORT_DISABLE_TELEMETRY": "1",
                   "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    return subprocess.run([sys.executable, "-m", "app.cli", "--data-dir", str(tmp_path / "home"), "history", *args],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, input=stdin)


def test_ponder_serve_save_history_saves_answered_requests(tmp_path):
    import json

    assert history(tmp_path, "setup", "--passphrase", "--passphrase-stdin", stdin="pw one\n").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--data-dir", str(tmp_path / "home"), "serve", "--model", "demo",
         "--port", "0", "--save-history", "--passphrase-stdin"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "ORT_DISABLE_TELEMETRY": "1",
                       "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        process.stdin.write("pw one\n")
        process.stdin.close()
        process.stdin = None  # communicate() below has nothing more to send
        lines: list[str] = []
        url = wait_ready(process, lines)
        assert "answered requests are saved to the history" in lines[-1]
        with openai.OpenAI(base_url=url, api_key="unused", max_retries=0) as client:
            messages = [{"role": "user", "content": QUESTION}]
            assert client.chat.completions.create(model="demo", messages=messages).choices[0].message.content == ANSWER
            messages += [{"role": "assistant", "content": ANSWER}, {"role": "user", "content": "What is 5 plus 4?"}]
            "".join(chunk.choices[0].delta.content or "" for chunk in client.chat.completions.create(
                model="demo", messages=messages, stream=True) if chunk.choices)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    [row] = json.loads(history(tmp_path, "list", "--json", "--passphrase-stdin", stdin="pw one\n").stdout)
    assert row["title"] == f"API · {QUESTION}" and row["messages"] == 4
    shown = json.loads(history(tmp_path, "show", str(row["id"]), "--json", "--passphrase-stdin",
                               stdin="pw one\n").stdout)
    answer = shown["conversation"]["messages"][1]
    assert (answer["content"], answer["thinking"], answer["model"]) == (ANSWER, THINKING, "demo")


def test_ponder_serve_refuses_save_history_when_the_history_is_locked(tmp_path):
    assert history(tmp_path, "setup", "--passphrase", "--passphrase-stdin", stdin="pw one\n").returncode == 0
    process = ponder(tmp_path, "--model", "demo", "--port", "0", "--save-history",
                     PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 9, err
    assert "--save-history was given, and the history cannot be opened" in err
    assert "protected by a passphrase" in err and "--passphrase-stdin" in err
    assert "listening" not in err and "Traceback" not in err


def test_ponder_serve_with_the_setting_on_and_a_locked_history_warns_and_serves(tmp_path):
    from engine.paths import resolve_paths
    from engine.settings import Settings, SettingsStore

    assert history(tmp_path, "setup", "--passphrase", "--passphrase-stdin", stdin="pw one\n").returncode == 0
    settings = Settings()
    settings.set("api_save_history", True)
    SettingsStore(resolve_paths(tmp_path / "home").settings_file).save(settings)
    process = ponder(tmp_path, "--model", "demo", "--port", "0",
                     PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    try:
        lines: list[str] = []
        wait_ready(process, lines)
        log = "".join(lines)
        assert "serving WITHOUT saving requests to the history" in log and "protected by a passphrase" in log
        assert "saved to the history" not in lines[-1]
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
