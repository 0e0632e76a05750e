"""The result window (objectName quickResult): the answer streams in, with the chat's thinking pane.

Offers Copy, Replace selection (paste back, where the platform allows) and Continue in chat.
The answer is rendered as Markdown with links inert: nothing in it is opened or fetched.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from app.chat.answer_view import AnswerView
from app.chat.conversation import Phase, Reply
from app.chat.thinking_pane import ThinkingPane
from app.errors import user_text
from app.markdown.render import MarkdownRenderer
from engine.assistant import Assistant, ChatTurn
from engine.quick_actions.prompt import QuickPrompt

log = logging.getLogger(__name__)


class ResultWindow(QWidget):
    """One quick action's answer.

    Signals:
        replace_requested(str): paste this text over the selection it came from.
        continue_requested(str, str): open the chat with (question, answer).
        finished(): the turn is over (answer, stop or error).
    """

    replace_requested = Signal(str)
    continue_requested = Signal(str, str)
    finished = Signal()

    def __init__(self, title: str, renderer: MarkdownRenderer, *, can_replace: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("quickResult")
        self.setWindowTitle(title)  # Qt adds " — Ponder", the application's display name
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(520, 380)
        self.reply = Reply()
        self.question = ""
        self._turn: ChatTurn | None = None
        self._task: asyncio.Task[None] | None = None

        self.heading = QLabel(title, self)
        self.heading.setObjectName("quickResultTitle")
        self.heading.setStyleSheet("font-weight: 600;")
        self.notice = QLabel("", self)
        self.notice.setObjectName("quickNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        self.thinking = ThinkingPane(parent=self)
        self.thinking.answer_now_requested.connect(self._answer_now)
        self.thinking.continue_button.hide()
        self.answer = AnswerView(renderer, parent=self)
        self.status = QLabel("Waiting for the model…", self)
        self.status.setObjectName("quickStatus")
        self.status.setWordWrap(True)

        body = QWidget(self)
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.thinking)
        column.addWidget(self.answer)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)

        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("quickStop")
        self.stop_button.clicked.connect(self.stop)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("quickCopy")
        self.copy_button.clicked.connect(self.copy_answer)
        self.replace_button = QPushButton("Replace selection", self)
        self.replace_button.setObjectName("quickReplace")
        self.replace_button.setToolTip("Paste the answer over the text it came from")
        self.replace_button.setVisible(can_replace)
        self.replace_button.clicked.connect(lambda: self.replace_requested.emit(self.reply.answer.strip()))
        self.chat_button = QPushButton("Continue in chat", self)
        self.chat_button.setObjectName("quickContinue")
        self.chat_button.clicked.connect(lambda: self.continue_requested.emit(self.question, self.reply.answer))
        buttons = QHBoxLayout()
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        for button in (self.copy_button, self.replace_button, self.chat_button):
            buttons.addWidget(button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.notice)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self._set_done(False)

    # --- running ---

    def start(self, assistant: Assistant, prompt: QuickPrompt, ready: asyncio.Future | None = None) -> None:
        """Run the prompt; `ready` is awaited first (the model may still be loading)."""
        self.question = prompt.request.messages[-1].content
        if prompt.truncated:
            self.show_notice("The text was long, so only its beginning was used.")
        self._task = asyncio.ensure_future(self._run(assistant, prompt, ready))

    async def _run(self, assistant: Assistant, prompt: QuickPrompt, ready) -> None:
        self.reply.start()
        self._render()
        try:
            if ready is not None:
                await ready
            self._turn = assistant.chat(prompt.request)
            async for batch in self._turn:
                for event in batch:
                    self.reply.apply(event)
                self._render()
        except asyncio.CancelledError:
            self.reply.apply_cancel_before_start()
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
            log.debug("quick action failed", exc_info=True)
            self.reply.fail(exc)
        finally:
            self._turn = None
            self._render()
            self.finished.emit()

    def stop(self) -> None:
        """Stop generating (keeps what was written)."""
        if self._turn is not None:
            self._turn.cancel()
        elif self._task is not None and not self._task.done():
            self._task.cancel()

    def _answer_now(self) -> None:
        if self._turn is not None:
            self._turn.answer_now()

    # --- view ---

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def _render(self) -> None:
        reply = self.reply
        self.thinking.setVisible(bool(reply.thinking) or reply.thinking_live)
        self.thinking.show_reply(reply)
        self.answer.set_markdown(reply.answer, final=not reply.live)
        if reply.phase is Phase.FAILED:
            self.status.setText(reply.error)
        elif reply.phase is Phase.DONE:
            self.status.setText(reply.finish_note() or "Done.")
        elif reply.phase is Phase.WAITING:
            self.status.setText("Waiting for the model…")
        else:
            self.status.setText("Thinking…" if reply.phase is Phase.THINKING else "Writing the answer…")
        self._set_done(not reply.live)

    def _set_done(self, done: bool) -> None:
        has_answer = bool(self.reply.answer.strip())
        self.stop_button.setEnabled(not done)
        self.copy_button.setEnabled(done and has_answer)
        self.replace_button.setEnabled(done and has_answer)
        self.chat_button.setEnabled(done)

    def copy_answer(self) -> None:
        QGuiApplication.clipboard().setText(self.reply.answer.strip())
        self.status.setText("Copied.")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)


def error_text(error: BaseException) -> str:
    """What the window says for an error before any turn ran (capture, OCR, bad request)."""
    return user_text(error)
