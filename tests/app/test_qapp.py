"""The entry points configure the QApplication that already runs (a test's) instead of making a second."""

from __future__ import annotations

from app.qapp import widgets_application


def test_the_running_application_is_reused(qapp):
    assert widgets_application() is qapp
