"""Saves the window's chat into the history store as it streams (no Qt here).

HistoryRecorder sits beside the chat view as a second ChatListener (see `TeeListener`): a new
exchange saves the question at once and creates the assistant message; updates commit the text
at most every `interval_s`; the end of the turn commits the final text, model, provider, finish
reason and stats. A crash loses at most the last fraction of a second of the live answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.chat.controller import ChatListener
from app.chat.conversation import Exchange, Phase
from app.history.loader import shown_figures
from engine.errors import PonderError
from engine.events import Stats
from engine.history.records import ChatSettings, MessageMeta
from engine.history.store import HistoryStore
from engine.history.writer import MessageWriter

log = logging.getLogger(__name__)


class TeeListener:
    """A ChatListener that forwards each call to several listeners, in order (the view first);
    typed, so a method added to ChatListener is a type error here until it is forwarded."""

    def __init__(self, *listeners: ChatListener | None) -> None:
        self.listeners: tuple[ChatListener, ...] = tuple(x for x in listeners if x is not None)

    def exchange_added(self, exchange: Exchange) -> None:
        for listener in self.listeners:
            listener.exchange_added(exchange)

    def exchange_updated(self, exchange: Exchange) -> None:
        for listener in self.listeners:
            listener.exchange_updated(exchange)

    def conversation_reset(self) -> None:
        for listener in self.listeners:
            listener.conversation_reset()

    def busy_changed(self, busy: bool) -> None:
        for listener in self.listeners:
            listener.busy_changed(busy)

    def stats_changed(self, stats: Stats) -> None:
        for listener in self.listeners:
            listener.stats_changed(stats)

    def chat_settings_changed(self, settings: ChatSettings) -> None:
        for listener in self.listeners:
            listener.chat_settings_changed(settings)


@dataclass
class _Saved:
    """Where one exchange lives in the store."""

    question_id: int
    question: str
    writer: MessageWriter | None = None


class HistoryRecorder:
    """Follows the chat controller and writes what it shows into the store.

    Attributes:
        conversation_id: the stored conversation the chat is writing to (None: not yet saved).
    """

    def __init__(self, store: HistoryStore | None, meta: Callable[[], MessageMeta],
                 *, interval_s: float = 0.5,
                 on_saved: Callable[[int], None] | None = None,
                 on_error: Callable[[PonderError], None] | None = None,
                 chat_settings: Callable[[], ChatSettings] = ChatSettings) -> None:
        self.store = store
        self.meta = meta
        #: The chat's own settings, saved with its conversation (app/chat/controller.py).
        self.chat_settings = chat_settings
        self.interval_s = interval_s
        self.on_saved = on_saved or (lambda _cid: None)
        #: Called when the chat starts afresh (New chat): no saved conversation is shown.
        self.on_reset: Callable[[], None] = lambda: None
        self.on_error = on_error or (lambda _e: None)
        self.conversation_id: int | None = None
        self._saved: dict[int, _Saved] = {}  # id(exchange) -> where it is stored
        self._exchanges: list[Exchange] = []  # keeps ids stable while they are tracked

    # --- set by the window ---

    def set_store(self, store: HistoryStore | None) -> None:
        """A store became available (unlocked) or went away; the current chat starts afresh."""
        self.store = store
        self.forget()

    def flush(self) -> None:
        """Commit the text of any answer still streaming (before the store closes)."""
        for saved in self._saved.values():
            writer = saved.writer
            if writer is not None and not writer.finished:
                self._guard(lambda _store: writer.flush())  # called at once: the loop variable is safe

    def forget(self) -> None:
        """A new chat: the next question starts a new stored conversation."""
        self.conversation_id = None
        self._saved.clear()
        self._exchanges.clear()

    def adopt(self, conversation_id: int, exchanges: list[tuple[Exchange, int, int | None]]) -> None:
        """The chat now shows a stored conversation: (exchange, question id, answer id) each."""
        self.forget()
        self.conversation_id = conversation_id
        for exchange, question_id, answer_id in exchanges:
            writer = None
            if answer_id is not None and self.store is not None:
                writer = MessageWriter(self.store, answer_id, interval_s=self.interval_s)
                writer.finished = True
            self._track(exchange, _Saved(question_id, exchange.question, writer))

    # --- ChatListener ---

    def exchange_added(self, exchange: Exchange) -> None:
        self._guard(lambda store: self._save_question(store, exchange))

    def exchange_updated(self, exchange: Exchange) -> None:
        self._guard(lambda store: self._save_reply(store, exchange))

    def conversation_reset(self) -> None:
        self.forget()
        self.on_reset()

    def busy_changed(self, busy: bool) -> None:
        pass  # nothing to save: the reply's phase says when it ends

    def stats_changed(self, stats: Stats) -> None:
        pass  # saved with the reply when it finishes

    def chat_settings_changed(self, settings: ChatSettings) -> None:
        conversation_id = self.conversation_id
        if conversation_id is not None:
            self._guard(lambda store: store.set_chat_settings(conversation_id, settings))

    # --- internals ---

    def _guard(self, action: Callable[[HistoryStore], object]) -> None:
        """Run action on the store, if there is one. Saving must never break the chat: a failed
        write is reported, the chat goes on."""
        store = self.store
        if store is None:
            return
        try:
            action(store)
        except PonderError as exc:
            log.warning("saving the chat failed: %s", type(exc).__name__)
            self.on_error(exc)

    def _save_question(self, store: HistoryStore, exchange: Exchange) -> None:
        conversation_id = self.conversation_id
        if conversation_id is None:
            conversation_id = self.conversation_id = store.create_conversation().id
            store.set_chat_settings(conversation_id, self.chat_settings())
        stored = store.add_message(conversation_id, "user", exchange.question)
        self._track(exchange, _Saved(stored.id, exchange.question))
        self.on_saved(conversation_id)

    def _save_reply(self, store: HistoryStore, exchange: Exchange) -> None:
        saved = self._saved.get(id(exchange))
        if saved is None:
            return
        reply = exchange.reply
        if reply.live and (saved.writer is None or saved.writer.finished):
            self._restart(store, exchange, saved)
        writer = saved.writer
        if writer is None or writer.finished:
            return
        writer.set_text(reply.thinking, reply.answer)
        if reply.phase in (Phase.DONE, Phase.FAILED):
            meta = self.meta()
            stats = reply.stats.as_dict() if reply.stats is not None else {}
            stats.update(shown_figures(reply))
            reason = reply.finish.value if reply.finish is not None else ""
            writer.finish(MessageMeta(model=meta.model, provider=meta.provider,
                                      finish_reason=reason, stats=stats))
            self.on_saved(self._tracking_id())
        else:
            writer.flush_if_due()

    def _restart(self, store: HistoryStore, exchange: Exchange, saved: _Saved) -> None:
        """A new turn for an exchange: a first reply, a regenerate, an edit, or a continuation."""
        conversation_id = self._tracking_id()
        reply = exchange.reply
        if exchange.question != saved.question:  # edited and resent: it replaces the exchange
            store.truncate_from(saved.question_id)
            saved.question_id = store.add_message(conversation_id, "user", exchange.question).id
            saved.question = exchange.question
            saved.writer = None
        previous = saved.writer
        if previous is not None and reply.thinking and reply.thinking == previous.thinking and not reply.answer:
            # answer-now / continue-thinking: the same message goes on
            writer = MessageWriter(store, previous.message_id, interval_s=self.interval_s)
            writer.set_text(reply.thinking, "")
            saved.writer = writer
            return
        saved.writer = store.start_message(conversation_id, self.meta(), interval_s=self.interval_s)

    def _tracking_id(self) -> int:
        """The stored conversation of the tracked exchanges (forget() clears both together)."""
        conversation_id = self.conversation_id
        assert conversation_id is not None, "exchanges are tracked only within a saved conversation"
        return conversation_id

    def _track(self, exchange: Exchange, saved: _Saved) -> None:
        self._exchanges.append(exchange)
        self._saved[id(exchange)] = saved
