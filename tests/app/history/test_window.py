"""The history in the real window on the real model: chats saved, listed, searched, reopened,
exported and imported, as a user does it."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QListWidget, QPlainTextEdit

from app.history.panel import Dialogs
from app.history.sidebar import ID_ROLE
from engine.history.records import MessageStatus
from tests.app.history.conftest import window_history

pytestmark = [pytest.mark.slow]
TURN_TIMEOUT_MS = 60_000


class Answers:
    """Dialogs answered by the test."""

    def __init__(self) -> None:
        self.save_to = None
        self.open_from = None

    def dialogs(self) -> Dialogs:
        return Dialogs(passphrase=lambda *_: "pw", save_path=lambda *_: self.save_to,
                       open_path=lambda *_: self.open_from, confirm=lambda *_: True)


@pytest.fixture
def history(ponder, memory_keyring, tmp_path):
    """The window's history panel, on a store keyed by the test's in-memory keyring."""
    def answer_dialogs(panel):
        panel.answers = Answers()
        panel.dialogs = panel.answers.dialogs()

    return window_history(ponder.window, memory_keyring, tmp_path / "history", answer_dialogs)


def _ask(qtbot, app, text):
    box = app.window.findChild(QPlainTextEdit, "chatInput")
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not app.controller.busy, timeout=TURN_TIMEOUT_MS)


def _rows(app):
    """The chats in the list, without the date headings."""
    lst = app.window.findChild(QListWidget, "historyList")
    return [lst.item(i) for i in range(lst.count()) if lst.item(i).data(ID_ROLE) is not None]


def _titles(app):
    return [item.text() for item in _rows(app)]


def test_chats_are_saved_listed_and_reopened(ponder, history, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")
    reply = ponder.controller.conversation.last.reply
    qtbot.waitUntil(lambda: _titles(ponder) == ["What is 2 plus 3?"])
    [summary] = history.store.list_conversations()
    saved = history.store.conversation(summary.id).messages[1]
    assert (saved.content, saved.thinking) == (reply.answer, reply.thinking)
    assert saved.status is MessageStatus.COMPLETE and saved.meta.provider == "cpu"

    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    _ask(qtbot, ponder, "What is 4 plus 4?")
    qtbot.waitUntil(lambda: _titles(ponder) == ["What is 4 plus 4?", "What is 2 plus 3?"])

    lst = ponder.window.findChild(QListWidget, "historyList")
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton,
                     pos=lst.visualItemRect(_rows(ponder)[1]).center())
    exchanges = ponder.controller.conversation.exchanges
    assert [e.question for e in exchanges] == ["What is 2 plus 3?"]
    assert exchanges[0].reply.answer == reply.answer
    assert len(ponder.window.chat.messages.widgets) == 1
    # A follow-up in the reopened chat goes into the same conversation.
    _ask(qtbot, ponder, "What is 1 plus 1?")
    assert history.store.summary(summary.id).message_count == 4


def test_search_hit_opens_the_conversation(ponder, history, qtbot):
    _ask(qtbot, ponder, "What is 6 plus 1?")
    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert ponder.controller.conversation.exchanges == []
    search = ponder.window.findChild(QLineEdit, "historySearch")
    qtbot.keyClicks(search, "6 plus")
    results = ponder.window.findChild(QListWidget, "historyResults")
    qtbot.waitUntil(lambda: results.count() >= 1)
    label = results.itemWidget(results.item(0))
    assert "background-color" in label.text()
    qtbot.mouseClick(results.viewport(), Qt.MouseButton.LeftButton,
                     pos=results.visualItemRect(results.item(0)).center())
    assert [e.question for e in ponder.controller.conversation.exchanges] == ["What is 6 plus 1?"]


def test_export_and_import(ponder, history, qtbot, tmp_path):
    _ask(qtbot, ponder, "What is 2 plus 2?")
    [summary] = history.store.list_conversations()
    history.answers.save_to = str(tmp_path / "chat.md")
    history.export(summary.id, "md")
    text = (tmp_path / "chat.md").read_text()
    thinking = ponder.controller.conversation.last.reply.thinking.strip()
    assert text.startswith("# What is 2 plus 2?")
    assert ("<details>\n<summary>Thinking</summary>" in text) == bool(thinking)
    history.answers.save_to = str(tmp_path / "chat.json")
    history.export(summary.id, "json")
    assert json.loads((tmp_path / "chat.json").read_text())["format"] == "ponder-conversation"
    history.answers.open_from = str(tmp_path / "chat.json")
    history.sidebar.menu_button.click()
    qtbot.waitUntil(lambda: len(_titles(ponder)) == 2)
    assert [e.question for e in ponder.controller.conversation.exchanges] == ["What is 2 plus 2?"]
    (tmp_path / "bad.json").write_text("{")
    history.answers.open_from = str(tmp_path / "bad.json")
    history.sidebar.menu_button.click()
    assert ponder.window.notice_banner.isVisible()
    assert "Cannot import bad.json" in ponder.window.notice_banner.label.text()


def test_a_reopened_chat_shows_the_figures_shown_live(ponder, history, qtbot):
    from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QToolButton

    ponder.settings.set("budget_low", 16)
    effort = ponder.window.findChild(QComboBox, "effortSelector")
    effort.setCurrentIndex(effort.findData("low"))
    _ask(qtbot, ponder, "What is 37 plus 45?")
    widget = ponder.window.chat.messages.widgets[-1]
    # Continue thinking: the reply's figures add up over two engine turns.
    effort.setCurrentIndex(effort.findData("unlimited"))
    qtbot.mouseClick(widget.assistant.thinking.findChild(QPushButton, "continueThinkingButton"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not ponder.controller.busy and not ponder.controller.conversation.last.reply.live,
                    timeout=TURN_TIMEOUT_MS)
    live_header = widget.assistant.thinking.findChild(QToolButton, "thinkingToggle").text()
    live_stats = widget.assistant.findChild(QLabel, "replyStats").text()
    assert "Thought for" in live_header and "0.0 s" not in live_header

    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    lst = ponder.window.findChild(QListWidget, "historyList")
    qtbot.waitUntil(lambda: len(_rows(ponder)) == 1)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(_rows(ponder)[0]).center())
    reopened = ponder.window.chat.messages.widgets[-1]
    assert reopened is not widget
    assert reopened.assistant.thinking.findChild(QToolButton, "thinkingToggle").text() == live_header
    assert reopened.assistant.findChild(QLabel, "replyStats").text() == live_stats


def test_the_header_shows_the_open_chats_title(ponder, history, qtbot):
    from PySide6.QtWidgets import QLabel

    heading = ponder.window.findChild(QLabel, "windowHeading")
    _ask(qtbot, ponder, "What is 2 plus 3?")
    qtbot.waitUntil(lambda: heading.text() == "What is 2 plus 3?")
    assert ponder.window.windowTitle() == "What is 2 plus 3?"
    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: heading.text() == "Ponder")
    # The sidebar no longer marks the old chat as the open one.
    assert all(not item.font().bold() for item in _rows(ponder))


def test_export_is_offered_in_documents_under_a_clean_name(ponder, history, qtbot):
    from app.history.panel import documents_folder

    _ask(qtbot, ponder, "What is 23 plus 19?")
    [summary] = history.store.list_conversations()
    offered = []
    history.dialogs.save_path = lambda _parent, suggested, _pattern: offered.append(suggested)
    history.export(summary.id, "json")
    assert offered == [str(documents_folder() / "What is 23 plus 19.json")]


def test_a_chats_own_settings_are_saved_with_it_and_come_back_when_it_is_reopened(ponder, history, qtbot,
                                                                                   monkeypatch):
    from PySide6.QtWidgets import QComboBox, QDoubleSpinBox

    sent = []
    assistant = ponder.controller.assistant
    chat = assistant.chat
    monkeypatch.setattr(assistant, "chat", lambda request, **kw: sent.append(request) or chat(request, **kw))
    ponder.window.chat_settings_action.trigger()
    panel = ponder.window.chat.chat_settings
    instructions = panel.findChild(QPlainTextEdit, "chatInstructions")
    temperature = panel.findChild(QDoubleSpinBox, "chatTemperature")
    effort = ponder.window.findChild(QComboBox, "effortSelector")
    qtbot.keyClicks(instructions, "Answer in one line.")
    temperature.setValue(0.3)
    effort.setCurrentIndex(effort.findData("low"))
    _ask(qtbot, ponder, "What is 2 plus 3?")
    [summary] = history.store.list_conversations()
    # Changed after the first question: saved too (typing is saved once it pauses).
    qtbot.keyClicks(instructions, " Be kind.")
    qtbot.waitUntil(lambda: history.store.chat_settings(summary.id).system_prompt == "Answer in one line. Be kind.")
    saved = history.store.chat_settings(summary.id)
    assert (saved.temperature, saved.top_p, saved.effort) == (0.3, None, "low")

    # A new chat starts from the defaults; the app's settings were never changed.
    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert instructions.toPlainText() == "" and temperature.value() == 0.05
    assert ponder.settings.get("system_prompt") == "" and ponder.settings.get("temperature") == 0.05
    ponder.settings.set("effort", "high")
    qtbot.keyClick(ponder.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert effort.currentData() == "high"

    lst = ponder.window.findChild(QListWidget, "historyList")
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(_rows(ponder)[0]).center())
    assert instructions.toPlainText() == "Answer in one line. Be kind." and temperature.value() == 0.3
    assert effort.currentData() == "low"
    assert ponder.settings.get("effort") == "high"  # showing the chat's effort did not change the default
    _ask(qtbot, ponder, "What is 1 plus 1?")
    request = sent[-1]
    assert request.system_prompt == "Answer in one line. Be kind." and request.sampling.temperature == 0.3
    assert request.budget.tokens == ponder.settings.thinking_budgets()["low"]
    assert history.store.summary(summary.id).message_count == 4


def test_search_chats_puts_the_cursor_in_the_search_with_its_text_selected(ponder, history, qtbot):
    search = ponder.window.findChild(QLineEdit, "historySearch")
    search.setText("old words")
    ponder.window.activateWindow()
    qtbot.waitUntil(ponder.window.isActiveWindow)
    ponder.window.findChild(QAction, "historySearchAction").trigger()
    qtbot.waitUntil(search.hasFocus)
    assert search.selectedText() == "old words"
