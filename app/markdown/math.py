"""LaTeX formulas drawn as PNG images with matplotlib's mathtext, off the GUI thread.

mathtext needs no TeX install and no network. Importing matplotlib and its first drawing cost
about a second, so formulas are drawn on the ops layer's "math" lane (one thread, in order) and
cached; until a formula is ready the answer shows its source, and the view re-renders when it
arrives.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.ops import Ops

log = logging.getLogger(__name__)

#: The ops lane formulas are drawn on: one thread, so matplotlib is never used from two at once.
LANE = "math"
#: Bounds of the formula cache (a formula's PNG is a few KB; a big display one up to ~100 KB).
MAX_IMAGES = 512
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class MathImage:
    """A drawn formula: PNG bytes and its size in logical pixels."""

    key: str
    png: bytes
    width: int
    height: int


_REWRITES = (
    (re.compile(r"\\[dt]frac\b"), r"\\frac"),
    (re.compile(r"\\(?:displaystyle|textstyle|limits|nolimits)\b"), ""),
    (re.compile(r"\\operatorname\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\text(?:bf|it|rm)?\{([^{}]*)\}"), r"\\mathrm{\1}"),
    (re.compile(r"\\(?:q?quad)\b"), r"\\ \\ "),
    (re.compile(r"\\left\.|\\right\."), ""),
    (re.compile(r"\\le\b"), r"\\leq"),
    (re.compile(r"\\ge\b"), r"\\geq"),
    (re.compile(r"\s*\n\s*"), " "),
)


def normalise_tex(tex: str) -> str:
    r"""Rewrite common LaTeX that mathtext lacks (\dfrac, \text, \boxed…) into what it has."""
    tex = tex.strip()
    tex = _unbox(tex)
    for pattern, repl in _REWRITES:
        tex = pattern.sub(repl, tex)
    return tex.strip()


def _unbox(tex: str) -> str:
    r"""\boxed{x} → x (balanced braces); mathtext has no boxes."""
    while (start := tex.find("\\boxed{")) >= 0:
        depth, i = 0, start + len("\\boxed")
        for i in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[i], 0)
            if depth == 0:
                break
        else:
            return tex
        tex = tex[:start] + tex[start + 7 : i] + tex[i + 1 :]
    return tex


#: A multi-line environment inside a formula: mathtext has none, so its rows are drawn one by
#: one and stacked (aligned, cases, matrices… rather than their source), with whatever stands
#: before and after it (`f(x) = \\begin{cases}…`) drawn beside the stack.
_ENVIRONMENT = re.compile(r"\\begin\{([A-Za-z]+\*?)\}(.*)\\end\{\1\}", re.S)


@dataclass(frozen=True)
class Environment:
    """A formula split around its multi-line environment."""

    before: str
    rows: list[str]
    after: str


def find_environment(tex: str) -> Environment | None:
    """The formula's multi-line environment, each row one mathtext can draw; None if it has none."""
    match = _ENVIRONMENT.search(tex)
    if match is None:
        return None
    name = match.group(1).rstrip("*")
    # Column separators: alignment points vanish; cells of cases and matrices get a gap.
    gap = r"\quad " if name == "cases" or name.endswith("matrix") else ""
    rows = [row.strip().replace("&", gap) for row in re.split(r"\\\\", match.group(2))]
    rows = [row for row in rows if row]
    if not rows:
        return None
    return Environment(tex[: match.start()].strip(), rows, tex[match.end() :].strip())


def draw(tex: str, *, display: bool, color: str, point_size: float, scale: float) -> MathImage | None:
    """Draw one formula; None when mathtext cannot parse it."""
    size = point_size * (1.35 if display else 1.05)
    env = find_environment(tex)
    if env is None:
        png = _png(tex, size, color, scale)
    else:
        pieces = [_png(env.before, size, color, scale) if env.before else b"",
                  _stack([_png(row, size, color, scale) for row in env.rows]),
                  _png(env.after, size, color, scale) if env.after else b""]
        png = _side_by_side(pieces)
    if png is None:
        return None
    # PNG header: width and height are big-endian at bytes 16..24.
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return MathImage(_key(tex, display, color, point_size, scale), png,
                     max(1, round(width / scale)), max(1, round(height / scale)))


def _png(tex: str, size: float, color: str, scale: float) -> bytes | None:
    from matplotlib import rc_context
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    buffer = io.BytesIO()
    try:
        with rc_context({"savefig.transparent": True, "mathtext.fontset": "dejavusans"}):
            math_to_image(f"${tex}$", buffer, prop=FontProperties(size=size), dpi=96 * scale,
                          format="png", color=color)
    except Exception as exc:  # noqa: BLE001 - mathtext raises ValueError and friends
        log.debug("cannot draw %r: %s", tex, exc)
        return None
    return buffer.getvalue()


