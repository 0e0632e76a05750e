"""The real chat window on the real demo model, driven as a user would: keys and clicks."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QLabel, QPlainTextEdit, QPushButton, QTextBrowser

from app.chat.conversation import Phase
from engine.events import FinishReason, ThinkingDelta


TURN_TIMEOUT_MS = 60_000


def _input(app) -> QPlainTextEdit:
    return app.window.findChild(QPlainTextEdit, "chatInput")


def _button(parent, name: str) -> QPushButton:
    return parent.findChild(QPushButton, name)


def _ask(qtbot, app, text: str) -> None:
    box = _input(app)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _last_widget(app):
    return app.window.chat.messages.widgets[-1]


def _reply(app):
    return app.controller.conversation.last.reply


def _wait_done(qtbot, app) -> None:
    qtbot.waitUntil(lambda: not app.controller.busy and not _reply(app).live, timeout=TURN_TIMEOUT_MS)


def _answer_text(app) -> str:
    return _last_widget(app).findChild(QTextBrowser, "answerView").toPlainText()


def test_window_is_usable_at_once_and_shows_the_model(ponder, qtbot):
    window = ponder.window
    assert window.isVisible()
    assert window.focusWidget() is _input(ponder)
    status = window.status
    assert status.model.text() == ponder.controller.model.folder.name
    assert "CPU" in status.provider.text()
    assert ponder.model_spec() == "demo"
    assert window.model_banner.isVisible()
    assert "demo model" in window.model_banner.label.text()


def test_ask_streams_the_answer_and_the_thinking_collapses(ponder, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")
    # Send turns into Stop at once.
    assert _button(ponder.window, "stopButton").isVisible()
    assert not _button(ponder.window, "sendButton").isVisible()
    _wait_done(qtbot, ponder)
    qtbot.waitUntil(lambda: "The answer is" in _answer_text(ponder), timeout=5_000)
    pane = _last_widget(ponder).assistant.thinking
    assert pane.objectName() == "thinkingPane"
    header = pane.toggle.text()
    assert header.startswith("Thought for ") and " s · " in header and "token" in header
    assert not pane.expanded and not pane.text.isVisible() and not pane.preview.isVisible()
    assert _button(ponder.window, "sendButton").isVisible()
    assert ponder.window.status.speed.text()  # time to first token and speed were shown


def test_a_follow_up_shows_how_much_came_from_the_cache_and_what_the_chat_reserves(ponder, qtbot):
    import re

    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    settled = ponder.service.settled()  # the history is in the cache once the user reads the answer
    qtbot.waitUntil(settled.done, timeout=30_000)
    _ask(qtbot, ponder, "What is 4 plus 4?")
    _wait_done(qtbot, ponder)
    text = ponder.window.status.speed.text()
    match = re.search(r"prompt ([\d,]+) tokens \(([\d,]+) cached\)", text)
    assert match, text
    prompt, cached = (int(g.replace(",", "")) for g in match.groups())
    assert 0 < cached < prompt  # the first exchange was not read again
    assert re.search(r"KV \d+ MB", text), text


def test_clicking_the_header_opens_the_thinking(ponder, qtbot):
    _ask(qtbot, ponder, "What is 12 plus 30?")
    _wait_done(qtbot, ponder)
    pane = _last_widget(ponder).assistant.thinking
    qtbot.mouseClick(pane.header, Qt.MouseButton.LeftButton)
    assert pane.expanded and pane.text.isVisible()
    assert pane.text.toPlainText() == _reply(ponder).thinking != ""
    qtbot.mouseClick(pane.toggle, Qt.MouseButton.LeftButton)
    assert not pane.expanded and not pane.text.isVisible()


def test_stop_ends_the_turn_and_the_next_question_works(ponder, qtbot):
    _ask(qtbot, ponder, "What is 40 plus 2?")
    qtbot.mouseClick(_button(ponder.window, "stopButton"), Qt.MouseButton.LeftButton)
    _wait_done(qtbot, ponder)
    assert _reply(ponder).finish is FinishReason.CANCELLED
    assert _button(ponder.window, "sendButton").isVisible()
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    assert _reply(ponder).finish is FinishReason.STOP
    assert "The answer is" in _answer_text(ponder)


def test_escape_stops(ponder, qtbot):
    _ask(qtbot, ponder, "What is 7 plus 8?")
    qtbot.keyClick(_input(ponder), Qt.Key.Key_Escape)
    _wait_done(qtbot, ponder)
    assert _reply(ponder).finish is FinishReason.CANCELLED


def _hold_after_first_thought(ponder, monkeypatch) -> threading.Event:
    """Make the engine wait after its first thinking text until the returned event is set.

    The demo model thinks for a few milliseconds only, faster than a click lands; holding the
    inference thread (in the event callback it calls) gives the test a user's reaction time."""
    release = threading.Event()
    real_generate = ponder.service.generate
    # One event per token: with the usual 16 ms frames the demo model's whole thinking (and the
    # start of its answer) can come in the first batch, so the hold would land after the thinking.
    monkeypatch.setattr(ponder.service, "_frame_s", 0)

    def generate(request, control, emit, **kwargs):
        held = []

        def gated(event):
            emit(event)
            if isinstance(event, ThinkingDelta) and not held:
                held.append(event)
                release.wait(30)

        return real_generate(request, control, gated, **kwargs)

    monkeypatch.setattr(ponder.service, "generate", generate)
    return release


