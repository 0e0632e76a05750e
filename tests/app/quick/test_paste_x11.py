"""Replace selection on a real X server: the answer replaces the selected text of the focused field."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.engine.capture.xserver import xvfb

# Another application with selected text in a focused field; when it has the focus, Ponder's
# paste_back runs (clipboard + XTest Ctrl+V). It prints the field's text once the answer is in
# it, or after 20 s whatever is there.
EDITOR = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLineEdit
from app.quick.paste import can_paste_back, paste_back

app = QApplication([])
edit = QLineEdit("the selected words")
edit.show()
edit.activateWindow()
edit.setFocus()
edit.selectAll()
state = {"pasted": False, "deadline": time.monotonic() + 20}

def poll():
    if not state["pasted"] and edit.hasFocus():
        assert can_paste_back("selection")
        state["pasted"] = True
        paste_back("the answer")
    if edit.text() == "the answer" or time.monotonic() > state["deadline"]:
        print(edit.text(), flush=True)
        app.quit()

timer = QTimer()
timer.timeout.connect(poll)
timer.start(50)
app.exec()
"""


def test_the_answer_replaces_the_selection_in_the_focused_field():
    with xvfb() as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        result = subprocess.run([sys.executable, "-c", EDITOR], env=env, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the answer"
