"""Stop sequences, applied by the server to the answer text.

onnxruntime-genai has TurnOptions.set_stop_strings, but the engine's ChatRequest does not carry
stop strings yet, so the server cuts the streamed answer itself: text is held back while it may
be the start of a stop string, and the turn is cancelled as soon as one appears. Stops apply to
the answer only, never to the thinking.
"""

from __future__ import annotations


class StopFilter:
    """Feed answer text; get what may be sent, and whether a stop string was reached."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.pending = ""
        self.stopped = False

    def push(self, text: str) -> str:
        """Text safe to send now."""
        if self.stopped:
            return ""
        if not self.stops:
            return text
        self.pending += text
        cut = min((i for i in (self.pending.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.pending, self.stopped = self.pending[:cut], "", True
            return out
        keep = self._partial_tail()
        out, self.pending = self.pending[: len(self.pending) - keep], self.pending[len(self.pending) - keep:]
        return out

    def flush(self) -> str:
        """What was held back, at the end of the turn."""
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out

    def _partial_tail(self) -> int:
        """Length of the longest tail of pending that starts some stop string."""
        for size in range(min(self.hold, len(self.pending)), 0, -1):
            tail = self.pending[-size:]
            if any(s.startswith(tail) for s in self.stops):
                return size
        return 0
