"""Puts summaries into the main window: File ▸ Summarize file…, and files dropped on the window.

install_summary(app) is the only call app/main.py makes; each summary opens in its own
SummaryView window, and "Continue in chat" attaches the summary to the chat's next question.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog

from app.summary.view import SummaryView
from engine.errors import PonderError

log = logging.getLogger(__name__)

FILE_FILTER = "Documents (*.pdf *.docx *.txt *.md *.markdown *.html *.htm *.rtf);;All files (*)"


class SummaryActions(QObject):
    """The summary entry points of one main window, and the summary windows it opened."""

    def __init__(self, app: Any) -> None:
        super().__init__(app.window)
        self.app = app
        self.views: list[SummaryView] = []

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.app.window, "Summarize file", "", FILE_FILTER)
        if files:
            self.open(files)

    def summarize_clipboard(self) -> SummaryView | None:
        """Summarise the text on the clipboard (a notice when there is none)."""
        from PySide6.QtGui import QGuiApplication

        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self.app.window.notice_banner.show_message("The clipboard holds no text to summarise.", kind="warning")
            return None
        return self.open([], text=text)

    def open(self, files: Sequence[str | Path], *, text: str | None = None) -> SummaryView:
        """A new summary window for files (or a text), started at once."""
        view = SummaryView(self._summarizer)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.continue_requested.connect(self.continue_in_chat)
        view.destroyed.connect(lambda _=None, v=view: self.views.remove(v) if v in self.views else None)
        self.views.append(view)
        view.show()
        view.start(files, text=text)
        return view

    async def _summarizer(self):
        from engine.summarize.job import make_summarizer

        app = self.app
        if app.controller.model is None and app.load_task is not None and not app.load_task.done():
            try:
                await app.host.wait_ready()
            except PonderError:
                pass  # said below
        result = app.controller.model
        if result is None:
            raise PonderError("No model is loaded, so nothing can be summarised. Pick a model in Settings (Ctrl+,).")
        # A local model counts tokens with its folder's tokenizer; a remote one with an estimate.
        summarizer = await app.ops.call(make_summarizer, app.assistant, result, app.paths,
                                        name="prepare the summary")
        return _HeldSummarizer(summarizer, app.host)

    def continue_in_chat(self, title: str, markdown: str) -> None:
        from app.chat.attachments import Attachment

        window = self.app.window
        window.chat.composer.set_attachment(Attachment(title, markdown))
        window.showNormal()
        window.raise_()
        window.activateWindow()
        window.chat.composer.input.setFocus()

    # --- drag and drop onto the main window ---

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not isinstance(event, QDropEvent):  # drag enter and move events are drop events too
            return False
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if _local_files(event):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            files = _local_files(event)
            if files:
                event.acceptProposedAction()
                self.open(files)
                return True
        return False


class _HeldSummarizer:
    """A summary holds the model for its whole run: a model change waits until it ends (never
    mid-summary), and quitting stops its running step."""

    def __init__(self, summarizer: Any, host: Any) -> None:
        self.summarizer, self.host = summarizer, host

    async def run(self, documents: Any, options: Any, *, control: Any = None, **options_kw: Any) -> Any:
        from engine.summarize.steps import SummaryControl

        control = control or SummaryControl()
        with self.host.hold("summary", cancel=control.cancel):
            return await self.summarizer.run(documents, options, control=control, **options_kw)


def _local_files(event: QDropEvent) -> list[str]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def install_summary(app: Any) -> SummaryActions:
    """Add "Summarize file…" (Ctrl+Shift+S) to the File menu and accept dropped files."""
    actions = SummaryActions(app)
    action = app.window.add_action("File", "Summari&ze file…", QKeySequence("Ctrl+Shift+S"), actions.choose_files)
    action.setObjectName("summarizeFileAction")
    menu = app.window.menu("File")
    menu.removeAction(action)
    menu.insertAction(app.window.settings_action, action)  # next to New chat, above Settings and Quit
    clipboard = app.window.add_action("File", "Summarize clip&board", None, actions.summarize_clipboard)
    clipboard.setObjectName("summarizeClipboardAction")
    menu.removeAction(clipboard)
    menu.insertAction(app.window.settings_action, clipboard)
    app.window.setAcceptDrops(True)
    app.window.installEventFilter(actions)
    return actions
