"""The ops layer: results and progress on the GUI thread, cooperative cancel, errors in words,
and a shutdown that stops everything and lets nothing arrive afterwards."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.errors import user_text
from app.ops import Failure, Ops, TaskState
from engine.download.errors import HubUnreachableError
from engine.errors import CancelledError, PonderError


@pytest.fixture
def ops(qtbot):
    reported: list[str] = []
    registry = Ops(report=reported.append)
    registry.reported = reported  # type: ignore[attr-defined]
    yield registry
    registry.shutdown(timeout_s=5)


def test_the_result_and_progress_arrive_on_the_gui_thread(ops, qtbot):
    seen: list[tuple[str, object, bool]] = []
    gui = threading.current_thread()

    def work(state: TaskState) -> str:
        worker = threading.current_thread()
        for n in range(1, 4):
            state.progress(n)
        return worker.name

    ops.run(work, name="count", on_progress=lambda n: seen.append(("progress", n, threading.current_thread() is gui)),
            on_done=lambda name: seen.append(("done", name, threading.current_thread() is gui)))
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][0] == "done")
    assert seen[-2] == ("progress", 3, True)  # the latest report arrives before the result
    kind, worker_name, on_gui = seen[-1]
    assert on_gui and worker_name != gui.name  # the work ran elsewhere, the result came back
    assert ops.running == []


def test_cancel_is_cooperative_and_only_on_cancelled_follows(ops, qtbot):
    started, outcome, hook = threading.Event(), [], []

    def work(state: TaskState) -> str:
        started.set()
        state.event.wait(30)  # a step of work that notices the cancel
        state.check()
        return "finished anyway"

    op = ops.run(work, name="long", on_done=outcome.append, on_error=outcome.append,
                 on_cancelled=lambda: outcome.append("cancelled"), on_cancel=lambda: hook.append(True))
    assert started.wait(10)
    op.cancel()
    assert hook == [True]
    qtbot.waitUntil(lambda: outcome == ["cancelled"])
    assert op.done and not ops.reported


def test_an_engine_cancel_inside_the_work_is_silent(ops, qtbot):
    outcome: list[object] = []

    def work(state: TaskState) -> None:
        raise CancelledError()

    ops.run(work, name="stopped", on_error=outcome.append, on_cancelled=lambda: outcome.append("cancelled"))
    qtbot.waitUntil(lambda: outcome == ["cancelled"])
    assert not ops.reported


def test_an_exception_becomes_the_user_text_of_app_errors(ops, qtbot):
    error = HubUnreachableError("Temporary failure in name resolution")
    failures: list[Failure] = []

    def work(state: TaskState) -> None:
        raise error

    ops.run(work, name="download", on_error=failures.append)
    qtbot.waitUntil(lambda: bool(failures))
    assert failures[0].error is error and failures[0].text == user_text(error)
    assert "offline" in failures[0].text and "Temporary failure" not in failures[0].text


def test_without_on_error_the_words_go_to_the_apps_one_report(ops, qtbot):
    ops.run(lambda state: 1 / 0, name="bug")
    qtbot.waitUntil(lambda: bool(ops.reported))
    assert ops.reported == ["Unexpected error: ZeroDivisionError: division by zero"]


def test_a_lane_runs_its_operations_one_at_a_time_in_order(ops, qtbot):
    order: list[int] = []
    inside = threading.Semaphore(1)

    def work(n: int):
        def step(state: TaskState) -> int:
            assert inside.acquire(blocking=False), "two operations of a lane ran at once"
            try:
                return n
            finally:
                inside.release()
        return step

    for n in range(5):
        ops.run(work(n), name=f"draw {n}", lane="math", on_done=order.append)
    qtbot.waitUntil(lambda: len(order) == 5)
    assert order == [0, 1, 2, 3, 4]


def test_shutdown_cancels_everything_waits_bounded_and_delivers_nothing_after(qtbot):
    ops = Ops()
    delivered: list[object] = []
    stubborn_release, started = threading.Event(), threading.Barrier(3)

    def cooperative(state: TaskState) -> str:
        started.wait(10)
        state.event.wait(30)
        return "cooperative"

    def stubborn(state: TaskState) -> str:
        started.wait(10)
        stubborn_release.wait(30)  # a keyring prompt, say: it cannot be interrupted
        return "stubborn"

    quick = ops.run(cooperative, name="cooperative", lane="one", on_done=delivered.append,
                    on_cancelled=lambda: delivered.append("cancelled"))
    slow = ops.run(stubborn, name="stubborn", on_done=delivered.append,
                   on_cancelled=lambda: delivered.append("cancelled"))
    queued = ops.run(lambda state: delivered.append("queued ran"), name="queued", lane="one")  # behind it
    started.wait(10)
    assert ops.shutdown(timeout_s=0.5) == ["stubborn"]  # the cooperative one returned in time
    assert quick.state.cancelled and slow.state.cancelled and quick.wait(0)
    stubborn_release.set()
    assert slow.wait(10)
    ops._drain()  # what the timer would do: the stubborn one's late result is dropped
    assert delivered == [] and ops.running == [] and queued.done
    late = ops.run(lambda state: delivered.append("ran after quit"), name="late")
    assert late.done and late.state.cancelled and late.wait(0)
    ops._drain()
    assert delivered == []


def test_call_awaits_the_result_or_raises_the_error_in_a_coroutine(ops, qtbot, qloop):
    async def flow() -> tuple[int, str]:
        value = await ops.call(sum, [1, 2, 3], name="sum")
        try:
            await ops.call(_fail, name="fail")
        except PonderError as exc:
            return value, exc.user_message()
        return value, ""

    task = asyncio.ensure_future(flow())
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() == (6, "no model here")


def test_cancelling_the_awaiting_task_cancels_the_operation(ops, qtbot, qloop):
    started, seen = threading.Event(), []

    def blocking(event: threading.Event) -> None:
        started.set()
        event.wait(30)

    async def flow() -> None:
        await ops.call(lambda: blocking(gate), name="blocking", on_cancel=gate.set)

    gate = threading.Event()
    task = asyncio.ensure_future(flow())
    qtbot.waitUntil(started.is_set, timeout=10_000)
    task.cancel()
    qtbot.waitUntil(task.done, timeout=10_000)
    seen.append(task.cancelled())
    assert seen == [True] and gate.is_set()
    qtbot.waitUntil(lambda: ops.running == [], timeout=10_000)


def _fail() -> None:
    raise PonderError("no model here")