def test_answer_now_while_thinking_ends_the_thinking_and_offers_to_think_on(ponder, qtbot, monkeypatch):
    release = _hold_after_first_thought(ponder, monkeypatch)
    _ask(qtbot, ponder, "What is 55 plus 21?")
    pane = _last_widget(ponder).assistant.thinking
    qtbot.waitUntil(lambda: bool(_reply(ponder).thinking), timeout=TURN_TIMEOUT_MS)  # it has begun thinking
    assert pane.live_answer_now.isVisible()
    qtbot.mouseClick(pane.live_answer_now, Qt.MouseButton.LeftButton)
    release.set()
    _wait_done(qtbot, ponder)
    reply = _reply(ponder)
    assert reply.finish is FinishReason.ANSWER_NOW
    assert reply.thinking and reply.answer.strip() and _answer_text(ponder)
    assert pane.notice.isVisible() and "You asked for the answer" in pane.notice_label.text()
    assert pane.continue_button.isVisible()


def test_answer_now_before_the_first_thought_tells_the_user(ponder, qtbot):
    # Asked for at once, before the turn has produced anything (both calls before the loop runs).
    assert ponder.controller.send("What is 55 plus 21?")
    assert ponder.controller.answer_now()
    _wait_done(qtbot, ponder)
    reply = _reply(ponder)
    assert reply.finish is FinishReason.ANSWER_NOW
    assert reply.thinking == "" and reply.answer.strip() and _answer_text(ponder)
    notice = _last_widget(ponder).findChild(QLabel, "replyNotice")
    assert notice.isVisible() and "You asked for the answer" in notice.text()


def test_a_closing_line_ends_the_thinking_when_the_budget_runs_out(ponder, qtbot):
    ponder.controller.greedy = True
    ponder.settings.set("budget_low", 16)
    ponder.settings.set("budget_message_on", True)
    ponder.settings.set("budget_message", "Time is up; I will answer now.")
    effort = ponder.window.findChild(QComboBox, "effortSelector")
    effort.setCurrentIndex(effort.findData("low"))
    _ask(qtbot, ponder, "What is 37 plus 45?")
    _wait_done(qtbot, ponder)
    reply = _reply(ponder)
    assert reply.finish is FinishReason.THINKING_BUDGET
    assert reply.thinking.rstrip().endswith("Time is up; I will answer now.")
    assert "Time is up" not in reply.answer and reply.answer.strip()
    pane = _last_widget(ponder).assistant.thinking
    qtbot.mouseClick(pane.toggle, Qt.MouseButton.LeftButton)
    assert pane.text.toPlainText().rstrip().endswith("Time is up; I will answer now.")
    assert "Time is up" not in _answer_text(ponder)
    # Off (the default): the engine closes the thinking without a line.
    ponder.settings.set("budget_message_on", False)
    qtbot.mouseClick(_last_widget(ponder).assistant.findChild(QPushButton, "regenerateButton"),
                     Qt.MouseButton.LeftButton)
    _wait_done(qtbot, ponder)
    assert _reply(ponder).finish is FinishReason.THINKING_BUDGET and "Time is up" not in _reply(ponder).thinking


