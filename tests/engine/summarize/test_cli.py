"""`ponder summarize` as a user runs it: JSON lines, --out, folders, and one clear line on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.documents import corpus

ROOT = Path(__file__).resolve().parents[3]


def ponder(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PONDER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "app", "summarize", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_json_output_ends_with_the_summary_and_its_sourced_points(tmp_path, report_pdf, model_dir):
    result = ponder(str(report_pdf), "--json", "--model", str(model_dir), "--length", "short", home=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["type"] for line in lines[:-1]] == ["progress"] * (len(lines) - 1)
    sections = [line for line in lines if line["type"] == "progress" and line["stage"] == "sections"]
    done = lines[-1]
    assert done["type"] == "done" and done["sections"] == len(sections) >= 3
    assert done["summary"].strip() and done["points"]
    assert all(point["source"].startswith(("p. ", "pp. ")) for point in done["points"])
    assert done["stats"]["map_steps"] == done["sections"]


@pytest.mark.slow
def test_out_writes_markdown_and_folders_skip_unreadable_files(tmp_path, model_dir):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "notes.md").write_text("# Plan\nShip the release on Friday.\n")
    corpus.encrypted_pdf(folder / "locked.pdf")
    (folder / "locked.plain.pdf").unlink()
    out = tmp_path / "summary.md"
    result = ponder(str(folder), "--out", str(out), "--model", str(model_dir), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text().strip()
    # The readable file was summarised (progress names its section); the demo model's words
    # about a non-arithmetic text are not stable enough to assert on.
    assert "Section 1 of 1 (§ Plan)" in result.stderr
    assert "skipped locked.pdf: the document is protected by a password" in result.stderr


@pytest.mark.parametrize("case", ["encrypted pdf", "binary as txt", "empty file", "500 MB text", "zip bomb docx",
                                  "deflate bomb pdf"])
def test_bad_input_exits_non_zero_with_one_clear_line(tmp_path, case):
    from tests.engine.documents.test_hostile import CORPUS

    build, _, words = CORPUS[case]
    path = build(tmp_path)
    result = ponder(str(path), home=tmp_path / "home")
    assert result.returncode == 10
    assert result.stdout == ""
    # Progress lines, then exactly one message, naming the file and the reason; no traceback.
    messages = [line for line in result.stderr.splitlines() if line.startswith("ponder:")]
    assert messages == [result.stderr.splitlines()[-1]]
    assert messages[0].startswith(f"ponder: {path.name}: ") and words.lower() in messages[0].lower()
    assert "Traceback" not in result.stderr


def test_bad_options_and_missing_files_are_refused_before_any_work(tmp_path):
    missing = ponder(str(tmp_path / "nope.pdf"), "--json", home=tmp_path)
    assert missing.returncode == 2
    assert json.loads(missing.stdout.splitlines()[-1]) == {"type": "error", "message": "nope.pdf: no such file"}
    bad_out = ponder(str(tmp_path), "--out", str(tmp_path / "no" / "such" / "dir.md"), home=tmp_path)
    assert bad_out.returncode == 2 and "does not exist" in bad_out.stderr
    bad_length = ponder(str(tmp_path), "--length", "tiny", home=tmp_path)
    assert bad_length.returncode == 2 and "invalid choice" in bad_length.stderr


@pytest.mark.slow
def test_text_piped_on_standard_input_is_summarised(tmp_path, model_dir):
    env = {**os.environ, "PONDER_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "app", "summarize", "-", "--json", "--model", str(model_dir)],
                            cwd=ROOT, env=env, input="# Risks\nThe server is slow.\n", capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["type"] == "done" and all(p["source"] == "§ Risks" for p in done["points"])


@pytest.mark.slow
def test_ctrl_c_keeps_the_points_and_the_next_run_resumes(tmp_path, report_pdf, model_dir):
    import signal

    env = {**os.environ, "PONDER_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "app", "summarize", str(report_pdf), "--json", "--model", str(model_dir)]
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in child.stdout:
        lines.append(json.loads(line))
        if lines[-1].get("stage") == "sections" and lines[-1]["step"] == 3:
            child.send_signal(signal.SIGINT)
            break
    rest, errors = child.communicate(timeout=120)
    lines += [json.loads(line) for line in rest.splitlines()]
    assert child.returncode == 130, errors
    done = lines[-1]
    assert done["type"] == "done" and done["partial"] is True
    assert 2 <= len(done["points"]) and done["stats"]["map_steps"] >= 2
    assert "Run the same command again to continue" in errors

    again = ponder(str(report_pdf), "--json", "--model", str(model_dir), home=tmp_path)
    assert again.returncode == 0, again.stderr
    progress = [json.loads(line) for line in again.stdout.splitlines()]
    first = next(p for p in progress if p.get("stage") == "sections")
    assert first["resumed"] >= 2 and first["step"] == first["resumed"] + 1
    assert json.loads(again.stdout.splitlines()[-1])["stats"]["resumed_steps"] >= 2