def _stack(rows: list[bytes | None]) -> bytes | None:
    """One PNG of the rows, centred, one under the other; None if any row could not be drawn."""
    return _combine(rows, vertical=True)


def _side_by_side(pieces: list[bytes | None]) -> bytes | None:
    """One PNG of the pieces left to right, centred vertically; b"" pieces are skipped."""
    return _combine([p for p in pieces if p != b""], vertical=False)


def _combine(pngs: list[bytes | None], *, vertical: bool) -> bytes | None:
    present = [png for png in pngs if png is not None]
    if not pngs or len(present) != len(pngs):
        return None
    import numpy as np
    from matplotlib.image import imread, imsave

    images = [imread(io.BytesIO(png), format="png") for png in present]
    along, across = (0, 1) if vertical else (1, 0)
    extent = max(image.shape[across] for image in images)
    space = max(2, images[0].shape[0] // 4) if vertical else max(2, images[0].shape[0] // 6)
    parts = []
    for image in images:
        shape = [0, 0, 4]
        shape[along], shape[across] = image.shape[along], extent
        padded = np.zeros(shape, dtype=image.dtype)
        offset = (extent - image.shape[across]) // 2
        if vertical:
            padded[:, offset : offset + image.shape[1]] = image
        else:
            padded[offset : offset + image.shape[0], :] = image
        gap_shape = list(shape)
        gap_shape[along] = space
        parts += [padded, np.zeros(gap_shape, dtype=image.dtype)]
    buffer = io.BytesIO()
    imsave(buffer, np.concatenate(parts[:-1], axis=along), format="png")
    return buffer.getvalue()


def _key(tex: str, display: bool, color: str, point_size: float, scale: float) -> str:
    raw = f"{tex}|{display}|{color}|{point_size}|{scale}".encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]


class MathImages:
    """A cache of drawn formulas, filled on the ops layer's "math" lane.

    `lookup(tex, display)` returns the image or None (and queues the drawing); listeners are
    called on the GUI thread when a new image is ready. Without `ops` (a script) it draws at once. The cache keeps the most
    recently used formulas within `max_images` and `max_bytes` (a long session of maths answers
    would otherwise keep every PNG forever); a view keeps the images it shows, so dropping one
    here costs a redraw at most.
    """

    def __init__(self, *, color: str = "#000000", point_size: float = 11.0, scale: float = 1.0,
                 max_images: int = MAX_IMAGES, max_bytes: int = MAX_BYTES, ops: Ops | None = None) -> None:
        self.ops = ops
        self.color, self.point_size, self.scale = color, point_size, scale
        self.max_images, self.max_bytes = max_images, max_bytes
        self._done: OrderedDict[str, MathImage | None] = OrderedDict()
        self._bytes = 0
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def lookup(self, tex: str, display: bool) -> MathImage | None:
        key = _key(tex, display, self.color, self.point_size, self.scale)
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            if key in self._pending:
                return None
            self._pending.add(key)
        if self.ops is None:
            image = self._draw(tex, display)  # no app (a script): draw now
            self._store(key, image)
            return image
        self.ops.run(lambda _state: self._draw(tex, display), name="draw formula", lane=LANE,
                     on_done=lambda image: self._ready(key, image),
                     on_error=lambda _failure: self._ready(key, None),  # shown as its source
                     on_cancelled=lambda: self._forget(key))
        return None

    def warm_up(self) -> None:
        """Load the formula renderer on the drawing lane now, so the first formula in an answer
        does not wait while matplotlib is imported (about a second)."""
        if self.ops is not None:
            self.ops.run(lambda _state: self._draw("x", False), name="load the formula renderer", lane=LANE)

    def _draw(self, tex: str, display: bool) -> MathImage | None:
        return draw(tex, display=display, color=self.color, point_size=self.point_size, scale=self.scale)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._pending.discard(key)

    def _ready(self, key: str, image: MathImage | None) -> None:
        self._store(key, image)
        for callback in list(self._listeners):
            callback()

    def __len__(self) -> int:
        return len(self._done)

    @property
    def cached_bytes(self) -> int:
        """PNG bytes held by the cache."""
        return self._bytes

    def _store(self, key: str, image: MathImage | None) -> None:
        with self._lock:
            self._pending.discard(key)
            old = self._done.pop(key, None)
            self._bytes -= len(old.png) if old else 0
            self._done[key] = image
            self._bytes += len(image.png) if image else 0
            while len(self._done) > 1 and (len(self._done) > self.max_images or self._bytes > self.max_bytes):
                _, dropped = self._done.popitem(last=False)  # the least recently used
                self._bytes -= len(dropped.png) if dropped else 0
