"""The chat area: conversation above, composer below; renders what the ChatController reports."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app.chat.attachments import Attachment
from app.chat.chat_settings import ChatSettingsPanel
from app.chat.composer import Composer
from app.chat.context_meter import kv_memory, used_tokens
from app.chat.controller import ChatController
from app.chat.conversation import Exchange
from app.chat.message_list import MessageList
from app.chat.message_widgets import ExchangeWidget
from app.markdown.math import MathImages
from app.markdown.render import MarkdownRenderer
from engine.events import Stats
from engine.history.records import ChatSettings
from engine.settings import Settings


def _kv_per_token(model: object) -> int:
    """KV bytes per token of a loaded local model, as the engine's reservation counts them."""
    from engine.memory import element_bytes_for, kv_bytes_per_token

    folder, provider = getattr(model, "folder", None), getattr(model, "provider", None)
    if folder is None or provider is None:
        return 0
    try:
        return kv_bytes_per_token(folder.config, element_bytes_for(provider.key))
    except (KeyError, TypeError, ValueError):
        return 0  # a config without the decoder's shape: the engine reserves by steps, not shown


class ChatView(QWidget):
    """Implements ChatListener for the controller.

    Signals:
        turn_stats(object): the running turn's Stats (for the status bar).
        busy_toggled(bool): a turn started or ended.
    """

    turn_stats = Signal(object)
    busy_toggled = Signal(bool)

    def __init__(self, controller: ChatController, settings: Settings, renderer: MarkdownRenderer,
                 math: MathImages | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.controller = controller
        self.settings = settings
        self.renderer = renderer
        self.math = math
        controller.listener = self
        self.messages = MessageList(self._make_widget, self)
        self.composer = Composer(controller.effort, settings.thinking_budgets(), self)
        self.composer.send_requested.connect(self._on_send)
        self.composer.stop_requested.connect(controller.stop)
        self.composer.effort_changed.connect(self._on_effort)
        self.composer.edit_cancelled.connect(self._refresh_all)
        bottom = QWidget(self)
        bottom.setObjectName("composerArea")
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(24, 8, 24, 14)
        bottom_layout.addWidget(self.composer)
        bottom.setMaximumWidth(860)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.messages, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(bottom, 100)
        row.addStretch(1)
        column.addLayout(row)
        if math is not None:  # once the window is up and idle, not during the first answer
            QTimer.singleShot(1500, self, math.warm_up)
        self.chat_settings = ChatSettingsPanel(settings, controller, self)
        self.chat_settings.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(column, 1)
        layout.addWidget(self.chat_settings)

    # --- actions (menus and shortcuts call these too) ---

    def new_chat(self) -> None:
        self.controller.new_chat()
        self.composer.clear()
        self.composer.input.setFocus()

    def stop(self) -> None:
        self.controller.stop()

    def edit_last(self) -> None:
        last = self.controller.conversation.last
        if last is None or self.controller.busy:
            return
        self.composer.begin_edit(last.question, last.attachment)
        self._refresh_all()

    def apply_settings(self, renderer: MarkdownRenderer) -> None:
        """After the settings dialog: new colours, budgets."""
        self.renderer = renderer
        self.composer.set_budgets(self.settings.thinking_budgets())
        for widget in self.messages.widgets:
            widget.assistant.set_renderer(renderer)

    # --- ChatListener ---

    def exchange_added(self, exchange: Exchange) -> None:
        self.messages.add(exchange)
        # A reopened chat's last saved turn (its KV cache was not kept: no memory figures).
        self._meter(exchange.reply.stats, live=False, memory=False)
        self._refresh_last(2)  # the new one, and the one before loses Edit/Regenerate
        self.messages.scroll_to_bottom()

    def exchange_updated(self, exchange: Exchange) -> None:
        widget = self.messages.widget_for(exchange)
        if widget is not None:
            self._refresh(widget)

    def show_chat_settings(self, shown: bool) -> None:
        """The side panel with this chat's instructions and sampling."""
        self.chat_settings.load()
        self.chat_settings.setVisible(shown)

    def conversation_reset(self) -> None:
        self.messages.clear()
        self.chat_settings_changed(self.controller.chat_settings())  # a new chat starts from the defaults
        self.composer.context_meter.reset()

    def chat_settings_changed(self, settings: ChatSettings) -> None:
        """This chat's settings changed (edited, or a saved chat's restored): show them."""
        self.composer.show_effort(self.controller.effort)
        self.chat_settings.load()

    def busy_changed(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        self._refresh_last(1)  # only the last exchange has busy-dependent controls
        self.busy_toggled.emit(busy)
        if not busy:
            self.composer.input.setFocus()

    def stats_changed(self, stats: Stats) -> None:
        self.turn_stats.emit(stats)
        last = self.controller.conversation.last
        self._meter(stats, live=last is not None and last.reply.live)

    def _meter(self, stats: Stats | None, *, live: bool, memory: bool = True) -> None:
        model = self.controller.model
        meter = self.composer.context_meter
        folder = getattr(model, "folder", None)  # a remote model's context is the server's: not shown
        meter.set_context(folder.context_length if folder is not None else 0)
        if stats is not None and stats.prompt_tokens:
            used = used_tokens(stats, live=live)
            reserved = stats.kv_reserved_bytes if memory else None
            meter.show_usage(used, kv_memory(used, _kv_per_token(model), reserved))

    # --- internals ---

    def _make_widget(self, exchange: Exchange) -> ExchangeWidget:
        widget = ExchangeWidget(exchange, self.renderer, self.math,
                                thinking_expanded=self.settings.get("thinking_expanded"))
        widget.user.edit_requested.connect(self.edit_last)
        widget.assistant.regenerate_requested.connect(self.controller.regenerate)
        widget.assistant.answer_now_requested.connect(self.controller.answer_now)
        widget.assistant.continue_requested.connect(self.controller.continue_thinking)
        return widget

    def _on_send(self, text: str, attachment: Attachment | None) -> None:
        if self.composer.editing:
            sent = self.controller.resend_last(text, attachment)
        else:
            sent = self.controller.send(text, attachment)
        if sent:
            self.composer.clear()
            self.messages.scroll_to_bottom()

    def _on_effort(self, effort: str) -> None:
        self.controller.set_effort(effort)

    def _refresh_all(self) -> None:
        self._refresh_last(len(self.messages.widgets))
        self.chat_settings.load()  # (after a model load) whether the model keeps its own system prompt

    def _refresh_last(self, count: int) -> None:
        for widget in self.messages.widgets[-count:] if count else []:
            self._refresh(widget)

    def _refresh(self, widget: ExchangeWidget) -> None:
        last = bool(self.messages.widgets) and widget is self.messages.widgets[-1]
        widget.refresh(last=last, busy=self.controller.busy or self.composer.editing,
                       model_ready=self.controller.model is not None)
