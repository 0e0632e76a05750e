"""The conversation view-model: typed engine events in, what the window shows out."""

from __future__ import annotations

from app.chat.conversation import Conversation, Exchange, Phase, Reply
from app.chat.thinking_pane import header_text
from engine.errors import ContextTooLongError
from engine.events import AnswerDelta, Failed, Finished, FinishReason, Stats, ThinkingDelta
from engine.request import Role


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_thinking_then_answer_updates_phase_clock_and_header():
    clock = Clock()
    reply = Reply(clock=clock)
    reply.start()
    assert reply.phase is Phase.WAITING and reply.thinking_live
    reply.apply(ThinkingDelta("Let me add."))
    reply.apply(Stats(thinking_tokens=845))
    clock.now += 2.5
    assert header_text(reply) == "Thinking… 2.5 s · 845 tokens"
    clock.now += 9.8
    reply.apply(AnswerDelta("The answer is"))
    assert reply.phase is Phase.ANSWERING and not reply.thinking_live
    clock.now += 50  # answering time is not thinking time
    assert header_text(reply) == "Thought for 12.3 s · 845 tokens"
    reply.apply(Finished(FinishReason.STOP, "Let me add.", "The answer is 5.", Stats(thinking_tokens=845)))
    assert reply.phase is Phase.DONE and reply.answer == "The answer is 5."
    assert not reply.resumable and reply.finish_note() == ""


def test_budget_forced_reply_can_continue_and_counts_tokens_across_turns():
    reply = Reply(clock=Clock())
    reply.start()
    reply.apply(ThinkingDelta("ones: 7+5"))
    reply.apply(Finished(FinishReason.THINKING_BUDGET, "ones: 7+5", "The answer is 3.",
                         Stats(thinking_tokens=16), thinking_forced=True))
    assert reply.resumable and not reply.needs_answer
    assert "thinking budget ran out" in reply.finish_note()
    reply.continue_from_thinking()
    assert reply.answer == "" and reply.thinking == "ones: 7+5" and reply.phase is Phase.WAITING
    reply.apply(ThinkingDelta("=12"))
    reply.apply(Stats(thinking_tokens=4))
    assert reply.thinking == "ones: 7+5=12" and reply.thinking_tokens == 20


def test_no_answer_offers_answer_now_and_a_stop_while_thinking_too():
    reply = Reply(clock=Clock())
    reply.start()
    reply.apply(Finished(FinishReason.NO_ANSWER, "hmm", "", Stats(thinking_tokens=3)))
    assert reply.needs_answer and "no answer" in reply.finish_note()
    stopped = Reply(clock=Clock())
    stopped.start()
    stopped.apply(ThinkingDelta("hmm"))
    stopped.apply(Finished(FinishReason.CANCELLED, "hmm", "", Stats()))
    assert stopped.needs_answer and stopped.finish_note() == "Stopped while thinking."


def test_failure_becomes_readable_text():
    reply = Reply(clock=Clock())
    reply.start()
    reply.apply(Failed(ContextTooLongError(5000, 2048)))
    assert reply.phase is Phase.FAILED
    assert "too long" in reply.error and "5000" in reply.error and "Traceback" not in reply.error


def test_history_leaves_out_failed_turns_and_thinking():
    conversation = Conversation()
    good, failed, current = Exchange("What is 1 plus 1?"), Exchange("broken"), Exchange("What is 2 plus 2?")
    good.reply.apply(Finished(FinishReason.STOP, "secret thoughts", "The answer is 2.", Stats()))
    failed.reply.fail(RuntimeError("boom"))
    conversation.exchanges += [good, failed, current]
    messages = conversation.messages_until(current)
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT, Role.USER]
    assert messages[1].content == "The answer is 2." and "secret" not in messages[1].content
    assert messages[-1].content == "What is 2 plus 2?"
