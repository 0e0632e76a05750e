"""`ponder history …` and `ponder ask --save` as a person runs them: real processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest


pytestmark = pytest.mark.slow  # each test starts several real processes


def ponder(*args, stdin: str = "", keyring: str = "keyring.backends.null.Keyring"):
    # A definite keyring, whatever this machine's D-Bus offers: here, none that is secure.
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": keyring}
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=180, env=env, input=stdin)


def test_first_use_without_a_secure_keyring_asks_for_a_choice(ponder_home, tmp_path):
    result = ponder("history", "list", keyring="keyrings.alt.file.PlaintextKeyring")
    assert result.returncode == 9
    assert "No secure system keyring" in result.stderr
    assert "ponder history setup --passphrase" in result.stderr
    assert "ponder history setup --unencrypted" in result.stderr
    assert "Traceback" not in result.stderr
    as_json = json.loads(ponder("history", "list", "--json").stdout)
    assert as_json["reason"] == "setup_needed" and as_json["choices"] == ["passphrase",
                                                                         "unencrypted"]


def test_passphrase_store_locked_without_it(ponder_home):
    assert ponder("history", "setup", "--passphrase", "--passphrase-stdin",
                  stdin="hunter2 hunter2\n").returncode == 0
    locked = ponder("history", "list")
    assert locked.returncode == 9 and "protected by a passphrase" in locked.stderr
    assert "ponder history recover --new-store" in locked.stderr
    ok = ponder("history", "list", "--passphrase-stdin", stdin="hunter2 hunter2\n")
    assert ok.returncode == 0 and "No saved conversations." in ok.stdout


def test_ask_save_then_list_show_search_export_import(ponder_home, tmp_path):
    assert ponder("history", "setup", "--unencrypted").returncode == 0
    asked = ponder("ask", "--model", "demo", "--greedy", "--save", "What is 37 plus 45?")
    assert asked.returncode == 0, asked.stderr
    [row] = json.loads(ponder("history", "list", "--json").stdout)
    assert row["title"] == "What is 37 plus 45?" and row["messages"] == 2
    shown = json.loads(ponder("history", "show", str(row["id"]), "--json").stdout)
    answer = shown["conversation"]["messages"][1]
    assert answer["content"] == "The answer is 82." and answer["thinking"]
    assert answer["model"] == "demo" and answer["complete"] and answer["finish_reason"] == "stop"
    hits = json.loads(ponder("history", "search", "answer", "--json").stdout)
    assert hits[0]["field"] == "content" and hits[0]["highlights"] == ["answer"]
    out = tmp_path / "chat.md"
    exported = ponder("history", "export", str(row["id"]), "--format", "md", "--out", str(out))
    assert exported.returncode == 0 and "<details>" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    as_json = tmp_path / "chat.json"
    ponder("history", "export", str(row["id"]), "--format", "json", "--out", str(as_json))
    assert ponder("history", "import", str(as_json)).returncode == 0
    assert len(json.loads(ponder("history", "list", "--json").stdout)) == 2


def test_list_show_export_errors(ponder_home, tmp_path):
    assert ponder("history", "setup", "--unencrypted").returncode == 0
    listed = ponder("history", "list")
    assert listed.returncode == 0 and "No saved conversations." in listed.stdout
    missing = ponder("history", "show", "42")
    assert missing.returncode == 2 and "no conversation 42" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not json")
    imported = ponder("history", "import", str(bad))
    assert imported.returncode == 2 and "not UTF-8" in imported.stderr
    gone = ponder("history", "import", str(tmp_path / "nope.json"))
    assert gone.returncode == 1 and "nope.json" in gone.stderr and "Traceback" not in gone.stderr


def test_changing_the_passphrase_from_the_command_line(ponder_home):
    assert ponder("history", "setup", "--passphrase", "--passphrase-stdin", stdin="first\n").returncode == 0
    wrong = ponder("history", "passphrase", "--passphrase-stdin", stdin="nope\nsecond\n")
    assert wrong.returncode == 9 and "Traceback" not in wrong.stderr
    changed = ponder("history", "passphrase", "--passphrase-stdin", stdin="first\nsecond\n")
    assert changed.returncode == 0, changed.stderr
    assert ponder("history", "list", "--passphrase-stdin", stdin="first\n").returncode == 9
    assert ponder("history", "list", "--passphrase-stdin", stdin="second\n").returncode == 0


def test_use_keyring_without_a_secure_keyring_says_so(ponder_home):
    assert ponder("history", "setup", "--passphrase", "--passphrase-stdin", stdin="first\n").returncode == 0
    result = ponder("history", "use-keyring", "--passphrase-stdin", stdin="first\n")
    assert result.returncode == 9 and "No secure system keyring" in result.stderr
    assert ponder("history", "list", "--passphrase-stdin", stdin="first\n").returncode == 0
