"""The window's chat saved as it streams: the real ChatController, a scripted engine turn (the
model's output is irrelevant here; the window tests run the real model)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from app.chat.controller import ChatController
from app.history.loader import exchanges_from
from app.history.recorder import HistoryRecorder, TeeListener
from engine.events import AnswerDelta, Finished, FinishReason, Stats, ThinkingDelta
from engine.history.records import MessageMeta, MessageStatus
from engine.settings import Settings


class ScriptedTurn:
    """A ChatTurn that yields prepared batches, pausing until the test releases each one."""

    def __init__(self, batches, gate: asyncio.Queue) -> None:
        self.batches, self.gate = list(batches), gate

    def cancel(self) -> None: ...

    def answer_now(self) -> None: ...

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self.batches:
            raise StopAsyncIteration
        await self.gate.get()
        return self.batches.pop(0)


class ScriptedAssistant:
    """Implements the Assistant calls the controller makes."""

    def __init__(self) -> None:
        self.gate: asyncio.Queue = asyncio.Queue()
        self.answer = "The answer is 5."

    def chat(self, request):
        return ScriptedTurn([
            [ThinkingDelta("Two plus "), ThinkingDelta("three.")],
            [AnswerDelta("The answer")],
            [Finished(FinishReason.STOP, "Two plus three.", self.answer,
                      Stats(thinking_tokens=4, answer_tokens=5))],
        ], self.gate)

    async def new_conversation(self) -> None: ...


class Recorded:
    """The controller, its recorder and the store, wired as the window wires them."""

    def __init__(self, store) -> None:
        self.store = store
        self.assistant = ScriptedAssistant()
        self.controller = ChatController(self.assistant, Settings())
        self.controller.model_loaded(SimpleNamespace(
            folder=SimpleNamespace(name="demo", context_length=4096),
            provider=SimpleNamespace(key="cpu")))
        self.saved: list[int] = []
        self.recorder = HistoryRecorder(store, self._meta, interval_s=0.0,
                                        on_saved=self.saved.append)
        self.controller.listener = TeeListener(None, self.recorder)

    def _meta(self) -> MessageMeta:
        model = self.controller.model
        return MessageMeta(model=model.folder.name, provider=model.provider.key)

    async def step(self) -> None:
        """Release one batch and let the controller handle it."""
        self.assistant.gate.put_nowait(None)
        for _ in range(5):
            await asyncio.sleep(0)

    async def finish_turn(self) -> None:
        while self.controller.busy:
            await self.step()

    def messages(self):
        return self.store.conversation(self.recorder.conversation_id).messages


def run(coro):
    return asyncio.run(coro)


def test_a_turn_is_saved_as_it_streams(store):
    async def scenario():
        r = Recorded(store)
        r.controller.send("What is 2 plus 3?")
        [question, answer] = r.messages()  # saved at once, before any output
        assert (question.role, question.content) == ("user", "What is 2 plus 3?")
        assert answer.status is MessageStatus.STREAMING and answer.content == ""
        await r.step()
        assert r.messages()[1].thinking == "Two plus three."  # committed mid-turn
        await r.step()
        assert r.messages()[1].content == "The answer"
        await r.finish_turn()
        final = r.messages()[1]
        assert final.status is MessageStatus.COMPLETE and final.content == "The answer is 5."
        assert (final.meta.model, final.meta.provider, final.meta.finish_reason) == \
            ("demo", "cpu", "stop")
        assert final.meta.stats["thinking_tokens"] == 4
        assert store.summary(r.recorder.conversation_id).title == "What is 2 plus 3?"
        assert r.saved
    run(scenario())


def test_regenerate_and_edit_add_messages_and_reload_shows_the_latest(store):
    async def scenario():
        r = Recorded(store)
        r.controller.send("What is 2 plus 3?")
        await r.finish_turn()
        r.assistant.answer = "It is 5."
        r.controller.regenerate()
        await r.finish_turn()
        assert [m.content for m in r.messages()] == \
            ["What is 2 plus 3?", "The answer is 5.", "It is 5."]
        [(exchange, _q, _a)] = exchanges_from(store.conversation(r.recorder.conversation_id))
        assert exchange.reply.answer == "It is 5."
        r.assistant.answer = "It is 6."
        r.controller.resend_last("What is 3 plus 3?")
        await r.finish_turn()
        roles = [(m.role, m.content) for m in r.messages()]
        # A regenerated answer is kept beside the first; an edited question replaces its
        # exchange, as in the window.
        assert roles == [("user", "What is 3 plus 3?"), ("assistant", "It is 6.")]
        [(exchange, _q, _a)] = exchanges_from(store.conversation(r.recorder.conversation_id))
        assert (exchange.question, exchange.reply.answer) == ("What is 3 plus 3?", "It is 6.")
    run(scenario())


def test_new_chat_starts_a_new_conversation(store):
    async def scenario():
        r = Recorded(store)
        r.controller.send("first")
        await r.finish_turn()
        first = r.recorder.conversation_id
        r.controller.new_chat()
        r.controller.send("second")
        await r.finish_turn()
        assert r.recorder.conversation_id != first
        assert [s.title for s in store.list_conversations()] == ["second", "first"]
    run(scenario())


def test_continuing_an_opened_conversation_appends_to_it(store):
    async def scenario():
        r = Recorded(store)
        r.controller.send("first question")
        await r.finish_turn()
        cid = r.recorder.conversation_id
        # Reopen it as the sidebar does: the chat shows the stored exchanges.
        items = exchanges_from(store.conversation(cid))
        r.controller.new_chat()
        r.controller.conversation.exchanges = [e for e, _q, _a in items]
        r.recorder.adopt(cid, items)
        r.controller.send("follow-up")
        await r.finish_turn()
        assert [m.content for m in store.conversation(cid).messages] == \
            ["first question", "The answer is 5.", "follow-up", "The answer is 5."]
        assert len(store.list_conversations()) == 1
    run(scenario())


def test_without_a_store_the_chat_still_works(store):
    async def scenario():
        r = Recorded(store)
        r.recorder.set_store(None)
        r.controller.send("not saved")
        await r.finish_turn()
        assert r.controller.conversation.last.reply.answer == "The answer is 5."
        assert store.list_conversations() == []
    run(scenario())


def test_interrupted_answer_reloads_as_stopped(store):
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "q")
    writer = store.start_message(conv.id)
    writer.set_text("half a thought", "")
    writer.flush()  # then the process died
    [(exchange, _q, answer_id)] = exchanges_from(store.conversation(conv.id))
    assert answer_id == writer.message_id
    assert exchange.reply.finish is FinishReason.CANCELLED and exchange.reply.resumable


@pytest.fixture(autouse=True)
def _no_qt_loop():
    """These tests run plain asyncio (the recorder and controller are Qt-free)."""
    yield
    asyncio.set_event_loop(None)
