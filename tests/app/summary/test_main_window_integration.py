"""Summaries from the main window: the File menu action, dropping files, Continue in chat."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.summary.view import SummaryView


def _drop(window, files) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    point = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return enter.isAccepted(), drop.isAccepted()


@pytest.mark.slow
def test_dropping_a_file_on_the_window_opens_its_summary_and_it_can_go_to_the_chat(ponder, qtbot, tmp_path):
    action = ponder.window.findChild(type(ponder.window.settings_action), "summarizeFileAction")
    assert action is not None and action in ponder.window.menu("File").actions()
    notes = tmp_path / "notes.md"
    notes.write_text("# Plan\nShip the release on Friday.\n\n# Risks\nThe build server is slow.\n")
    text = QMimeData()
    text.setText("just text, not a file")
    not_files = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, text, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(ponder.window, not_files)
    assert ponder.summary_actions.views == []
    assert _drop(ponder.window, [notes]) == (True, True)
    views = ponder.summary_actions.views
    assert len(views) == 1 and isinstance(views[0], SummaryView) and views[0].isVisible()
    view = views[0]
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.session.result is not None, timeout=120_000)
    assert "§ Plan" in view.markdown or "§ Risks" in view.markdown
    view.chat_button.click()
    attachment = ponder.window.chat.composer.attachment
    assert attachment is not None and attachment.text == view.markdown
    assert attachment.name == "Summary of notes.md"
    chip = ponder.window.chat.composer.chip_label.text()
    assert "too long to paste" not in chip and "📄" not in chip and "Summary of notes.md" in chip

    # The clipboard: File > Summarize clipboard opens a summary of its text.
    QApplication.clipboard().setText("# Budget\nThe budget was approved in May.\n")
    clip = ponder.window.findChild(type(action), "summarizeClipboardAction")
    assert clip is not None and clip in ponder.window.menu("File").actions()
    clip.trigger()
    assert len(views) == 2
    qtbot.addWidget(views[1])
    qtbot.waitUntil(lambda: views[1].session.result is not None, timeout=120_000)
    assert views[1].heading.text() == "Summary of clipboard text"
    assert "§ Budget" in views[1].markdown
