"""The summary window as a user drives it: progress, result with sources, Cancel, Copy, Save, errors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.summary.view import SummaryView
from engine.assistant import Assistant
from engine.model_folder import validate_model_folder
from engine.service import InferenceService, ModelChoice
from engine.summarize.job import make_summarizer
from engine.summarize.options import Form, SummaryOptions
from tests.engine.documents import corpus

pytestmark = [pytest.mark.slow]


@pytest.fixture
def view(qtbot, qloop, ponder_home, tmp_path):
    """A SummaryView on the real demo model; Save writes to tmp_path/saved.md without a dialog."""
    service = InferenceService(paths=ponder_home)
    assistant = Assistant(service)

    async def summarizer():
        result = await assistant.load(ModelChoice("demo"))
        return make_summarizer(assistant, validate_model_folder(result.folder.path), ponder_home)

    saved = tmp_path / "saved.md"
    widget = SummaryView(summarizer, ask_save_path=lambda parent, suggested: str(saved))
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.session.cancel()
    qtbot.waitUntil(lambda: not widget.session.busy, timeout=30_000)
    service.close()


def test_a_pdf_is_summarised_with_progress_and_page_sources(view, qtbot, tmp_path):
    pdf = corpus.make_pdf(tmp_path / "report.pdf", pages=4)
    steps: list[str] = []
    view.status.setText("")
    original = view.summary_progress
    view.summary_progress = lambda event: (original(event), steps.append(view.status.text()))
    assert not view.copy_button.isEnabled()
    with qtbot.waitSignal(view.finished, timeout=120_000):
        assert view.start([pdf])
        assert view.cancel_button.isEnabled() and not view.run_button.isEnabled()
    assert view.objectName() == "summaryView"
    assert any(s.startswith("Section 1 of ") for s in steps) and steps[-1] == "Writing the summary"
    assert view.status.text().startswith("Done: ")
    assert "(p. " in view.markdown or "(pp. " in view.markdown
    assert "p. " in view.result.toPlainText()
    assert view.heading.text() == "Summary of report.pdf"
    assert not view.cancel_button.isEnabled()

    view.copy()
    assert QApplication.clipboard().text() == view.markdown
    view.save()
    assert (tmp_path / "saved.md").read_text() == view.markdown
    assert view.status.text() == f"Saved to {tmp_path / 'saved.md'}"
    with qtbot.waitSignal(view.continue_requested) as continued:
        view.chat_button.click()
    assert continued.args == ["Summary of report.pdf", view.markdown]


def test_cancel_keeps_the_points_found_so_far(view, qtbot, tmp_path):
    pdf = corpus.make_pdf(tmp_path / "long.pdf", pages=6, repeat=14)
    view.start([pdf])
    qtbot.waitUntil(lambda: len(view.session.points) >= 1, timeout=120_000)
    with qtbot.waitSignal(view.finished, timeout=60_000):
        view.cancel_button.click()
    assert view.status.text().startswith("Stopped after ")
    assert view.markdown.strip() and view.copy_button.isEnabled()
    assert view.session.result is not None and view.session.result.partial
    # Summarize again continues from the saved sections.
    with qtbot.waitSignal(view.finished, timeout=120_000):
        view.run_button.click()
    assert view.session.result is not None and not view.session.result.partial
    assert view.session.result.stats.resumed_steps >= 1


@pytest.mark.parametrize("case", ["encrypted pdf", "binary as txt", "deflate bomb pdf"])
def test_a_hostile_file_shows_a_message_and_the_window_survives(view, qtbot, tmp_path, case):
    from tests.engine.documents.test_hostile import CORPUS

    build, _, words = CORPUS[case]
    path = build(tmp_path)
    with qtbot.waitSignal(view.finished, timeout=30_000):
        view.start([path])
    assert view.status.text().startswith(f"{path.name}: ")
    assert words.lower() in view.status.text().lower()
    assert not view.copy_button.isEnabled()
    # Nothing was read: neither running it again nor taking it to the chat is offered.
    assert not view.run_button.isVisible() and not view.chat_button.isVisible()
    assert view.isVisible()


def test_options_shown_are_the_options_used(view):
    view._show_options(SummaryOptions(form=Form.KEY_POINTS, focus="Who pays?"))
    assert view.options() == SummaryOptions(form=Form.KEY_POINTS, focus="Who pays?")


def test_unreadable_files_among_several_are_skipped_with_a_note(view, qtbot, tmp_path):
    from tests.engine.documents.corpus import encrypted_pdf

    notes = tmp_path / "notes.md"
    notes.write_text("# Plan\nShip the release on Friday.\n")
    locked = encrypted_pdf(tmp_path / "locked.pdf")
    with qtbot.waitSignal(view.finished, timeout=120_000):
        view.start([notes, locked])
    assert view.status.text().startswith("Done: ")
    assert view.notes.isVisible()
    assert view.notes.text().startswith("Skipped locked.pdf: the document is protected by a password")
    # The readable file was summarised (its one section); the demo model's words about a
    # non-arithmetic text are not stable enough to assert on.
    assert view.status.text().startswith("Done: 1 section,")


def test_a_text_file_without_an_extension_is_summarised(view, qtbot, tmp_path):
    licence = tmp_path / "GPL-3"
    licence.write_text("GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n\nEveryone is permitted to copy "
                       "and distribute verbatim copies of this license document.\n", encoding="utf-8")
    with qtbot.waitSignal(view.finished, timeout=120_000):
        view.start([licence])
    assert view.status.text().startswith("Done"), view.status.text()
    assert view.windowTitle() == "Summary of GPL-3"
    assert view.run_button.isVisible() and view.chat_button.isVisible()


def test_escape_stops_a_running_summary(view, qtbot, tmp_path):
    view.start([corpus.make_pdf(tmp_path / "long.pdf", pages=6, repeat=14)])
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.status.text() == "Stopping after the current step…"
    assert view.session.control is not None and view.session.control.cancelled
