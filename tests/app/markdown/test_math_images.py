"""Formulas in the window are drawn on the ops layer's math lane and arrive on the GUI thread."""

from __future__ import annotations

import threading

from app.markdown.math import MathImages
from app.ops import Ops


def test_a_formula_is_drawn_off_the_gui_thread_then_the_view_is_told(qtbot):
    ops = Ops()
    images = MathImages(ops=ops)
    told: list[bool] = []
    images.add_listener(lambda: told.append(threading.current_thread() is threading.main_thread()))
    assert images.lookup("x^2", False) is None  # not drawn yet: the answer shows the source
    assert [op.name for op in ops.running] == ["draw formula"]
    qtbot.waitUntil(lambda: bool(told), timeout=30_000)
    assert told == [True]
    image = images.lookup("x^2", False)
    assert image is not None and image.png.startswith(b"\x89PNG")
    ops.shutdown()


def test_quitting_drops_formulas_still_queued_and_tells_nobody(qtbot):
    ops = Ops()
    images = MathImages(ops=ops)
    drawn: list[str] = []
    draw = images._draw
    images._draw = lambda tex, display: (drawn.append(tex), draw(tex, display))[1]  # type: ignore[method-assign]
    told: list[bool] = []
    images.add_listener(lambda: told.append(True))
    for n in range(20):
        images.lookup(f"x^{{{n}}}", False)
    assert ops.shutdown(timeout_s=30) == []
    ops._drain()
    assert len(drawn) < 20 and told == []  # the queued ones never ran; the running one is not delivered
