"""Reading the X11 PRIMARY selection and CLIPBOARD from a real X server (Xvfb)."""

from __future__ import annotations

import pytest

from engine.capture.errors import CaptureUnavailableError
from engine.capture.sources import capture_text
from engine.capture.x11 import read_selection
from tests.engine.capture.xserver import SelectionOwner, xvfb


@pytest.fixture(scope="module")
def display():
    with xvfb() as name:
        yield name


@pytest.mark.parametrize("which", ["PRIMARY", "CLIPBOARD"])
def test_reads_the_owned_selection(display, which):
    owner = SelectionOwner(display, which, "What is 2 plus 3? — ünïcode ✓")
    try:
        assert read_selection(which, display=display) == "What is 2 plus 3? — ünïcode ✓"
    finally:
        owner.close()


def test_nobody_owns_it_means_empty(display):
    assert read_selection("SECONDARY", display=display) == ""


def test_capture_text_uses_primary_for_selection(display, monkeypatch):
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    primary = SelectionOwner(display, "PRIMARY", "selected words")
    clipboard = SelectionOwner(display, "CLIPBOARD", "copied words")
    try:
        assert capture_text("selection") == "selected words"
        assert capture_text("clipboard") == "copied words"
    finally:
        primary.close()
        clipboard.close()


def test_no_display_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    with pytest.raises(CaptureUnavailableError, match="no desktop session|no X11 display"):
        capture_text("clipboard")
