"""Run a module as a child process that ends when its parent does.

`python -m engine.parent_watch MODULE ARGS…` runs MODULE like `python -m MODULE ARGS…`, and
also exits as soon as the process that started it is gone, even when that process was killed
with SIGKILL or crashed. Without this, a model download or build started by the window would
go on writing gigabytes after the window died.

The parent gives the child a pipe as stdin and never writes to it; the operating system closes
the parent's end when the parent exits for any reason, so the child's read() returns EOF. That
works the same on Windows, macOS and Linux, unlike prctl(PR_SET_PDEATHSIG), which is Linux-only.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
from collections.abc import Callable

#: The exit status of a child whose parent went away.
PARENT_GONE = 75


def watch_parent(fd: int, on_gone: Callable[[], None]) -> threading.Thread:
    """Call on_gone (from a daemon thread) once the file descriptor reaches end of file.

    Reads the raw descriptor: a daemon thread blocked inside sys.stdin's buffered reader would
    abort the interpreter at exit (it holds the reader's lock).
    """

    def wait() -> None:
        try:
            while os.read(fd, 1):
                pass  # the parent never writes; anything it did is ignored
        except (OSError, ValueError):
            pass  # a closed or broken stdin means the same thing
        on_gone()

    thread = threading.Thread(target=wait, name="parent-watch", daemon=True)
    thread.start()
    return thread


def command(module: str, *args: str) -> list[str]:
    """The command line that runs module under the watch (in a checkout or the frozen app)."""
    return [sys.executable, "-m", __name__, module, *args]


def main(argv: list[str]) -> None:
    """Start the watch, then run argv[0] as __main__ with the remaining arguments."""
    if not argv:
        print("usage: python -m engine.parent_watch MODULE [ARGS...]", file=sys.stderr)
        sys.exit(2)
    # os._exit: the module's own threads and half-written files must not delay the exit; every
    # child started this way keeps its work resumable from whatever is on disk.
    watch_parent(sys.stdin.fileno(), lambda: os._exit(PARENT_GONE))
    sys.argv = list(argv)
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
