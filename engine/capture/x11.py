"""Read an X11 selection (PRIMARY = the current selection, CLIPBOARD) with python-xlib.

X11 has no "get the selection" call: a client asks the owner to convert the selection into a
property of one of its own windows and waits for SelectionNotify. Large transfers (INCR) are
read chunk by chunk.
"""

from __future__ import annotations

import os
import select
import time

from engine.capture.errors import CaptureError, CaptureUnavailableError

TIMEOUT_S = 2.0
#: More than this is not screen text a user means to act on.
MAX_BYTES = 8 * 1024 * 1024


def read_selection(which: str = "PRIMARY", *, display: str | None = None, timeout: float = TIMEOUT_S) -> str:
    """The text of selection `which`, "" when nobody owns it; CaptureError if the X server fails."""
    name = display or os.environ.get("DISPLAY")
    if not name:
        raise CaptureUnavailableError("There is no X11 display, so the selection cannot be read.")
    try:
        from Xlib import X, Xatom, error
        from Xlib.display import Display
    except ImportError as exc:  # pragma: no cover - a broken install
        raise CaptureUnavailableError("python-xlib is not installed, so the selection cannot be read.") from exc
    try:
        dpy = Display(name)
    except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
        raise CaptureUnavailableError(f"Cannot open the X11 display {name}: {exc}") from exc
    try:
        return _convert(dpy, which, timeout, X, Xatom)
    finally:
        dpy.close()


def _convert(dpy, which: str, timeout: float, X, Xatom) -> str:  # noqa: N803 - Xlib's module names
    selection = dpy.intern_atom(which)
    if dpy.get_selection_owner(selection) == X.NONE:
        return ""
    utf8 = dpy.intern_atom("UTF8_STRING")
    incr = dpy.intern_atom("INCR")
    prop = dpy.intern_atom("PONDER_SELECTION")
    window = dpy.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent,
                                             event_mask=X.PropertyChangeMask)
    window.convert_selection(selection, utf8, prop, X.CurrentTime)
    dpy.flush()
    event = _wait(dpy, timeout, lambda e: e.type == X.SelectionNotify)
    if event is None:
        raise CaptureError("The application that owns the selection did not answer.")
    if event.property == X.NONE:
        return ""  # the owner cannot give text (an image, say)
    reply = window.get_full_property(prop, X.AnyPropertyType, sizehint=MAX_BYTES // 4)
    window.delete_property(prop)
    dpy.flush()
    if reply is None:
        return ""
    if reply.property_type == incr:
        data = _read_incr(dpy, window, prop, timeout, X)
    else:
        data = bytes(reply.value) if not isinstance(reply.value, str) else reply.value.encode()
    return data[:MAX_BYTES].decode("utf-8", "replace")


def _read_incr(dpy, window, prop, timeout: float, X) -> bytes:  # noqa: N803
    chunks: list[bytes] = []
    total = 0
    while True:
        event = _wait(dpy, timeout, lambda e: e.type == X.PropertyNotify and e.state == X.PropertyNewValue
                      and e.atom == prop)
        if event is None:
            raise CaptureError("The selection transfer stopped half-way.")
        part = window.get_full_property(prop, X.AnyPropertyType, sizehint=MAX_BYTES // 4)
        window.delete_property(prop)
        dpy.flush()
        value = b"" if part is None else bytes(part.value)
        if not value:
            return b"".join(chunks)
        chunks.append(value)
        total += len(value)
        if total > MAX_BYTES:
            return b"".join(chunks)


def _wait(dpy, timeout: float, wanted):
    deadline = time.monotonic() + timeout
    while True:
        while dpy.pending_events():
            event = dpy.next_event()
            if wanted(event):
                return event
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        select.select([dpy], [], [], left)
