"""`ponder models …` end to end, against the fake hub; then the model loads by name."""

from __future__ import annotations

import json
import shutil

import pytest

from app.cli import main
from tests.engine.download.conftest import served_model
from tests.engine.download.fake_hub import serving

PLUS = "microsoft/Phi-4-reasoning-plus-onnx"


@pytest.fixture
def plus_hub(monkeypatch):
    with serving(PLUS, served_model(), "gpu/gpu-int4-rtn-block-32") as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        yield fake


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_download_then_list_verify_ask_remove(plus_hub, ponder_home, capsys):
    rc = main(["models", "download", "phi-4-reasoning-plus", "--variant", "gpu-int4", "--name", "plus", "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    lines = _json_lines(out.out)
    assert lines[-1]["type"] == "done" and lines[-1]["name"] == "plus"
    assert any(line["type"] == "progress" and line["phase"] == "verifying" for line in lines)
    assert "needs an NVIDIA GPU" in out.err  # the warning for a choice that will not run here

    assert main(["models", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(m["name"], m["model"], m["source"]) for m in listing["installed"]] == [
        ("plus", "phi-4-reasoning-plus", "download")]
    assert listing["disk_bytes"] > 0

    assert main(["models", "verify", "plus"]) == 0
    assert "match their sha256" in capsys.readouterr().out

    from engine.catalog.load import load_catalog
    from engine.catalog.setup import setup_for_spec
    assert setup_for_spec("plus", ponder_home).chat_format == load_catalog().model("phi-4-reasoning-plus").chat_format
    assert main(["ask", "--model", "plus", "--max-new-tokens", "3", "--json", "What is 2 plus 3?"]) == 0
    assert _json_lines(capsys.readouterr().out)[-1]["type"] == "done"

    assert main(["models", "remove", "plus", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["freed_bytes"] > 0
    assert not (ponder_home.models / "plus").exists()


def test_download_of_an_unknown_model_lists_the_choices(ponder_home, capsys):
    assert main(["models", "download", "gpt-5"]) == 2
    assert "phi-4-mini-reasoning" in capsys.readouterr().err


def test_a_download_that_cannot_reach_the_server_says_what_to_do(ponder_home, capsys, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    rc = main(["models", "download", "phi-4-reasoning-plus", "--variant", "gpu-int4"])
    err = capsys.readouterr().err
    assert rc == 7 and "try again" in err and "Traceback" not in err


def test_import_verify_and_remove_from_the_command_line(ponder_home, capsys, tmp_path):
    src = tmp_path / "stick" / "my model"
    shutil.copytree(served_model(), src)
    assert main(["models", "import", str(src), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "my-model"
    assert main(["models", "import", str(src)]) == 3
    assert "already installed" in capsys.readouterr().err
    assert main(["models", "remove", "my-model"]) == 0
    assert main(["models", "remove", "my-model"]) == 3


def test_recommend_prints_reasons_and_the_command(ponder_home, capsys):
    assert main(["models", "recommend"]) == 0
    out = capsys.readouterr().out
    assert "→" in out and "ponder models download" in out
    assert main(["models", "recommend", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reasons"]