def _budget_run_then_continue(ponder, qtbot):
    """A turn cut by a 16-token thinking budget, then "Continue thinking" with no budget; greedy,
    so the demo model's path is the same on every run."""
    ponder.controller.greedy = True
    ponder.settings.set("budget_low", 16)
    effort = ponder.window.findChild(QComboBox, "effortSelector")
    effort.setCurrentIndex(effort.findData("low"))
    _ask(qtbot, ponder, "What is 37 plus 45?")
    _wait_done(qtbot, ponder)
    reply = _reply(ponder)
    assert reply.finish is FinishReason.THINKING_BUDGET
    pane = _last_widget(ponder).assistant.thinking
    assert "thinking budget ran out" in pane.notice_label.text()
    assert pane.notice.isVisible() and pane.continue_button.isVisible()
    first_thinking = reply.thinking

    effort.setCurrentIndex(effort.findData("unlimited"))
    qtbot.mouseClick(pane.continue_button, Qt.MouseButton.LeftButton)
    _wait_done(qtbot, ponder)
    reply = _reply(ponder)
    assert reply.thinking.startswith(first_thinking) and len(reply.thinking) > len(first_thinking)
    assert reply.thinking_tokens > 16
    return reply, pane


def test_budget_forced_answer_then_continue_thinking(ponder, qtbot):
    reply, pane = _budget_run_then_continue(ponder, qtbot)
    # Greedy, the demo model goes on from where the budget cut it and answers.
    assert reply.finish is FinishReason.STOP, reply.finish
    assert reply.answer.strip() == "The answer is 82."
    assert not pane.notice.isVisible()
    assert "The answer is 82." in _answer_text(ponder)


