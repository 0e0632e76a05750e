"""A process that writes to the history store and acknowledges each commit.

test_crash.py runs it through a multiprocessing forkserver (so 200 starts stay cheap) and kills it
at random points; test_concurrency.py runs it as two plain processes at once. The raw key is
passed in memory or on stdin, never in argv or the environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from engine.history import database  # noqa: E402
from engine.history.records import MessageMeta  # noqa: E402
from engine.history.store import HistoryStore  # noqa: E402


def write(path: Path, key: bytes, count: int, ack: Callable[[str, int, str], None]) -> None:
    """Questions and streamed answers, acknowledging each after its commit returned."""
    store = HistoryStore(database.connect(path, key, create=not path.exists()), path,
                         encrypted=True)
    conv = store.create_conversation(f"writer {os.getpid()}")
    for i in range(count):
        question = store.add_message(conv.id, "user", f"question {os.getpid()} {i}")
        ack("msg", question.id, question.content)
        writer = store.start_message(conv.id, MessageMeta(model="demo"))
        for part in range(3):
            writer.add_answer(f"part{part} ")
            writer.flush()
            ack("partial", writer.message_id, writer.answer)
        writer.finish(MessageMeta(model="demo"))
        ack("done", writer.message_id, writer.answer)
    store.close()


def write_to_pipe(path: Path, key: bytes, count: int, conn) -> None:
    """forkserver target: acknowledgements go through a multiprocessing pipe."""
    write(path, key, count, lambda kind, mid, text: conn.send((kind, mid, text)))


def main() -> int:
    """Plain-process mode: python writer_child.py DB_PATH COUNT, key hex on stdin."""
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    key = bytes.fromhex(sys.stdin.readline().strip())
    write(path, key, count, lambda kind, mid, text: print(kind, mid, text, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
