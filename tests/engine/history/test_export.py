"""Markdown and JSON export, and importing Ponder JSON back (or refusing anything else)."""

from __future__ import annotations

import json

import pytest

from engine.history.errors import HistoryImportError
from engine.history.export import import_json, to_json, to_markdown
from engine.history.records import ChatSettings, MessageMeta, MessageStatus


@pytest.fixture
def conversation(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "What is 2 plus 3?")
    writer = store.start_message(conv.id, MessageMeta(model="demo", provider="cpu"))
    writer.add_thinking("2 + 3 = 5")
    writer.add_answer("The answer is 5.")
    writer.finish(MessageMeta(model="demo", provider="cpu", stats={"answer_tokens": 6}))
    return store.conversation(conv.id)


def test_markdown_puts_thinking_in_details(conversation):
    text = to_markdown(conversation)
    assert text.startswith("# What is 2 plus 3?\n")
    assert "## You\n\nWhat is 2 plus 3?" in text
    assert "## Ponder (demo, cpu)" in text
    assert "<details>\n<summary>Thinking</summary>\n\n2 + 3 = 5\n\n</details>" in text
    assert text.index("</details>") < text.index("The answer is 5.")


def test_json_round_trip(store, conversation):
    exported = to_json(conversation)
    new_id = import_json(store, exported)
    copy = store.conversation(new_id)
    assert copy.summary.uid != conversation.summary.uid  # imported twice → two conversations
    assert [(m.role, m.content, m.thinking, m.meta) for m in copy.messages] == \
        [(m.role, m.content, m.thinking, m.meta) for m in conversation.messages]
    assert json.loads(to_json(copy))["conversation"]["messages"] == \
        json.loads(exported)["conversation"]["messages"]


def test_a_chats_own_settings_travel_with_its_export(store, conversation):
    wanted = ChatSettings(system_prompt="Answer in one line.", temperature=0.4, effort="high")
    store.set_chat_settings(conversation.summary.id, wanted)
    exported = to_json(store.conversation(conversation.summary.id))
    assert json.loads(exported)["conversation"]["settings"] == {
        "system_prompt": "Answer in one line.", "temperature": 0.4, "effort": "high"}
    assert store.conversation(import_json(store, exported)).settings == wanted


def test_import_keeps_uid_into_an_empty_store(vault, conversation, tmp_path):
    exported = to_json(conversation)
    with vault.new_store() as other:
        new_id = import_json(other, exported)
        assert other.summary(new_id).uid == conversation.summary.uid


def test_interrupted_answer_is_marked(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "q")
    writer = store.start_message(conv.id)
    writer.add_answer("half an ans")
    writer.flush()
    exported = store.conversation(conv.id)
    assert exported.messages[-1].status is MessageStatus.STREAMING
    assert "*(this answer was interrupted)*" in to_markdown(exported)
    assert json.loads(to_json(exported))["conversation"]["messages"][-1]["complete"] is False


@pytest.mark.parametrize("text, reason", [
    ("not json", "not valid JSON"),
    ("[]", "not a conversation exported by Ponder"),
    ('{"format": "ponder-conversation", "version": 9}', "version 9"),
    ('{"format": "ponder-conversation", "version": 1, "conversation": {}}', "no conversation"),
    ('{"format": "ponder-conversation", "version": 1, "conversation": {"messages": '
     '[{"role": "hacker", "content": "x"}]}}', "message 1 is malformed"),
    ("[" * 100000, "not valid JSON"),
])
def test_import_refuses_bad_files_and_writes_nothing(store, text, reason):
    with pytest.raises(HistoryImportError) as info:
        import_json(store, text, source="bad.json")
    assert reason in info.value.user_message() and "bad.json" in info.value.user_message()
    assert store.list_conversations() == []
