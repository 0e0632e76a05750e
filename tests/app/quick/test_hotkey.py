"""The global hotkey on a real X server: xdotool presses it, the popup opens."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from app.quick.hotkey import WAYLAND_HELP, HotkeyError, X11Hotkey, hotkey_support, parse_hotkey
from app.quick.popup import ActionPopup
from tests.engine.capture.xserver import xvfb


@pytest.fixture(scope="module")
def display():
    with xvfb() as name:
        yield name


def _press(display: str, keys: str) -> None:
    if not shutil.which("xdotool"):
        pytest.skip("xdotool is not installed (.ci/run installs it)")
    subprocess.run(["xdotool", "key", keys], env=dict(os.environ, DISPLAY=display), check=True, timeout=10)


def test_pressing_the_hotkey_opens_the_popup(qtbot, display):
    hotkey = X11Hotkey()
    hotkey.register("Ctrl+Alt+Space", display=display)
    popups: list[ActionPopup] = []

    def on_hotkey():
        popup = ActionPopup("What is 2 plus 3?")
        qtbot.addWidget(popup)
        popup.show_near()
        popups.append(popup)

    hotkey.activated.connect(on_hotkey)
    try:
        with qtbot.waitSignal(hotkey.activated, timeout=10_000):
            _press(display, "ctrl+alt+space")
        assert popups and popups[0].isVisible() and popups[0].objectName() == "quickActions"
        with qtbot.assertNotEmitted(hotkey.activated, wait=300):
            _press(display, "ctrl+space")  # not the shortcut
    finally:
        hotkey.unregister()


def test_a_taken_shortcut_is_reported(display):
    first, second = X11Hotkey(), X11Hotkey()
    first.register("Ctrl+Alt+F7", display=display)
    try:
        with pytest.raises(HotkeyError, match="already used"):
            second.register("Ctrl+Alt+F7", display=display)
    finally:
        first.unregister()
        second.unregister()


@pytest.mark.parametrize("text", ["", "Space", "Hyper+X", "Ctrl+NoSuchKey"])
def test_bad_shortcuts_are_refused(display, text):
    with pytest.raises(HotkeyError):
        X11Hotkey().register(text, display=display)


def test_parse_and_wayland_help():
    assert parse_hotkey("Ctrl+Alt+Space") == (["ControlMask", "Mod1Mask"], "space")
    assert hotkey_support({"WAYLAND_DISPLAY": "wayland-0"}) == WAYLAND_HELP
    assert "ponder act" in WAYLAND_HELP
    assert hotkey_support({"DISPLAY": ":0"}) == "x11"
