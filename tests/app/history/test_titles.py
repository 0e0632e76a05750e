"""Chat titles by the model: cleaned from its reply, made in the background on the real demo
model (allowed here by a flag: its titles are nonsense), never over a name the user chose."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit

from app.chat.conversation import Exchange, Phase, Reply
from app.history.titles import MAX_TOKENS, THINKING_MAX_TOKENS, TITLE_LENGTH, TITLE_SESSION, clean_title, title_request
from engine.remote.capabilities import ServerKind, capabilities_for
from tests.app.history.conftest import window_history

TURN_TIMEOUT_MS = 60_000


@pytest.mark.parametrize(("reply", "title"), [
    ('"Adding Two Numbers"', "Adding Two Numbers"),
    ("Title: **Sum of 2 and 3**.", "Sum of 2 and 3"),
    ("</think>\n\n  Mental arithmetic  \nsecond line", "Mental arithmetic"),
    ("<|end|>", ""),
    ("  \n“”\n", ""),
    ("word " * 30, ("word " * 30)[:TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"),
])
def test_the_models_reply_is_cleaned_into_one_short_line(reply, title):
    cleaned = clean_title(reply)
    assert cleaned == title
    assert len(cleaned) <= TITLE_LENGTH and "\n" not in cleaned


@pytest.mark.parametrize(("server", "cap"), [
    (None, MAX_TOKENS),  # the local engine closes the thinking itself
    (ServerKind.LLAMA_CPP, MAX_TOKENS), (ServerKind.VLLM, MAX_TOKENS), (ServerKind.PONDER, MAX_TOKENS),
    (ServerKind.LLAMA_CPP_PYTHON, THINKING_MAX_TOKENS), (ServerKind.OLLAMA, THINKING_MAX_TOKENS),
    (ServerKind.OPENAI, THINKING_MAX_TOKENS),
])
def test_a_title_gets_room_to_think_only_where_the_server_cannot_skip_the_thinking(server, cap):
    exchange = Exchange("What is 2 plus 3?", reply=Reply(answer="It is 5.", phase=Phase.DONE))
    request = title_request(exchange, None if server is None else capabilities_for(server))
    assert request.max_new_tokens == cap and request.resume_thinking == "" and request.close_thinking
    assert MAX_TOKENS < THINKING_MAX_TOKENS <= 512  # a bound on what a long thinker costs the server


@pytest.fixture
def history(ponder, memory_keyring, tmp_path):
    return window_history(ponder.window, memory_keyring, tmp_path / "history")


def _ask(qtbot, app, text):
    box = app.window.findChild(QPlainTextEdit, "chatInput")
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _idle(qtbot, app):
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=TURN_TIMEOUT_MS)


def test_a_new_chat_is_titled_by_the_model_after_its_first_answer(ponder, history, qtbot, monkeypatch):
    requests = []
    assistant = ponder.controller.assistant
    chat = assistant.chat
    monkeypatch.setattr(assistant, "chat", lambda request, **kw: requests.append((request, kw)) or chat(request, **kw))
    history.titles.include_demo = True
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _idle(qtbot, ponder)
    [summary] = history.store.list_conversations()
    qtbot.waitUntil(lambda: history.store.summary(summary.id).title != "What is 2 plus 3?", timeout=TURN_TIMEOUT_MS)
    title = history.store.summary(summary.id).title
    assert title == clean_title(title) and 0 < len(title) <= TITLE_LENGTH
    heading = ponder.window.findChild(QLabel, "windowHeading")
    qtbot.waitUntil(lambda: heading.text() == title)
    [(asked, options)] = [(r, kw) for r, kw in requests if kw.get("session") == TITLE_SESSION]
    # No thinking (closed before it starts), greedy, a few tokens, on a session of its own.
    assert asked.resume_thinking == "" and asked.close_thinking and asked.sampling.greedy
    assert asked.max_new_tokens <= 32 and "What is 2 plus 3?" in asked.messages[-1].content
    # A follow-up does not title the chat again, and reuses the chat's own cache.
    _ask(qtbot, ponder, "What is 4 plus 4?")
    _idle(qtbot, ponder)
    assert sum(kw.get("session") == TITLE_SESSION for _r, kw in requests) == 1
    assert ponder.controller.conversation.last.reply.stats.cached_prompt_tokens > 0


def test_no_title_on_the_demo_model_or_when_switched_off(ponder, history, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")  # the demo model, without the tests' flag
    _idle(qtbot, ponder)
    assert not history.titles.running
    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    history.titles.include_demo = True
    ponder.settings.set("model_titles", False)
    _ask(qtbot, ponder, "What is 4 plus 4?")
    _idle(qtbot, ponder)
    assert not history.titles.running
    assert sorted(s.title for s in history.store.list_conversations()) == ["What is 2 plus 3?", "What is 4 plus 4?"]


def test_a_name_the_user_chose_is_kept(ponder, history, qtbot):
    history.titles.include_demo = True
    _ask(qtbot, ponder, "What is 2 plus 3?")
    [summary] = history.store.list_conversations()
    history.store.rename(summary.id, "My sums")  # while the answer streams
    _idle(qtbot, ponder)
    qtbot.waitUntil(lambda: not history.titles.running, timeout=TURN_TIMEOUT_MS)
    assert history.titles._done == {summary.id}  # asked, and the answer not used
    assert history.store.summary(summary.id).title == "My sums"


def test_a_question_sent_meanwhile_goes_first_and_the_title_follows(ponder, history, qtbot):
    history.titles.include_demo = True
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _idle(qtbot, ponder)
    assert history.titles.running  # started as soon as the window was idle
    _ask(qtbot, ponder, "What is 4 plus 4?")  # the title work stops for it
    assert ponder.controller.busy and not history.titles.running
    _idle(qtbot, ponder)
    [summary] = history.store.list_conversations()
    qtbot.waitUntil(lambda: history.store.summary(summary.id).title != "What is 2 plus 3?", timeout=TURN_TIMEOUT_MS)
    assert ponder.controller.conversation.last.reply.answer


def test_closing_the_window_drops_title_work(ponder, history, qtbot):
    history.titles.include_demo = True
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _idle(qtbot, ponder)
    assert history.titles.running
    history.close()
    assert not history.titles.running
