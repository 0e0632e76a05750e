"""The answer view: Markdown shown as rich text, code blocks copied by their link."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from app.chat.answer_view import AnswerView
from app.markdown.render import MarkdownColors, MarkdownRenderer


def test_code_copy_link_puts_the_code_on_the_clipboard(qtbot):
    view = AnswerView(MarkdownRenderer(MarkdownColors()))
    qtbot.addWidget(view)
    view.set_markdown("Run this:\n\n```bash\necho hello\n```\n", final=True)
    assert "echo hello" in view.toPlainText() and "```" not in view.toPlainText()
    with qtbot.waitSignal(view.code_copied) as copied:
        view.anchorClicked.emit(QUrl("copy:0"))
    assert copied.args == ["echo hello\n"]
    assert QGuiApplication.clipboard().text() == "echo hello\n"


def test_streaming_text_is_shown_and_the_final_render_is_immediate(qtbot):
    view = AnswerView(MarkdownRenderer(MarkdownColors()))
    qtbot.addWidget(view)
    view.set_markdown("**Partial", final=False)
    qtbot.waitUntil(lambda: "Partial" in view.toPlainText(), timeout=2_000)
    view.set_markdown("**Partial** answer.", final=True)
    assert view.toPlainText().strip() == "Partial answer."
