"""The context meter alone: the words it shows as the composer narrows (the tooltip keeps all)."""

from __future__ import annotations

from app.chat.context_meter import ContextMeter, KvMemory, kv_memory


def test_a_narrower_meter_shows_shorter_words_and_never_a_clipped_stub(qtbot):
    from PySide6.QtWidgets import QWidget

    row = QWidget()  # as in the composer: a child, resized by its parent's layout
    qtbot.addWidget(row)
    row.resize(600, 40)
    row.show()
    meter = ContextMeter(row)
    meter.set_context(2048)
    meter.show_usage(74, KvMemory(used=74 * 2048, reserved=4 * 2**20))
    meter.resize(meter.sizeHint())
    assert meter.label.text() == "Context 74 / 2,048 · Memory 148 KB / 4 MB"
    seen = []
    for width in range(meter.sizeHint().width(), 0, -10):
        meter.resize(width, meter.height())
        text = meter.label.text()
        if not seen or seen[-1] != text:
            seen.append(text)
        shown = meter.bar.width() + 6 + meter.label.fontMetrics().horizontalAdvance(text)
        assert not text or shown <= width  # what is shown fits
    assert seen == ["Context 74 / 2,048 · Memory 148 KB / 4 MB", "74 / 2,048 · 148 KB / 4 MB", "74 / 2,048", ""]
    assert "uses 148 KB of the 4 MB reserved" in meter.toolTip()


def test_memory_is_shown_only_where_the_engine_reported_a_reservation():
    assert kv_memory(100, 2048, None) is None  # a reopened chat, or a model whose shape is unknown
    assert kv_memory(100, 0, 4096) is None
    assert kv_memory(100, 2048, 1_000_000) == KvMemory(204_800, 1_000_000)
    assert kv_memory(10_000, 2048, 1_000_000).used == 1_000_000  # never more than the reservation
