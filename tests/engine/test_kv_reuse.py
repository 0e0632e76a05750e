"""KV reuse across turns and sessions, counted with onnxruntime-genai's own usage numbers."""

from __future__ import annotations

import threading

import pytest

from engine.events import (
    AnswerDelta,
    Finished,
    FinishReason,
    PromptProgress,
    ThinkingDelta,
)
from engine.generation import TurnControl
from engine.prompt import ChatFormat, render_prompt
from engine.request import ChatRequest, Message, Role, Sampling, ask
from engine.service import InferenceService, ModelChoice

GREEDY = Sampling(greedy=True)


@pytest.fixture(scope="module")
def service():
    service = InferenceService(frame_s=0)
    service.load(ModelChoice("demo")).result()
    yield service
    service.close()


def run(service, request, session="default", control=None, on_event=None):
    events = []
    control = control or TurnControl()

    def emit(event):
        events.append(event)
        if on_event:
            on_event(event, control)

    service.generate(request, control, emit, session=session).result()
    return events, events[-1]


def follow_up(request, answer, question, **options):
    messages = request.messages + (Message(Role.ASSISTANT, answer.strip()), Message(Role.USER, question))  # as the window
    return ChatRequest(messages=messages, sampling=GREEDY, **options)


def new_tokens(service, before, answer, request):
    """Tokens of request's prompt that follow the history `before` + answer, as rendered."""
    tokenizer = service._loaded.tokenizer  # the test reads the real tokenizer's counts
    probe = follow_up(before, answer, "a")
    ids = tokenizer.encode(render_prompt(tokenizer, request, ChatFormat())).tolist()
    other = tokenizer.encode(render_prompt(tokenizer, probe, ChatFormat())).tolist()
    common = next((i for i, (x, y) in enumerate(zip(ids, other)) if x != y), min(len(ids), len(other)))
    return len(ids) - common


def test_a_follow_up_computes_only_its_new_tokens_over_many_turns(service):
    service.forget("default").result()
    request = ask("What is 11 plus 22?", sampling=GREEDY)
    done = run(service, request)[1]
    assert done.stats.computed_prompt_tokens == done.stats.prompt_tokens
    for question in ("What is 40 plus 2?", "What is 5 plus 6?", "What is 9 plus 9?"):
        service.settled().result()  # what the user's typing time gives the worker
        follow = follow_up(request, done.answer, question)
        expected = new_tokens(service, request, done.answer, follow)
        done = run(service, follow)[1]
        assert isinstance(done, Finished) and done.answer.startswith("The answer is")
        assert done.stats.computed_prompt_tokens == expected
        assert done.stats.cached_prompt_tokens == done.stats.prompt_tokens - expected
        request = follow


def test_a_follow_up_sent_at_once_still_gives_the_fresh_answer(service):
    first = run(service, ask("What is 11 plus 22?", sampling=GREEDY))[1]
    follow = follow_up(ask("What is 11 plus 22?"), first.answer, "What is 40 plus 2?")
    reused = run(service, follow)[1]  # no settled(): the follow-up overtakes the idle work
    fresh_service = InferenceService()
    try:
        fresh_service.load(ModelChoice("demo")).result()
        fresh = run(fresh_service, follow)[1]
    finally:
        fresh_service.close()
    assert fresh.stats.cached_prompt_tokens == 0
    assert (reused.thinking, reused.answer) == (fresh.thinking, fresh.answer) != ("", "")


def test_an_edited_earlier_message_gives_the_fresh_answer(service):
    first = run(service, ask("What is 12 plus 30?", sampling=GREEDY))[1]
    service.settled().result()
    edited = follow_up(ask("What is 12 plus 31?"), first.answer, "What is 2 plus 2?")
    done = run(service, edited)[1]
    alone = run(service, edited, session="elsewhere")[1]
    assert (done.thinking, done.answer) == (alone.thinking, alone.answer)
    assert done.answer == "The answer is 4."


