"""`ponder ask` as a person runs it: a real process, the real demo model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest


def ponder(*args, env=None, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, **kw)


def test_ask_streams_thinking_to_stderr_and_the_answer_to_stdout(ponder_home):
    result = ponder("ask", "--model", "demo", "--greedy", "What is 37 plus 45?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The answer is 82."
    assert "7" in result.stderr and "5" in result.stderr  # the digit-by-digit thinking


def test_no_show_thinking(ponder_home):
    result = ponder("ask", "--model", "demo", "--greedy", "--no-show-thinking", "What is 2 plus 3?")
    assert result.returncode == 0
    assert result.stdout.strip() == "The answer is 5." and result.stderr == ""


def test_json_lines(ponder_home):
    result = ponder("ask", "--model", "demo", "--greedy", "--json", "What is 37 plus 45?")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["type"] for line in lines[:-1]} <= {"progress", "thinking", "answer"}
    done = lines[-1]
    # The prompt is read first: progress over the tokens computed (og's count; none cached here).
    progress = [line for line in lines if line["type"] == "progress"]
    assert lines[0] == {"type": "progress", "done": 0, "total": 28} and progress[-1]["done"] == 27
    assert all(line["total"] == done["stats"]["computed_prompt_tokens"] == 28 for line in progress)
    assert done["stats"]["cached_prompt_tokens"] == 0 and done["stats"]["prompt_tokens"] == 28
    assert lines.index(progress[-1]) < min(i for i, x in enumerate(lines) if x["type"] == "thinking")
    assert done["type"] == "done" and done["finish_reason"] == "stop"
    assert done["answer"] == "The answer is 82."
    assert done["answer"] == "".join(x["text"] for x in lines if x["type"] == "answer")
    assert done["thinking"] == "".join(x["text"] for x in lines if x["type"] == "thinking")
    assert done["stats"]["thinking_tokens"] > 0 and done["stats"]["time_to_first_token_s"] is not None


def test_thinking_budget_is_reported(ponder_home):
    result = ponder("ask", "--model", "demo", "--greedy", "--thinking-budget", "2", "--json", "What is 37 plus 45?")
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["finish_reason"] == "thinking_budget" and done["thinking_forced"]


@pytest.mark.parametrize("args,code,message", [
    (["ask", "--model", "demo", "--thinking-budget", "lots", "hi"], 2, "Thinking budget"),
    (["ask", "--model", "/no/such/model", "hi"], 3, "No model found"),
    (["ask", "--model", "demo", "--provider", "warp-drive", "hi"], 2, "invalid choice"),
    (["ask", "--model", "demo", "   "], 2, "empty"),
    (["ask", "--model", "demo", "--provider", "cuda", "hi"], 4, "CUDA"),
])
def test_bad_arguments_give_one_line_and_an_exit_code(ponder_home, args, code, message):
    result = ponder(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_ctrl_c_stops_cleanly(ponder_home):
    proc = subprocess.Popen([sys.executable, "-m", "app", "ask", "--model", "demo", "What is 1 plus 1?"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stderr.read(1)  # the thinking has started: the process is past start-up
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    # Either the signal arrived before the answer (stopped) or after (a normal finish).
    assert proc.returncode in (130, 0)
    if proc.returncode == 130:
        assert "stopped" in err


def test_telemetry_folder_is_never_created(tmp_path):
    """onnxruntime writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime unless disabled; CI
    variables disable it silently, so they are removed here to see the app's own behaviour."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE",
                        "CIRCLECI", "TRAVIS", "ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE"}}
    env["HOME"] = str(tmp_path)
    env["PONDER_HOME"] = str(tmp_path / "ponder")
    result = ponder("ask", "--model", "demo", "--greedy", "What is 2 plus 2?", env=env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".cache" / "Microsoft").exists()
    doctor = ponder("doctor", env=env)
    assert doctor.returncode == 0
    assert not (tmp_path / ".cache" / "Microsoft").exists()
