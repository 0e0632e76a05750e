"""A private Xvfb screen and an X11 selection owner, for tests of real X11 behaviour."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def xvfb() -> Iterator[str]:
    """Start Xvfb on a free display; yields ':N'. Skips where Xvfb is not installed."""
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (.ci/run installs it)")
    for _ in range(10):
        display = f":{random.randint(400, 900)}"
        if os.path.exists(f"/tmp/.X11-unix/X{display[1:]}"):
            continue
        proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(f"/tmp/.X11-unix/X{display[1:]}"):
                break
            time.sleep(0.05)
        if proc.poll() is None:
            try:
                yield display
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            return
    pytest.fail("could not start Xvfb")


class SelectionOwner:
    """Owns an X11 selection and serves its text as UTF8_STRING, as a text editor would."""

    def __init__(self, display: str, which: str, text: str) -> None:
        from Xlib import X
        from Xlib.display import Display

        self._X = X
        self.dpy = Display(display)
        self.text = text.encode("utf-8")
        self.selection = self.dpy.intern_atom(which)
        self.window = self.dpy.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
        self.window.set_selection_owner(self.selection, X.CurrentTime)
        self.dpy.flush()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        from Xlib import Xatom
        from Xlib.protocol import event

        X = self._X  # noqa: N806 - Xlib's own name for its constants module
        utf8 = self.dpy.intern_atom("UTF8_STRING")
        targets = self.dpy.intern_atom("TARGETS")
        while not self._stop.is_set():
            if not self.dpy.pending_events():
                time.sleep(0.01)
                continue
            ev = self.dpy.next_event()
            if ev.type != X.SelectionRequest:
                continue
            prop = ev.property
            if ev.target == utf8:
                ev.requestor.change_property(prop, utf8, 8, self.text)
            elif ev.target == targets:
                ev.requestor.change_property(prop, Xatom.ATOM, 32, [targets, utf8])
            else:
                prop = X.NONE
            notify = event.SelectionNotify(time=ev.time, requestor=ev.requestor, selection=ev.selection,
                                           target=ev.target, property=prop)
            ev.requestor.send_event(notify)
            self.dpy.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.dpy.close()