def test_two_sessions_keep_their_own_caches(service):
    a, b = ask("What is 3 plus 4?", sampling=GREEDY), ask("What is 8 plus 1?", sampling=GREEDY)
    done_a = run(service, a, "chat")[1]
    done_b = run(service, b, "quick")[1]
    service.settled().result()
    follow_a = follow_up(a, done_a.answer, "What is 6 plus 6?")
    follow_b = follow_up(b, done_b.answer, "What is 7 plus 7?")
    again_a = run(service, follow_a, "chat")[1]
    again_b = run(service, follow_b, "quick")[1]
    assert again_a.stats.computed_prompt_tokens == new_tokens(service, a, done_a.answer, follow_a)
    assert again_b.stats.computed_prompt_tokens == new_tokens(service, b, done_b.answer, follow_b)
    assert (again_a.answer, again_b.answer) == ("The answer is 12.", "The answer is 14.")


def test_two_sessions_at_once_give_each_the_tokens_it_gives_alone(service):
    a, b = ask("What is 37 plus 45?", sampling=GREEDY), ask("What is 23 plus 19?", sampling=GREEDY)
    alone_a, alone_b = run(service, a, "x")[1], run(service, b, "y")[1]
    service.forget("x").result()
    service.forget("y").result()
    seen: dict[str, list] = {"x": [], "y": []}
    futures = [service.generate(r, TurnControl(), seen[name].append, session=name)
               for name, r in (("x", a), ("y", b))]
    for future in futures:
        future.result()
    together_a, together_b = seen["x"][-1], seen["y"][-1]
    assert (together_a.thinking, together_a.answer) == (alone_a.thinking, alone_a.answer)
    assert (together_b.thinking, together_b.answer) == (alone_b.thinking, alone_b.answer)


def test_a_quick_action_starts_while_the_chat_streams_and_the_chat_keeps_its_cache(service):
    chat = ask("What is 37 plus 45?", sampling=GREEDY)
    first = run(service, chat, "chat")[1]
    service.settled().result()
    follow = follow_up(chat, first.answer, "What is 23 plus 19?")
    order: list[str] = []
    quick_started = threading.Event()

    def chat_emit(event):
        if isinstance(event, (ThinkingDelta, AnswerDelta)):
            order.append("chat")
            if len(order) == 3:  # the chat is streaming: a quick action arrives
                service.generate(ask("What is 2 plus 2?", sampling=GREEDY), TurnControl(), quick_emit,
                                 session="quick")

    def quick_emit(event):
        if isinstance(event, (ThinkingDelta, AnswerDelta)):
            order.append("quick")
            quick_started.set()

    done = service.generate(follow, TurnControl(), chat_emit, session="chat")
    finished = done.result()
    assert quick_started.wait(10)
    # Interleaved: the quick action produced tokens before the chat's answer ended.
    assert "quick" in order[: order.index("quick") + 1] and order.index("quick") < len(order) - 1
    assert order[order.index("quick"):].count("chat") > 0
    assert finished.stats.computed_prompt_tokens == new_tokens(service, chat, first.answer, follow)
    assert finished.answer == "The answer is 42."


LONG = "Please read this carefully. " * 100 + "What is 2 plus 2?"


def test_stop_during_a_long_prefill_ends_at_once_and_the_session_still_works(service):
    progress: list[PromptProgress] = []

    def stop_at_first_chunk(event, control):
        if isinstance(event, PromptProgress) and event.done > 0:
            progress.append(event)
            control.cancel.set()

    events, done = run(service, ask(LONG, sampling=GREEDY, max_new_tokens=32), "long", on_event=stop_at_first_chunk)
    assert isinstance(done, Finished) and done.reason is FinishReason.CANCELLED
    # Stopped after the first chunk: og computed only that chunk of the long prompt.
    assert len(progress) == 1 and progress[0].done < progress[0].total - 100
    assert done.stats.computed_prompt_tokens == progress[0].done
    assert not any(isinstance(e, (ThinkingDelta, AnswerDelta)) for e in events)
    _, ok = run(service, ask("What is 2 plus 2?", sampling=GREEDY), "long")
    assert ok.answer == "The answer is 4."


