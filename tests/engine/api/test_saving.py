"""Saving API requests to the history, with the official `openai` client against the demo model:
off saves nothing; on saves each answered request as a conversation with its thinking apart; a
follow-up joins its conversation; a request the client cuts off saves nothing."""

from __future__ import annotations

import time

import pytest

from engine.api.saving import ApiHistory
from engine.history.keys import SECURE_BACKENDS, Keyring, backend_name
from engine.history.records import MessageStatus
from engine.history.vault import HistoryVault
from tests.engine.api.conftest import ANSWER, ENDLESS, QUESTION, THINKING
from tests.engine.history.conftest import FAST_SCRYPT, MemoryKeyring

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def store(tmp_path):
    backend = MemoryKeyring()
    keyring = Keyring(lambda: backend, allowed=SECURE_BACKENDS | {backend_name(backend)})
    with HistoryVault(tmp_path / "history", keyring=keyring, scrypt=FAST_SCRYPT).open() as opened:
        yield opened


@pytest.fixture
def saving(live, store):
    """The server saves into `store` while the test runs; `saving.on` is the setting."""
    class Switch:
        on = True
        saved: list[int] = []

    switch = Switch()
    switch.saved = []
    live.server.history = ApiHistory(lambda: store, enabled=lambda: switch.on, on_saved=switch.saved.append)
    yield switch
    live.server.history = None


def conversations(live, store):
    """The saved conversations, read on the server's loop (the store's one thread)."""
    return live.run(lambda: [store.conversation(s.id) for s in store.list_conversations()])


def chat(client, messages, **options):
    return client.chat.completions.create(model="demo", messages=messages, **options)


def test_with_the_setting_off_nothing_is_saved(live, client, store, saving):
    saving.on = False
    assert chat(client, [{"role": "user", "content": QUESTION}]).choices[0].message.content == ANSWER
    assert conversations(live, store) == [] and saving.saved == []


def test_an_answered_request_is_saved_with_its_thinking_apart(live, client, store, saving):
    chat(client, [{"role": "user", "content": QUESTION}])
    [saved] = conversations(live, store)
    assert saved.summary.title == f"API · {QUESTION}"
    question, answer = saved.messages
    assert (question.role, question.content) == ("user", QUESTION)
    assert (answer.role, answer.content, answer.thinking) == ("assistant", ANSWER, THINKING)
    assert "<think>" not in answer.content and answer.status is MessageStatus.COMPLETE
    assert (answer.meta.model, answer.meta.provider, answer.meta.finish_reason) == ("demo", "cpu", "stop")
    assert answer.meta.stats["thinking_tokens"] == 45
    assert saving.saved == [saved.summary.id]


def test_a_follow_up_joins_its_conversation_streamed_or_not(live, client, store, saving):
    first = chat(client, [{"role": "user", "content": QUESTION}]).choices[0].message
    turns = [{"role": "user", "content": QUESTION},
             {"role": "assistant", "content": first.content, "reasoning_content": THINKING},
             {"role": "user", "content": "What is 12 plus 30?"}]
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chat(client, turns, stream=True)
                       if chunk.choices)
    turns += [{"role": "assistant", "content": streamed}, {"role": "user", "content": "What is 5 plus 4?"}]
    third = chat(client, turns).choices[0].message.content
    [saved] = conversations(live, store)
    assert [(m.role, m.content) for m in saved.messages] == [
        ("user", QUESTION), ("assistant", ANSWER), ("user", "What is 12 plus 30?"), ("assistant", streamed),
        ("user", "What is 5 plus 4?"), ("assistant", third)]
    assert all(m.thinking for m in saved.messages if m.role == "assistant")
    assert saved.summary.title == f"API · {QUESTION}"
    # Another branch from the first answer is its own conversation, with the shared start copied.
    chat(client, turns[:2] + [{"role": "user", "content": "What is 2 plus 2?"}])
    branch, same = conversations(live, store)
    assert same.summary.id == saved.summary.id and len(same.messages) == 6
    assert [m.content for m in branch.messages[:3]] == [QUESTION, ANSWER, "What is 2 plus 2?"]


def test_the_system_prompt_is_kept_as_a_system_message(live, client, store, saving):
    chat(client, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}])
    [saved] = conversations(live, store)
    assert [(m.role, m.content) for m in saved.messages[:2]] == [("system", "Be brief."), ("user", QUESTION)]
    assert saved.summary.title == f"API · {QUESTION}"


def test_a_request_the_client_cuts_off_is_not_saved(live, client, store, saving):
    cancelled = live.run(lambda: live.server.activity.cancelled)
    stream = chat(client, [{"role": "user", "content": ENDLESS}], stream=True, max_tokens=1900)
    next(iter(stream))
    stream.close()
    deadline = time.monotonic() + 30
    while live.run(lambda: (live.server.activity.cancelled, live.server.gate.running)) != (cancelled + 1, 0):
        assert time.monotonic() < deadline, "the cut request never ended"
        time.sleep(0.01)
    assert conversations(live, store) == []
    chat(client, [{"role": "user", "content": QUESTION}])  # the next whole answer is saved as usual
    assert len(conversations(live, store)) == 1


def test_a_locked_or_closed_history_saves_nothing_and_answers_all_the_same(live, client, store):
    live.server.history = ApiHistory(lambda: None)
    try:
        assert chat(client, [{"role": "user", "content": QUESTION}]).choices[0].message.content == ANSWER
    finally:
        live.server.history = None
    assert conversations(live, store) == []


def test_follow_ups_are_matched_only_within_the_store_they_were_saved_in(store, tmp_path):
    from engine.api.saving import CompletedRequest
    from engine.request import ChatRequest, Message, Role

    first = ChatRequest(messages=(Message(Role.USER, QUESTION),))
    follow_up = ChatRequest(messages=(Message(Role.USER, QUESTION), Message(Role.ASSISTANT, ANSWER),
                                      Message(Role.USER, "What is 5 plus 4?")))
    current = [store]
    saving = ApiHistory(lambda: current[0])
    first_id = saving.record(CompletedRequest(first, THINKING, ANSWER, "demo"))
    backend = MemoryKeyring()
    keyring = Keyring(lambda: backend, allowed=SECURE_BACKENDS | {backend_name(backend)})
    with HistoryVault(tmp_path / "new", keyring=keyring, scrypt=FAST_SCRYPT).open() as new_store:
        unrelated = new_store.create_conversation("A chat of the new history")  # the same id as before
        assert unrelated.id == first_id
        current[0] = new_store  # the user started a new history
        saved = saving.record(CompletedRequest(follow_up, "", "9", "demo"))
        assert saved != unrelated.id and new_store.summary(unrelated.id).message_count == 0
        assert [m.content for m in new_store.conversation(saved).messages] == [
            QUESTION, ANSWER, "What is 5 plus 4?", "9"]
