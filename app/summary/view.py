"""The summary view (objectName summaryView): options, progress with Cancel, the cited result,
Copy, Save as Markdown and Continue in chat. A top-level window of its own."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.summary.session import SummarizerFactory, SummarySession
from engine.summarize.events import Stage, Summary, SummaryProgress, progress_text
from engine.summarize.options import Form, Length, SummaryOptions
from engine.summarize.points import Point, render

log = logging.getLogger(__name__)

_ERROR_STYLE = "color: #c62828; font-weight: 600;"
_LENGTHS = [("Short", Length.SHORT), ("Medium", Length.MEDIUM), ("Long", Length.LONG)]
_FORMS = [("Bullet points", Form.BULLETS), ("Paragraphs", Form.PARAGRAPH),
          ("Key points and action items", Form.KEY_POINTS)]


def _ask_save_path(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save summary as Markdown", suggested,
                                          "Markdown (*.md);;All files (*)")
    return path


class SummaryView(QWidget):
    """Summarises files and shows the result with its sources.

    Signals:
        continue_requested(str, str): open the chat with (title, summary Markdown) attached.
        finished(): a run ended (done, stopped or failed).
    """

    continue_requested = Signal(str, str)
    finished = Signal()

    def __init__(self, summarizer: SummarizerFactory, *, parent: QWidget | None = None,
                 ask_save_path: Callable[[QWidget, str], str] = _ask_save_path) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("summaryView")
        # Qt adds " — Ponder" (the application's display name) to every window title itself.
        self.setWindowTitle("Summary")
        self.resize(720, 640)
        self.session = SummarySession(summarizer, self)
        self._ask_save_path = ask_save_path
        self.markdown = ""

        self.heading = QLabel("Summary", self)
        self.heading.setObjectName("summaryTitle")
        self.heading.setStyleSheet("font-weight: 600; font-size: 1.15em;")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.length_box = self._combo("summaryLength", _LENGTHS, 1)
        self.form_box = self._combo("summaryForm", _FORMS, 0)
        self.focus_edit = QLineEdit(self)
        self.focus_edit.setObjectName("summaryFocus")
        self.focus_edit.setPlaceholderText("Optional: a question to focus on")
        self.focus_edit.returnPressed.connect(self.rerun)
        self.run_button = QPushButton("Summarize again", self)
        self.run_button.setObjectName("summaryRun")
        self.run_button.clicked.connect(self.rerun)
        options = QHBoxLayout()
        options.addWidget(self.length_box)
        options.addWidget(self.form_box)
        options.addWidget(self.focus_edit, 1)
        options.addWidget(self.run_button)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("summaryProgress")
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("summaryCancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel("", self)
        self.status.setObjectName("summaryStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.notes = QLabel("", self)
        self.notes.setObjectName("summaryNotes")
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.notes.setStyleSheet("color: #b26a00;")
        self.notes.hide()

        self.result = QTextBrowser(self)
        self.result.setObjectName("summaryResult")
        self.result.setOpenLinks(False)  # document text is untrusted: nothing in it is opened
        self.result.setPlaceholderText("The key points appear here as each section is read.")
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("summaryCopy")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("Save as Markdown…", self)
        self.save_button.setObjectName("summarySave")
        self.save_button.clicked.connect(self.save)
        self.chat_button = QPushButton("Continue in chat", self)
        self.chat_button.setObjectName("summaryContinue")
        self.chat_button.clicked.connect(self._continue)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.chat_button)

        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 14)
        column.addWidget(self.heading)
        column.addLayout(options)
        column.addLayout(progress_row)
        column.addWidget(self.status)
        column.addWidget(self.notes)
        column.addWidget(self.result, 1)
        column.addLayout(buttons)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self).activated.connect(self.cancel)
        self._set_result_actions(False)
        self.busy_changed(False)

    # --- actions ---

    def start(self, files: Sequence[str | Path], options: SummaryOptions | None = None, *,
              text: str | None = None, text_name: str = "clipboard text") -> bool:
        """Summarise files, or a text (the options shown are used when none are given)."""
        paths = [Path(f) for f in files]
        if options is not None:
            self._show_options(options)
        labels = ([text_name] if text is not None else []) + [p.name for p in paths]
        names = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        self.heading.setText(f"Summary of {names}")
        self.setWindowTitle(f"Summary of {names}")
        self.notes.hide()
        self.status.setStyleSheet("")
        self.result.clear()
        self.markdown = ""
        self._set_result_actions(False)
        self.run_button.show()
        self.chat_button.show()
        self.status.setText("Starting…")
        return self.session.start(paths, self.options(), text=text, text_name=text_name)

    def rerun(self) -> None:
        """Run again with the options now shown (saved sections of an equal run are reused)."""
        session = self.session
        if (session.files or session.text is not None) and not session.busy:
            self.start(session.files, text=session.text, text_name=session.text_name)

    def cancel(self) -> None:
        if self.session.busy:
            self.status.setText("Stopping after the current step…")
            self.session.cancel()

    def options(self) -> SummaryOptions:
        return SummaryOptions(self.length_box.currentData(), self.form_box.currentData(),
                              " ".join(self.focus_edit.text().split())[:500])

    def copy(self) -> None:
        if self.markdown:
            QGuiApplication.clipboard().setText(self.markdown)
            self.status.setText("Copied to the clipboard.")

    def save(self) -> None:
        if not self.markdown:
            return
        first = self.session.files[0] if self.session.files else Path("summary")
        suggested = str(first.with_name(f"{first.stem} summary.md"))
        target = self._ask_save_path(self, suggested)
        if not target:
            return
        try:
            Path(target).write_text(self.markdown, encoding="utf-8")
        except OSError as exc:
            self.status.setText(f"The summary could not be saved: {exc.strerror or exc}")
            return
        self.status.setText(f"Saved to {target}")

    def _continue(self) -> None:
        if self.markdown:
            self.continue_requested.emit(self.heading.text(), self.markdown)

    # --- SummaryListener ---

    def summary_progress(self, event: SummaryProgress) -> None:
        if event.stage in (Stage.READING, Stage.SECTIONS):
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.step - 1)
        elif event.stage in (Stage.COMBINING, Stage.WRITING):
            self.progress.setRange(0, 0)  # busy: the number of merge rounds is not known ahead
        self.status.setText(progress_text(event))

    def summary_points(self, points: Sequence[Point]) -> None:
        several = len(self.session.files) + (self.session.text is not None) > 1
        self._show(render(points, paragraph=False, with_document=several))

    def summary_notes(self, notes: Sequence[str]) -> None:
        self.notes.setText("\n".join(notes))
        self.notes.show()

    def summary_finished(self, summary: Summary) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if not summary.partial else 0)
        self._show(summary.markdown)
        if summary.notes:
            self.summary_notes(list(summary.notes))
        if summary.partial:
            done = summary.stats.map_steps
            self.status.setText(f"Stopped after {done} of {summary.sections} sections. These are the key "
                                "points so far; Summarize again continues where it stopped.")
        else:
            took = summary.stats.elapsed_s
            self.status.setText(f"Done: {summary.sections} section{'s' if summary.sections != 1 else ''}, "
                                f"{len(summary.points)} points, {took:.0f} s.")
        self.finished.emit()

    def summary_failed(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(text)
        self.status.setStyleSheet(_ERROR_STYLE)
        if not self.markdown.strip():
            # Nothing was read: running it again or taking it to the chat would do nothing.
            self.run_button.hide()
            self.chat_button.hide()
        self.finished.emit()

    def busy_changed(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.run_button.setEnabled(not busy)
        for widget in (self.length_box, self.form_box, self.focus_edit):
            widget.setEnabled(not busy)

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        # Closing stops the run; the sections done so far stay saved for the next run.
        self.session.cancel()
        self.session.listener = None  # the window may be deleted before the run has stopped
        super().closeEvent(event)

    # --- internals ---

    def _show(self, markdown: str) -> None:
        self.markdown = markdown
        bar = self.result.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.result.setMarkdown(markdown)
        if at_end and self.session.busy:
            bar.setValue(bar.maximum())
        self._set_result_actions(bool(markdown.strip()))

    def _set_result_actions(self, enabled: bool) -> None:
        for button in (self.copy_button, self.save_button, self.chat_button):
            button.setEnabled(enabled)

    def _combo(self, name: str, items: list, index: int) -> QComboBox:
        box = QComboBox(self)
        box.setObjectName(name)
        for text, value in items:
            box.addItem(text, value)
        box.setCurrentIndex(index)
        return box

    def _show_options(self, options: SummaryOptions) -> None:
        self.length_box.setCurrentIndex(self.length_box.findData(options.length))
        self.form_box.setCurrentIndex(self.form_box.findData(options.form))
        self.focus_edit.setText(options.focus)
