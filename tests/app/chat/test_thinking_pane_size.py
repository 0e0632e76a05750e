from app.chat.conversation import Phase, Reply
from app.chat.thinking_pane import ThinkingPane


def test_an_open_thinking_pane_shows_every_line_after_the_window_narrows(qtbot):
    reply = Reply(thinking="ones: 7+5=12, write 2, carry 1. tens: 3+4+1=8, write 8. 37+45=82. " * 3
                  + "\n\nCheck: 82-45=37, so the sum is right.", phase=Phase.DONE)
    pane = ThinkingPane(expanded=True)
    qtbot.addWidget(pane)
    pane.resize(700, 200)
    pane.show()
    pane.show_reply(reply)
    qtbot.waitExposed(pane)
    bar = pane.text.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() == 0)
    pane.resize(260, 200)
    qtbot.waitUntil(lambda: pane.text.viewport().width() < 400)
    qtbot.waitUntil(lambda: bar.maximum() == 0, timeout=1000)
    assert bar.maximum() == 0  # nothing is cut: the pane grew to fit the new wrapping


def test_the_pane_says_the_message_is_being_read_then_fills_the_budget_bar(qtbot):
    from PySide6.QtWidgets import QLabel, QToolButton

    from engine.events import PromptProgress, Stats, ThinkingDelta

    reply = Reply(budget=1024)
    reply.start()
    pane = ThinkingPane()
    qtbot.addWidget(pane)
    pane.show()
    reply.apply(PromptProgress(1024, 2037))
    pane.show_reply(reply)
    header = pane.findChild(QToolButton, "thinkingToggle")
    assert header.text() == "Reading your message… 1,024 / 2,037 tokens"
    assert not pane.budget_bar.isVisible()
    reply.apply(ThinkingDelta("ones: 7+5=12"))
    reply.apply(Stats(thinking_tokens=812))
    pane.show_reply(reply)
    assert header.text().startswith("Thinking… ")
    assert pane.findChild(QLabel, "thinkingBudgetText").text() == "812 / 1,024"
    assert pane.budget_bar.isVisible() and pane.budget_bar.value() == 812 and pane.budget_bar.maximum() == 1024
