"""Chat titles by a remote model: llama.cpp's server (llama-cpp-python[server]) serving the demo
model, a server that cannot skip the thinking. The chat is renamed from the model's words, its
thinking left out; a reply still thinking at the cap keeps the question as title, silently.

Skipped unless the peer is built (tools/remote_peer.sh), as tests/engine/remote/test_llama_peer.py.
"""

from __future__ import annotations


import httpx2
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPlainTextEdit

from app.history import titles
from app.history.titles import TITLE_SESSION, clean_title, title_request
from engine.reasoning import THINK_END
from engine.remote.connections import Connection, ConnectionStore
from engine.remote.turn import request_body
from tests.app.history.conftest import window_history
from tests.engine.remote.peers import GGUF, LLAMA_PEER_MARKS, LlamaPeer

WAIT_MS = 60_000
QUESTION = "What is 2 plus 3?"

pytestmark = LLAMA_PEER_MARKS


@pytest.fixture(scope="module")
def peer():
    server = LlamaPeer(GGUF)
    yield server
    server.stop()


@pytest.fixture
def remote_app(qtbot, qloop, ponder_home, peer):
    """The real window, its model the saved connection 'llama' (the peer's model 'demo')."""
    from app.main import build_app

    ConnectionStore.for_paths(ponder_home).add(Connection("llama", peer.url, "demo"))
    app = build_app(QApplication.instance(), ponder_home, model="remote:llama")
    app.settings.set("temperature", 0.05)  # the demo model is reliable only near-greedy
    app.show()
    app.start_loading()
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=WAIT_MS)
    assert getattr(app.controller.model, "endpoint", None) is not None
    yield app
    app.controller.stop()
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=30_000)
    app.window.close()
    app.shutdown()
    app.window.deleteLater()


@pytest.fixture
def history(remote_app, memory_keyring, tmp_path):
    panel = window_history(remote_app.window, memory_keyring, tmp_path / "history")
    panel.titles.include_demo = True  # the demo's titles are nonsense; here they are the point
    return panel


def _ask_and_wait(qtbot, app, text):
    box = app.window.findChild(QPlainTextEdit, "chatInput")
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.controller.conversation.exchanges and not app.controller.busy, timeout=WAIT_MS)


def _titled(history, conversation_id):
    return conversation_id in history.titles._done and not history.titles.running


def test_a_chat_on_a_remote_model_is_titled_from_the_models_words(remote_app, history, qtbot, peer, monkeypatch):
    requests = []
    assistant = remote_app.controller.assistant
    chat = assistant.chat
    monkeypatch.setattr(assistant, "chat", lambda request, **kw: requests.append((request, kw)) or chat(request, **kw))
    _ask_and_wait(qtbot, remote_app, QUESTION)
    first = remote_app.controller.conversation.exchanges[0]
    assert first.reply.answer.strip(), first.reply.error
    [summary] = history.store.list_conversations()
    qtbot.waitUntil(lambda: _titled(history, summary.id), timeout=WAIT_MS)
    [asked] = [r for r, kw in requests if kw.get("session") == TITLE_SESSION]
    # One short greedy request; this server cannot skip the thinking, so it has room for some.
    assert asked.sampling.greedy and asked.max_new_tokens == titles.THINKING_MAX_TOKENS
    # What the same request gets from the server (greedy: the same words), thinking and all.
    caps = remote_app.controller.model.capabilities
    body = {**request_body(title_request(first, caps), caps), "model": "demo", "stream": False}
    body.pop("stream_options")
    raw = httpx2.post(peer.url + "/chat/completions", json=body, timeout=60).json()["choices"][0]["message"]["content"]
    assert THINK_END in raw  # the demo thinks first: that part is no title
    title = history.store.summary(summary.id).title
    assert title == clean_title(raw.split(THINK_END, 1)[1]) and title != QUESTION
    heading = remote_app.window.findChild(QLabel, "windowHeading")
    qtbot.waitUntil(lambda: heading.text() == title)


def test_a_reply_still_thinking_at_the_cap_keeps_the_question_silently(remote_app, history, qtbot, monkeypatch):
    monkeypatch.setattr(titles, "THINKING_MAX_TOKENS", 4)  # the demo's thinking runs past it
    _ask_and_wait(qtbot, remote_app, QUESTION)
    [summary] = history.store.list_conversations()
    qtbot.waitUntil(lambda: _titled(history, summary.id), timeout=WAIT_MS)
    assert history.store.summary(summary.id).title == QUESTION
    assert not remote_app.window.notice_banner.isVisible()


def test_switched_off_no_title_is_asked_of_the_server(remote_app, history, qtbot):
    remote_app.settings.set("model_titles", False)
    _ask_and_wait(qtbot, remote_app, QUESTION)
    assert not history.titles.running and not history.titles._done
    assert [s.title for s in history.store.list_conversations()] == [QUESTION]