def test_regenerate_replaces_the_last_answer(ponder, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    first = _reply(ponder)
    button = _button(_last_widget(ponder), "regenerateButton")
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    _wait_done(qtbot, ponder)
    assert len(ponder.controller.conversation.exchanges) == 1
    assert _reply(ponder) is not first
    assert "The answer is" in _answer_text(ponder)


def test_edit_and_resend_the_last_question(ponder, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    qtbot.mouseClick(_button(_last_widget(ponder), "editButton"), Qt.MouseButton.LeftButton)
    box = _input(ponder)
    assert box.toPlainText() == "What is 2 plus 3?"
    assert ponder.window.chat.composer.edit_bar.isVisible()
    box.clear()
    _ask(qtbot, ponder, "What is 4 plus 4?")
    _wait_done(qtbot, ponder)
    exchanges = ponder.controller.conversation.exchanges
    assert [e.question for e in exchanges] == ["What is 4 plus 4?"]
    assert _last_widget(ponder).user.text.text() == "What is 4 plus 4?"
    assert not ponder.window.chat.composer.edit_bar.isVisible()
    assert "The answer is" in _answer_text(ponder)


def test_shift_enter_adds_a_line_and_ctrl_n_starts_a_new_chat(ponder, qtbot):
    box = _input(ponder)
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert box.toPlainText() == "line one\nline two"
    assert not ponder.controller.conversation.exchanges
    box.clear()
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    qtbot.keyClick(box, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert not ponder.controller.conversation.exchanges
    assert ponder.window.chat.messages.empty.isVisible()


def test_copy_puts_the_answer_on_the_clipboard(ponder, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    qtbot.mouseClick(_button(_last_widget(ponder), "copyAnswerButton"), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == _reply(ponder).answer


@pytest.mark.slow
def test_a_10_mb_paste_never_freezes_and_is_cut_to_fit(ponder, qtbot):
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    huge = ("The quick brown fox jumps over the lazy dog. " * 233_017)[:10_000_000]
    QGuiApplication.clipboard().setText(huge)
    box = _input(ponder)
    qtbot.keyClick(box, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    composer = ponder.window.chat.composer
    assert composer.chip.isVisible() and composer.attachment is not None
    assert box.toPlainText() == ""  # never inserted into the text box
    assert "10.0 MB" in composer.chip_label.text()
    before = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= before + 10, timeout=10_000)

    _ask(qtbot, ponder, "What is 2 plus 3?")
    during = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= during + 10, timeout=10_000)  # the loop keeps turning
    _wait_done(qtbot, ponder)
    timer.stop()
    exchange = ponder.controller.conversation.last
    assert exchange.reply.phase is Phase.DONE, exchange.reply.error
    assert exchange.attachment.truncated
    notices = _last_widget(ponder).findChild(QLabel, "replyNotice")
    assert notices.isVisible() and "were sent" in notices.text()


def test_a_model_that_fails_to_load_is_explained_and_settings_recover(qtbot, qloop, ponder_home):
    from PySide6.QtWidgets import QApplication

    from app.main import build_app

    app = build_app(QApplication.instance(), ponder_home, model=str(ponder_home.data / "no-such-model"))
    app.show()
    app.start_loading()
    banner = app.window.model_banner
    qtbot.waitUntil(lambda: banner.isVisible() and "could not be loaded" in banner.label.text(), timeout=30_000)
    _ask(qtbot, app, "What is 2 plus 3?")
    _wait_done(qtbot, app)
    assert _reply(app).phase is Phase.FAILED and "No model found" in _reply(app).error
    assert _last_widget(app).findChild(QLabel, "replyError").isVisible()

    fixed = app.settings.copy()
    fixed.set("model", "demo")
    fixed.set("temperature", 0.05)
    app.apply_settings(fixed)
    qtbot.waitUntil(lambda: app.controller.model is not None, timeout=60_000)
    qtbot.mouseClick(_button(_last_widget(app), "regenerateButton"), Qt.MouseButton.LeftButton)
    _wait_done(qtbot, app)
    assert "The answer is" in _answer_text(app)
    app.window.close()
    app.shutdown()


def test_no_closing_marker_reaches_the_answer_after_a_forced_close(ponder, qtbot):
    # A tiny budget cuts the thinking mid-sum; the demo model then finishes its sum and closes the
    # thinking a second time: that marker must show nowhere.
    ponder.settings.set("budget_low", 16)
    effort = ponder.window.findChild(QComboBox, "effortSelector")
    effort.setCurrentIndex(effort.findData("low"))
    _ask(qtbot, ponder, "What is 37 plus 45?")
    _wait_done(qtbot, ponder)
    reply = _reply(ponder)
    assert reply.finish is FinishReason.THINKING_BUDGET
    assert reply.answer.strip()
    assert "think>" not in reply.answer
    assert "think>" not in _answer_text(ponder)
    # The pane shows how much of the budget the thinking used.
    budget = _last_widget(ponder).assistant.thinking.budget_text
    assert budget.isVisible() and budget.text().endswith(" / 16")


def test_continue_and_answer_now_are_offered_on_the_last_reply_only(ponder, qtbot):
    ponder.settings.set("budget_low", 16)
    effort = ponder.window.findChild(QComboBox, "effortSelector")
    effort.setCurrentIndex(effort.findData("low"))
    _ask(qtbot, ponder, "What is 37 plus 45?")
    _wait_done(qtbot, ponder)
    old_pane = _last_widget(ponder).assistant.thinking
    assert old_pane.continue_button.isVisible()
    effort.setCurrentIndex(effort.findData("unlimited"))
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    # The older reply still says how it ended, but its buttons would act on the newest reply.
    assert "thinking budget ran out" in old_pane.notice_label.text()
    assert not old_pane.continue_button.isVisible()
    assert not old_pane.notice_answer_now.isVisible()


def test_small_windows_keep_controls_apart_and_the_chat_list_resizes_and_hides(ponder_home):
    from tests.app.xdriver import run_on_x

    result = run_on_x(f"""
        from pathlib import Path
        from PySide6.QtWidgets import QComboBox, QPushButton
        from app.main import build_app
        from engine.paths import resolve_paths

        paths = resolve_paths(data_dir={str(ponder_home.data.parent)!r})
        paths.ensure()
        app = build_app(QApplication.instance(), paths)
        app.show()
        settle(1000)
        window = app.window
        window.resize(500, 400)  # smaller than the window allows
        settle(600)
        composer = window.chat.composer
        composer.context_meter.set_context(2048)
        composer.context_meter.show_usage(1234)  # as after a first answer
        settle()
        row = [composer.findChild(QComboBox, "effortSelector"), composer.context_meter, composer.send_button]
        boxes = [w.geometry() for w in row if w.isVisible() and w.width() > 0]
        overlap = any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        overlap = overlap or any(w.geometry().right() > w.parentWidget().width() for w in row)
        small = [window.width(), window.height()]
        window.resize(900, 600)
        settle()
        sidebar = window.splitter.widget(0)
        before = sidebar.width()
        handle = window.splitter.handle(1)
        xdo(*at(handle))
        xdo("mousedown", "1")
        point = handle.mapToGlobal(handle.rect().center())
        xdo("mousemove", point.x() + 80, point.y())
        xdo("mouseup", "1")
        wait_for(lambda: sidebar.width() > before + 40)
        dragged = sidebar.width()
        xdo("key", "ctrl+shift+l")
        hidden = wait_for(lambda: not sidebar.isVisible())
        done({{"size": small, "overlap": overlap, "before": before,
              "dragged": dragged, "hidden": hidden}})
    """)
    assert result["size"][0] > 500 and result["size"][1] >= 420  # held at what its controls need
    assert not result["overlap"]
    assert result["dragged"] > result["before"] + 40
    assert result["hidden"]


def test_the_status_bar_forgets_the_last_speed_when_a_new_answer_starts(ponder, qtbot):
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    assert "tok/s" in ponder.window.status.speed.text()
    _ask(qtbot, ponder, "What is 4 plus 4?")
    assert ponder.controller.busy and ponder.window.status.speed.text() == ""
    _wait_done(qtbot, ponder)


def test_the_context_meter_shows_how_full_the_conversation_is(ponder, qtbot):
    from app.chat.context_meter import amount, meter_text
    from engine.memory import size_text

    meter = ponder.window.chat.composer.context_meter
    assert not meter.isVisible()  # nothing used yet
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    stats = _reply(ponder).stats
    used = stats.prompt_tokens + stats.answer_tokens
    # The demo model's KV cache on the CPU: layers × KV heads × head size × keys and values × float32.
    decoder = ponder.controller.model.folder.config["model"]["decoder"]
    per_token = decoder["num_hidden_layers"] * decoder["num_key_value_heads"] * decoder["head_size"] * 2 * 4
    reserved = stats.kv_reserved_bytes
    assert 0 < used * per_token < reserved  # the reservation holds room for the next question
    assert meter.isVisible()
    assert meter.label.text() == f"Context {used:,} / 2,048 · Memory {amount(used * per_token)} / {amount(reserved)}"
    assert f"uses {amount(used * per_token)} of the {amount(reserved)} reserved" in meter.toolTip()
    assert f"KV {size_text(reserved)}" in ponder.window.status.speed.text()  # the status bar agrees
    assert meter.property("warn") is False
    qtbot.keyClick(_input(ponder), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert not meter.isVisible()
    # Near the limit it warns before the oldest exchanges are left out.
    text, tip = meter_text(1_700, 2_048)
    assert text == "Context 1,700 / 2,048" and "oldest exchanges will be left out" in tip
    assert amount(3 * 2**20) == "3 MB" and amount(300 * 1024) == "300 KB" and amount(5 * 2**30) == "5.0 GB"


def test_this_chats_settings_apply_to_its_turns_and_a_new_chat_starts_from_the_defaults(ponder, qtbot, monkeypatch):
    from PySide6.QtWidgets import QDoubleSpinBox, QToolButton

    sent = []
    assistant = ponder.controller.assistant
    chat = assistant.chat
    monkeypatch.setattr(assistant, "chat", lambda request, **kw: sent.append(request) or chat(request, **kw))
    qtbot.mouseClick(ponder.window.findChild(QToolButton, "chatSettingsButton"), Qt.MouseButton.LeftButton)
    panel = ponder.window.chat.chat_settings
    assert panel.isVisible()
    qtbot.keyClicks(panel.findChild(QPlainTextEdit, "chatInstructions"), "Answer in one line.")
    temperature = panel.findChild(QDoubleSpinBox, "chatTemperature")
    temperature.setValue(0.3)
    _ask(qtbot, ponder, "What is 2 plus 3?")
    _wait_done(qtbot, ponder)
    assert sent[-1].system_prompt == "Answer in one line."
    assert sent[-1].sampling.temperature == 0.3 and _reply(ponder).answer
    assert ponder.settings.get("system_prompt") == ""  # the app's defaults are untouched
    qtbot.keyClick(_input(ponder), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert panel.findChild(QPlainTextEdit, "chatInstructions").toPlainText() == ""
    assert temperature.value() == 0.05  # the app's value (set by the fixture)
    _ask(qtbot, ponder, "What is 1 plus 1?")
    _wait_done(qtbot, ponder)
    assert sent[-1].system_prompt == "" and sent[-1].sampling.temperature == 0.05


def test_the_panel_says_when_the_model_keeps_its_own_system_prompt(ponder, qtbot):
    from dataclasses import replace

    from engine.catalog.setup import ModelSetup
    from engine.prompt import ChatFormat

    ponder.window.chat_settings_action.trigger()
    note = ponder.window.chat.chat_settings.prompt_note
    assert not note.isVisible()  # the demo model takes instructions as they are
    # The host reports a model whose card requires its own system prompt (Phi-4-reasoning's).
    ready = ponder.host.state
    card = ModelSetup(chat_format=ChatFormat(system_prompt="You are Phi, a language model trained by Microsoft."))
    ponder._on_host_state(replace(ready, setup=card))
    assert note.isVisible() and "requires its own system prompt" in note.text()
    ponder._on_host_state(ready)
    assert not note.isVisible()
