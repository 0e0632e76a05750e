"""Split a model's decoded text stream into thinking and answer.

Microsoft's Phi-4 ONNX builds define no reasoning token ids, so this works on decoded text:
`<think>…</think>answer`. A marker split across chunks is held back until it is complete.
"""

from __future__ import annotations

from dataclasses import dataclass

THINK_START = "<think>"
THINK_END = "</think>"


@dataclass(frozen=True)
class Piece:
    """A run of text and whether it is thinking."""

    thinking: bool
    text: str


class ReasoningSplitter:
    """Stateful splitter fed with decoded chunks.

    start_inside: the stream starts inside thinking (a template whose generation prompt
    already opened it).
    """

    def __init__(
        self, start: str = THINK_START, end: str = THINK_END, *, start_inside: bool = False
    ) -> None:
        self.start, self.end = start, end
        self.inside = start_inside
        self.seen_end = False
        self._buf = ""
        self._after_end = False  # drop whitespace right after </think>

    def push(self, text: str) -> list[Piece]:
        """Feed a chunk; returns the pieces that are certain so far."""
        self._buf += text
        out: list[Piece] = []
        while True:
            if self._after_end:
                self._buf = self._buf.lstrip()
                if not self._buf:
                    return out
                self._after_end = False
            marker = self.end if self.inside else self.start
            index = self._buf.find(marker)
            if not self.inside:
                # Models often emit a second closing marker after a forced close: swallow it,
                # no marker text may reach an answer.
                stray = self._buf.find(self.end)
                if stray >= 0 and (index < 0 or stray < index):
                    if stray:
                        out.append(Piece(False, self._buf[:stray]))
                    self._buf = self._buf[stray + len(self.end) :]
                    continue
            if index >= 0:
                if index:
                    out.append(Piece(self.inside, self._buf[:index]))
                self._buf = self._buf[index + len(marker) :]
                if self.inside:
                    self.seen_end = True
                    self._after_end = True
                self.inside = not self.inside
                continue
            hold = _partial_suffix(self._buf, marker)
            if not self.inside:
                hold = max(hold, _partial_suffix(self._buf, self.end))
            if len(self._buf) > hold:
                out.append(Piece(self.inside, self._buf[: len(self._buf) - hold]))
                self._buf = self._buf[len(self._buf) - hold :]
            return out

    def flush(self) -> list[Piece]:
        """End of stream: whatever is held back is plain text of the current kind."""
        out = [Piece(self.inside, self._buf)] if self._buf else []
        self._buf = ""
        return out


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest end of text that is a proper prefix of marker."""
    if marker[0] not in text[-(len(marker) - 1) :]:
        return 0  # the common case, decided without a Python loop
    for k in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-k:]):
            return k
    return 0
