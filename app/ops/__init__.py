"""One way to run work off the GUI thread (Anki's CollectionOp/QueryOp, Orange3's TaskState).

build_app() makes one `Ops` (app.ops) and passes it down; PonderApp.shutdown() calls
`ops.shutdown()`, which cancels every operation, waits a bounded time, and delivers nothing
after. Callbacks run on the GUI thread; a failure's text comes from app/errors.py; a Stop is
never an error. The model's own worker thread stays the engine's (engine/service.py): app code
awaits the engine's coroutines directly and uses ops only for its own blocking calls.

How a new feature uses it — a blocking function of (args, state), and three GUI callbacks:

    def count_words(path: Path, state: TaskState) -> int:      # pure, testable without Qt
        total = 0
        for n, line in enumerate(path.open(encoding="utf-8")):
            state.check()                                      # Stop → silently on_cancelled
            state.progress(n)
            total += len(line.split())
        return total

    op = app.ops.run(lambda state: count_words(path, state), name="count words",
                     on_done=lambda n: label.setText(f"{n} words"),
                     on_progress=lambda n: label.setText(f"line {n}…"),
                     on_error=lambda failure: banner.show_message(failure.text, kind="error"))
    stop_button.clicked.connect(op.cancel)

In a coroutine, `n = await app.ops.call(count_words_plain, path, name="count words")` replaces
asyncio.to_thread (the exception is raised to the caller; cancelling the task cancels the op).
"""

from app.ops.runner import Failure, Op, Ops
from app.ops.state import TaskState

__all__ = ["Failure", "Op", "Ops", "TaskState"]
