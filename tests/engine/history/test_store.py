"""Conversations, messages, streaming saves and search, through a real encrypted store."""

from __future__ import annotations

import os
import stat

import pytest

from engine.events import AnswerDelta, Finished, FinishReason, Stats, ThinkingDelta
from engine.history.errors import ConversationNotFoundError
from engine.history.records import ChatSettings, MessageMeta, MessageStatus
from engine.history.store import fts_query
from engine.history.writer import MessageWriter


def test_title_comes_from_the_first_question(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "  What is\n 2 plus 3?  ")
    store.add_message(conv.id, "user", "And 4 plus 4?")
    assert store.summary(conv.id).title == "What is 2 plus 3?"
    long = store.create_conversation()
    store.add_message(long.id, "user", "x" * 500)
    assert len(store.summary(long.id).title) == 60 and store.summary(long.id).title.endswith("…")


def test_a_chats_own_settings_are_saved_without_reordering_the_list(store):
    first, second = store.create_conversation("first"), store.create_conversation("second")
    store.add_message(first.id, "user", "newest activity")
    wanted = ChatSettings(system_prompt="Answer in French.", temperature=0.3, top_p=0.9, effort="low")
    store.set_chat_settings(second.id, wanted)
    assert store.conversation(second.id).settings == wanted
    assert store.chat_settings(first.id) == ChatSettings()
    assert [s.title for s in store.list_conversations()] == ["first", "second"]
    with pytest.raises(ConversationNotFoundError):
        store.set_chat_settings(999, wanted)


@pytest.mark.parametrize("text", ['{"temperature": 9, "top_p": "x", "effort": "huge", "system_prompt": 3}',
                                  "not json", "[1]", '{"temperature": true}'])
def test_bad_saved_settings_fall_back_to_the_defaults(text):
    assert ChatSettings.from_json(text) == ChatSettings()


def test_a_made_up_title_never_replaces_one_the_user_chose(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "What is 2 plus 3?")
    assert store.rename_if_untouched(conv.id, "Adding two numbers")
    assert store.summary(conv.id).title == "Adding two numbers"
    named = store.create_conversation()
    store.add_message(named.id, "user", "What is 4 plus 4?")
    store.rename(named.id, "My sums")
    assert not store.rename_if_untouched(named.id, "Adding four and four")
    assert store.summary(named.id).title == "My sums"
    assert not store.rename_if_untouched(store.create_conversation().id, "No question yet")


def test_list_is_pinned_first_then_newest(store):
    a, b, c = (store.create_conversation(t) for t in ("a", "b", "c"))
    store.add_message(a.id, "user", "newest activity")
    assert [s.title for s in store.list_conversations()] == ["a", "c", "b"]
    store.set_pinned(b.id, True)
    assert [s.title for s in store.list_conversations()] == ["b", "a", "c"]
    assert store.list_conversations()[0].pinned


def test_rename_and_missing_conversation(store):
    conv = store.create_conversation("old")
    store.rename(conv.id, "  new\ttitle ")
    assert store.summary(conv.id).title == "new title"
    with pytest.raises(ConversationNotFoundError):
        store.rename(999, "x")
    with pytest.raises(ConversationNotFoundError):
        store.conversation(999)


def test_delete_can_be_undone_then_is_purged(ponder_home, vault):
    now = [1000.0]
    vault._clock = lambda: now[0]
    with vault.open() as store:
        store._clock = vault._clock
        conv = store.create_conversation("secret plans")
        store.add_message(conv.id, "user", "the secret plans")
        store.delete(conv.id)
        assert store.list_conversations() == [] and store.search("secret") == []
        store.undelete(conv.id)
        assert [s.title for s in store.list_conversations()] == ["secret plans"]
        store.delete(conv.id)
        now[0] += 3600  # past the undo window
        assert store.purge_deleted() == 1
        store.undelete(conv.id)
        assert store.list_conversations() == []
        with pytest.raises(ConversationNotFoundError):
            store.conversation(conv.id)


def test_writer_commits_periodically_and_on_finish(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "What is 2 plus 3?")
    ticks = [0.0]
    writer = store.start_message(conv.id, MessageMeta(model="demo", provider="cpu"))
    writer = MessageWriter(store, writer.message_id, interval_s=0.5, clock=lambda: ticks[0])
    writer.feed([ThinkingDelta("Two plus ")])
    assert store.message(writer.message_id).thinking == ""  # not due yet
    ticks[0] = 0.6
    writer.feed([ThinkingDelta("three.")])
    saved = store.message(writer.message_id)
    assert saved.thinking == "Two plus three." and saved.status is MessageStatus.STREAMING
    writer.feed([AnswerDelta("The answer"), Stats(answer_tokens=3)])
    writer.feed([Finished(FinishReason.STOP, "Two plus three.", "The answer is 5.",
                          Stats(thinking_tokens=4, answer_tokens=5))],
                MessageMeta(model="demo", provider="cpu"))
    final = store.message(writer.message_id)
    assert (final.content, final.status) == ("The answer is 5.", MessageStatus.COMPLETE)
    assert final.meta.model == "demo" and final.meta.finish_reason == "stop"
    assert final.meta.stats["thinking_tokens"] == 4


def test_search_finds_titles_answers_and_thinking_with_highlights(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "Tell me about photosynthesis")
    writer = store.start_message(conv.id)
    writer.add_thinking("Chlorophyll absorbs light.")
    writer.add_answer("Plants turn light into sugar.")
    writer.finish(MessageMeta())
    # Prefix match on the last word; the title (made from the question) is not a second hit.
    assert [hit.field for hit in store.search("photosynth")] == ["content"]
    store.rename(conv.id, "Botany homework")
    assert [hit.field for hit in store.search("botany")] == ["title"]
    [thinking] = store.search("chlorophyll")
    assert thinking.field == "thinking" and thinking.message_id == writer.message_id
    assert ("Chlorophyll", True) in thinking.segments()
    [answer] = store.search("sugar plants")
    assert [text for text, hit in answer.segments() if hit] == ["Plants", "sugar"]


@pytest.mark.parametrize("text", ['"', 'AND', 'a" OR "b', "NEAR(", "*", "col:x", "((", "-x", ""])
def test_search_accepts_any_text(store, text):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", 'quote " AND NEAR( col:x')
    store.search(text)  # never raises on FTS5 syntax


def test_fts_query_quotes_every_word():
    assert fts_query('say "hi" AND') == '"say" """hi""" "AND"*'
    assert fts_query("  ") == ""


def test_files_are_private_whatever_the_umask(ponder_home, keyring_for):
    from engine.history.vault import HistoryVault

    old = os.umask(0)
    try:
        vault = HistoryVault.for_paths(ponder_home, keyring=keyring_for)
        with vault.open() as store:
            conv = store.create_conversation("x")
            store.add_message(conv.id, "user", "hello")
            files = [p for p in vault.folder.rglob("*")]
            assert any(p.name.endswith("-wal") for p in files)
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    finally:
        os.umask(old)
    assert stat.S_IMODE(vault.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(ponder_home.data.stat().st_mode) == 0o700  # created by the store
    assert all(mode == (0o700 if name == "backups" else 0o600) for name, mode in modes.items()), modes
