"""Every command loads through the host: installed files are verified and the catalog setup is
applied, on a model whose catalog format differs from its folder's own (the demo model installed
as Phi-4-reasoning, which wants ChatML and a system prompt)."""

from __future__ import annotations

import io
import json

from app.cli import main
from engine.prompt import ChatFormat
from tests.engine.host.models import assert_refused_as_damaged, damage

QUESTION = "What is 2 plus 3?"


def test_ask_prompts_with_the_catalog_format(reasoning, catalog_format, loads, ponder_home, capsys):
    from engine.models import resolve_model
    from engine.quick_actions.tokenizer import load_tokenizer, rendered_prompt
    from engine.request import ask

    rc = main(["ask", "--model", "r", "--greedy", "--json", "--max-new-tokens", "1", QUESTION])
    out = capsys.readouterr()
    assert rc == 0, out.err
    done = json.loads(out.out.splitlines()[-1])
    folder = resolve_model("r", ponder_home)
    tokenizer = load_tokenizer(folder)

    def tokens(fmt):
        return len(tokenizer.encode(rendered_prompt(folder, ask(QUESTION), fmt)))

    assert tokens(catalog_format) != tokens(ChatFormat())
    assert done["stats"]["prompt_tokens"] == tokens(catalog_format)  # the system prompt was sent
    assert loads[0].chat_format == catalog_format


def test_ask_refuses_a_damaged_model(reasoning, loads, capsys):
    damage(reasoning)
    rc = main(["ask", "--model", "r", QUESTION])
    assert_refused_as_damaged(rc, capsys.readouterr().err, loads)


def test_act_uses_the_catalog_format_and_verifies(reasoning, catalog_format, loads, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("Two plus three is five."))
    rc = main(["act", "--source", "stdin", "--action", "explain", "--model", "r", "--greedy", "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert loads[0].chat_format == catalog_format
    assert loads[0].spec == "r"  # by name, so the store's checks apply

    damage(reasoning)
    loads.clear()
    monkeypatch.setattr("sys.stdin", io.StringIO("Two plus three is five."))
    rc = main(["act", "--source", "stdin", "--action", "explain", "--model", "r"])
    assert_refused_as_damaged(rc, capsys.readouterr().err, loads)


def test_act_print_prompt_shows_the_catalog_system_prompt(reasoning, catalog_format, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("Two plus three is five."))
    rc = main(["act", "--source", "stdin", "--action", "explain", "--model", "r", "--print-prompt"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert catalog_format.system_prompt[:60] in out.out


def test_summarize_uses_the_catalog_format_and_verifies(reasoning, catalog_format, loads, tmp_path, capsys):
    document = tmp_path / "note.txt"
    document.write_text("Ponder runs a reasoning model offline. It summarises documents.", encoding="utf-8")
    rc = main(["summarize", str(document), "--model", "r", "--length", "short", "--json"])
    out = capsys.readouterr()
    assert loads[0].chat_format == catalog_format
    # The demo's tokenizer spends ~1,900 of its 2,048 tokens of context on this system prompt, so
    # the step may not fit: the error says so (the prompt it counted had the system prompt in it).
    assert rc == 0 or (rc == 5 and "too long" in out.err), out.err

    damage(reasoning)
    loads.clear()
    rc = main(["summarize", str(document), "--model", "r"])
    assert_refused_as_damaged(rc, capsys.readouterr().err, loads)


def test_doctor_uses_the_catalog_format_and_verifies(reasoning, catalog_format, loads, capsys):
    assert main(["doctor", "--model", "r", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chosen"] == "cpu"
    assert loads[0].chat_format == catalog_format

    damage(reasoning)
    loads.clear()
    rc = main(["doctor", "--model", "r", "--json"])
    out = capsys.readouterr()
    assert rc == 3 and "damaged" in json.loads(out.out)["error"] and loads == []


def test_self_test_uses_the_catalog_format_and_verifies(reasoning, catalog_format, loads, ponder_home, monkeypatch):
    import argparse

    from engine import selftest

    checks = dict(selftest.CHECKS)
    monkeypatch.setattr(selftest, "CHECKS", (("load model", checks["load model"]), ("generate", checks["generate"])))
    args = argparse.Namespace(model="r", provider="auto")
    out = io.StringIO()
    assert selftest.run_self_test(args, ponder_home, out) == 0, out.getvalue()
    assert loads[0].chat_format == catalog_format

    damage(reasoning)
    loads.clear()
    out = io.StringIO()
    assert selftest.run_self_test(args, ponder_home, out) == 1
    assert "FAIL  load model" in out.getvalue() and "damaged" in out.getvalue() and loads == []