def test_progress_is_reported_per_chunk_before_the_first_token(service):
    events, done = run(service, ask(LONG, sampling=GREEDY, max_new_tokens=8), "progress")
    kinds = [e for e in events if isinstance(e, (PromptProgress, ThinkingDelta, AnswerDelta))]
    chunks = [e for e in kinds if isinstance(e, PromptProgress)]
    assert len(chunks) >= 3 and kinds[: len(chunks)] == chunks and chunks[0].done == 0
    assert [c.done for c in chunks] == sorted(c.done for c in chunks)
    assert chunks[-1].done == chunks[-1].total - 1 == done.stats.prompt_tokens - 1


def test_answer_now_during_prefill_answers(service):
    def answer_now(event, control):
        if isinstance(event, PromptProgress):
            control.answer_now.set()

    _, done = run(service, ask("Please think. " * 120 + "What is 2 plus 2?", sampling=GREEDY), "now",
                  on_event=answer_now)
    assert isinstance(done, Finished) and done.reason is FinishReason.ANSWER_NOW
    assert done.answer.strip()


def test_a_history_that_outgrows_its_reservation_still_reuses():
    """Small reservation steps, so the conversation needs a bigger request every few turns."""
    from engine.generation import run_turn
    from engine.memory import GiB, KvPolicy, MemoryFacts
    from engine.models import resolve_model
    from engine.providers import CANDIDATES
    from engine.runtime import import_og, load_model
    from engine.sessions import SessionPool
    from engine.settle import settle_steps

    og = import_og()
    loaded = load_model(resolve_model("demo"), next(c for c in CANDIDATES if c.key == "cpu"))
    policy = KvPolicy(per_token=2048, max_length=loaded.max_length, memory=lambda: MemoryFacts(64 * GiB, 32 * GiB),
                      step=64, headroom=8)
    session = SessionPool().get(og, loaded.model, "grow")
    request = ask("What is 11 plus 22?", sampling=GREEDY, max_new_tokens=48)
    done = run_turn(og, loaded, session, request, ChatFormat(), TurnControl(), lambda e: None, policy=policy)
    first = session.cache.capacity
    for i in range(8):
        for _ in settle_steps(og, loaded, session, policy):
            pass
        follow = follow_up(request, done.answer, f"What is {i} plus 1?", max_new_tokens=48)
        tokenizer = loaded.tokenizer
        done = run_turn(og, loaded, session, follow, ChatFormat(), TurnControl(), lambda e: None, policy=policy)
        ids = tokenizer.encode(render_prompt(tokenizer, follow, ChatFormat())).tolist()
        probe = tokenizer.encode(render_prompt(tokenizer, follow_up(request, follow.messages[-2].content, "a"),
                                               ChatFormat())).tolist()
        common = next(k for k, (x, y) in enumerate(zip(ids, probe)) if x != y)
        assert done.stats.computed_prompt_tokens == len(ids) - common, i
        request = follow
    # The history outgrew the first reservation, and every follow-up computed only its new tokens.
    assert done.stats.prompt_tokens + 48 > first and session.cache.capacity > first
    session.close()


def test_an_effort_that_cannot_fit_in_memory_fails_with_the_way_out():
    from engine.errors import MemoryBudgetError
    from engine.events import Failed
    from engine.memory import MARGIN, MemoryFacts

    # 2 KiB a token on the demo model; 600 tokens free beyond the margin.
    free = {"bytes": MARGIN + 600 * 2048}
    service = InferenceService(frame_s=0, memory=lambda: MemoryFacts(8 << 30, free["bytes"]))
    try:
        service.load(ModelChoice("demo")).result()
        _, failed = run(service, ask("What is 2 plus 2?", sampling=GREEDY, max_new_tokens=1000))
        assert isinstance(failed, Failed) and isinstance(failed.error, MemoryBudgetError)
        assert "lower effort" in failed.error.user_message()
        _, ok = run(service, ask("What is 2 plus 2?", sampling=GREEDY, max_new_tokens=200))
        assert ok.answer == "The answer is 4."
    finally:
        service.close()


def test_a_chunked_prefill_gives_the_tokens_of_a_one_shot_prefill():
    from engine.kv_cache import KvCache
    from engine.paths import demo_model_dir
    from engine.runtime import import_og

    og = import_og()
    model = og.Model(str(demo_model_dir()))
    tokenizer = og.Tokenizer(model)
    engine = og.Engine(model)
    buffer = engine.create_event_buffer(16)
    ids = tokenizer.encode(render_prompt(tokenizer, ask("Please be careful. " * 30 + "What is 5 plus 7?"),
                                         ChatFormat())).tolist()

    def generate(chunked: bool) -> list[int]:
        cache = KvCache()
        cache.renew(og, engine, 1024)
        fed = 0
        if chunked:
            cache.chunk = 7  # many small chunks
            for fed in cache.feed(og, engine, ids[:-1], buffer):
                pass
        options = og.TurnOptions(cache.request)
        options.set_max_generated_tokens(24)
        options.set_do_sample(False)
        options.set_top_k(1)
        cache.begin_turn(ids[fed:], options)
        tokens = []
        while engine.has_pending_requests():
            tokens += [e.token for e in engine.run(buffer) if int(e.flags) & int(og.EngineEventFlags.TOKEN)]
        cache.close()
        return tokens

    one_shot = generate(chunked=False)
    assert len(one_shot) > 10 and generate(chunked=True) == one_shot


def test_reset_conversation_forgets_only_the_default_session(service):
    a, b = ask("What is 3 plus 3?", sampling=GREEDY), ask("What is 4 plus 4?", sampling=GREEDY)
    done_a, done_b = run(service, a)[1], run(service, b, "other")[1]
    service.settled().result()
    service.reset_conversation().result()
    again_a = run(service, follow_up(a, done_a.answer, "What is 1 plus 1?"))[1]
    again_b = run(service, follow_up(b, done_b.answer, "What is 2 plus 1?"), "other")[1]
    assert again_a.stats.cached_prompt_tokens == 0  # a new chat starts from nothing
    assert again_b.stats.cached_prompt_tokens > 0  # the other session kept its cache


def test_when_memory_is_short_idle_sessions_give_theirs_up():
    from engine.memory import MARGIN, MemoryFacts

    # Free memory: room for ~1,600 demo tokens (2 KiB each) less what the sessions' caches hold.
    holders: list = []

    def memory():
        held = sum(s.cache.capacity for pool in holders for s in pool._sessions.values()) * 2048
        return MemoryFacts(8 << 30, MARGIN + 1600 * 2048 - held)

    service = InferenceService(frame_s=0, memory=memory)
    try:
        service.load(ModelChoice("demo")).result()
        holders.append(service._sessions)  # the fake reads what the sessions hold
        _, first = run(service, ask("What is 2 plus 2?", sampling=GREEDY, max_new_tokens=1000), "chat")
        service.settled().result()
        assert first.answer == "The answer is 4." and service._sessions._sessions["chat"].cache.request
        _, quick = run(service, ask("What is 3 plus 3?", sampling=GREEDY, max_new_tokens=1000), "quick")
        assert quick.answer == "The answer is 6."  # the idle chat's cache made room
        assert service._sessions._sessions["chat"].cache.request is None
    finally:
        service.close()


def test_a_turn_posted_right_after_forgetting_its_session_still_runs(service):
    # The window does exactly this when a chat is reopened and a question follows at once: forget
    # the default session, then a turn of it. Both must be queued while the worker is busy, then
    # the worker must go idle: hold it inside the last event of another session's turn.
    holding, release = threading.Event(), threading.Event()

    def hold(event, control):
        if isinstance(event, Finished):
            holding.set()
            release.wait(30)

    stopped = TurnControl()
    stopped.cancel.set()  # a stopped turn leaves no idle-time work that would wake the worker again
    busy = threading.Thread(target=run, args=(service, ask("What is 1 plus 1?", sampling=GREEDY)),
                            kwargs={"session": "other", "control": stopped, "on_event": hold})
    busy.start()
    assert holding.wait(30)
    forgotten = service.forget("default")
    control, events = TurnControl(), []
    turn = service.generate(ask("What is 2 plus 2?", sampling=GREEDY), control, events.append)
    release.set()
    busy.join(30)
    forgotten.result(timeout=30)
    finished = turn.result(timeout=30)  # hung for ever before: the turn waited with nothing to drive it
    assert isinstance(finished, Finished) and finished.answer.strip()
