"""Runs chat turns for the window: user actions in, conversation state and notifications out.

Qt-free (plain asyncio): widgets call the action methods and implement ChatListener. One turn
runs at a time; a turn's events arrive as batches (at most one per frame) from ChatTurn.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Protocol

from app.chat.attachments import Attachment
from app.chat.conversation import Conversation, Exchange, Phase, Reply
from engine.assistant import Assistant, ChatTurn
from engine.budget import ThinkingBudget
from engine.errors import ContextTooLongError, PonderError
from engine.events import Failed, Stats
from engine.history.records import ChatSettings
from engine.remote.service import RemoteLoadResult
from engine.request import ChatRequest, Sampling
from engine.service import LoadResult
from engine.settings import Settings

log = logging.getLogger(__name__)

#: How many times a too-long attachment is shrunk before the error is shown.
_FIT_ATTEMPTS = 4


class ChatListener(Protocol):
    """What the view implements to follow the conversation."""

    def exchange_added(self, exchange: Exchange) -> None: ...
    def exchange_updated(self, exchange: Exchange) -> None: ...
    def conversation_reset(self) -> None: ...
    def busy_changed(self, busy: bool) -> None: ...
    def stats_changed(self, stats: Stats) -> None: ...
    def chat_settings_changed(self, settings: ChatSettings) -> None: ...


class ChatController:
    """The chat's actions: send, stop, answer now, continue thinking, regenerate, edit, new chat."""

    def __init__(self, assistant: Assistant, settings: Settings, listener: ChatListener | None = None) -> None:
        self.assistant = assistant
        self.settings = settings
        self.listener = listener
        self.conversation = Conversation()
        #: This chat's own instructions and sampling (app/chat/chat_settings.py); None fields
        #: use `settings`. Saved with the chat (app/history) together with its effort.
        self.own = ChatSettings()
        self._unsaved = False  # `own` changed while typing; saved by save_settings()
        #: The loaded model's card requires its own system prompt (instructions go after it).
        self.required_system_prompt = False
        #: This chat's effort: it starts from the "effort" setting and is saved with the chat.
        self.effort: str = settings.get("effort")
        self.model: LoadResult | RemoteLoadResult | None = None
        #: Greedy decoding instead of the sampling settings (the demo model needs it).
        self.greedy = False
        self._model_error: PonderError | None = None
        self._model_ready: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._turn: ChatTurn | None = None
        self._stopping = False
        self._answer_now = False  # asked before the engine turn existed
        self._waiting = False  # the turn's task is waiting for the model
        self._running = False

    # --- model state (set by whoever loads the model) ---

    def model_loading(self) -> None:
        self.model, self._model_error = None, None
        self._ready_event().clear()

    def model_loaded(self, result: LoadResult | RemoteLoadResult) -> None:
        self.model, self._model_error = result, None
        self._ready_event().set()

    def model_failed(self, error: PonderError) -> None:
        self.model, self._model_error = None, error
        self._ready_event().set()

    # --- actions ---

    @property
    def busy(self) -> bool:
        return self._running

    def send(self, question: str, attachment: Attachment | None = None) -> bool:
        """Ask a new question; False (nothing happens) while a turn runs or when it is empty."""
        question = question.strip()
        if self.busy or (not question and attachment is None):
            return False
        folder = getattr(self.model, "folder", None)  # a remote model has none: its server limits it
        if attachment is not None and folder is not None:
            attachment = attachment.fitted_to(folder.context_length)
        exchange = Exchange(question, attachment)
        self.conversation.exchanges.append(exchange)
        self._tell(lambda listener: listener.exchange_added(exchange))
        self._start(exchange)
        return True

    def add_finished(self, question: str, answer: str) -> bool:
        """Append an exchange answered elsewhere (a quick action's "Continue in chat"): shown,
        saved to the history and part of the next turn's context. False while a turn runs."""
        if self.busy:
            return False
        exchange = Exchange(question, reply=Reply(answer=answer, phase=Phase.DONE))
        self.conversation.exchanges.append(exchange)
        self._tell(lambda listener: listener.exchange_added(exchange))
        self._tell(lambda listener: listener.exchange_updated(exchange))
        return True

    def resend_last(self, question: str, attachment: Attachment | None = None) -> bool:
        """Edit-and-resend: replace the last question and get a new reply."""
        last = self.conversation.last
        if last is None or self.busy or not (question.strip() or attachment):
            return False
        last.question, last.attachment, last.reply, last.notices = question.strip(), attachment, Reply(), []
        self._tell(lambda listener: listener.exchange_updated(last))
        self._start(last)
        return True

    def regenerate(self) -> bool:
        """A new reply to the last question."""
        last = self.conversation.last
        if last is None or self.busy:
            return False
        last.reply, last.notices = Reply(), []
        self._tell(lambda listener: listener.exchange_updated(last))
        self._start(last)
        return True

    def stop(self) -> None:
        """Stop the running turn; what was generated so far stays."""
        if not self.busy:
            return
        self._stopping = True
        if self._turn is not None:
            self._turn.cancel()
        elif self._waiting and self._task is not None:
            self._task.cancel()  # waiting for the model: no engine turn to stop yet

    def answer_now(self) -> bool:
        """End the thinking: during a turn, or resume a reply that has thinking and no answer."""
        last = self.conversation.last
        if last is None:
            return False
        if self.busy:
            if not last.reply.thinking_live:
                return False
            self._answer_now = True
            if self._turn is not None:
                self._turn.answer_now()
            return True
        if not last.reply.needs_answer:
            return False
        thinking = last.reply.thinking
        last.reply.continue_from_thinking()
        self._start(last, resume=thinking, close=True)
        return True

    def continue_thinking(self) -> bool:
        """Let the model think on from where its thinking ended."""
        last = self.conversation.last
        if last is None or self.busy or not last.reply.resumable:
            return False
        thinking = last.reply.thinking
        last.reply.continue_from_thinking()
        self._start(last, resume=thinking, close=False)
        return True

    def new_chat(self) -> None:
        """Forget the conversation (the engine's cache too); the new chat starts from the defaults."""
        self.stop()
        self.save_settings()  # what was typed last belongs to the chat that ends
        self.conversation = Conversation()
        self.own, self.effort = ChatSettings(), self.settings.get("effort")
        self._tell(lambda listener: listener.conversation_reset())
        asyncio.ensure_future(self._reset_engine())

    # --- this chat's own settings ---

    def chat_settings(self) -> ChatSettings:
        """What is saved with the chat: its own instructions and sampling, and its effort."""
        return dataclasses.replace(self.own, effort=self.effort)

    def set_own(self, *, save: bool = True, **changes: object) -> None:
        """Change this chat's instructions or sampling (None: back to the app's setting). With
        save=False (while typing) they apply at once and are saved by the next save_settings()."""
        self.own = dataclasses.replace(self.own, **changes)  # type: ignore[arg-type]
        self._unsaved = True
        if save:
            self.save_settings()

    def save_settings(self) -> None:
        """Tell the listeners (the history) about changes not yet saved."""
        if self._unsaved:
            self._unsaved = False
            self._tell(lambda listener: listener.chat_settings_changed(self.chat_settings()))

    def set_effort(self, effort: str) -> None:
        """This chat's effort, for its next turns."""
        if effort != self.effort:
            self.effort = effort
            self._tell(lambda listener: listener.chat_settings_changed(self.chat_settings()))

    def restore_settings(self, saved: ChatSettings) -> None:
        """A reopened chat's own settings; its effort, if it saved none, is the app's."""
        self.own = dataclasses.replace(saved, effort=None)
        self.effort = saved.effort or self.settings.get("effort")
        self._unsaved = False
        self._tell(lambda listener: listener.chat_settings_changed(self.chat_settings()))

    # --- running a turn ---

    def _start(self, exchange: Exchange, *, resume: str | None = None, close: bool = False) -> None:
        self.save_settings()
        if resume is None:
            exchange.reply.start()
        exchange.reply.budget = None if close else self._budget().tokens
        self._stopping = self._answer_now = False
        self._running = True
        self._tell(lambda listener: listener.exchange_updated(exchange))
        self._task = asyncio.ensure_future(self._run(exchange, resume, close))
        self._tell(lambda listener: listener.busy_changed(True))

    async def _run(self, exchange: Exchange, resume: str | None, close: bool) -> None:
        reply = exchange.reply
        try:
            # Stopped before this task ran (a cancel now would skip the finally below).
            if self._stopping:
                raise asyncio.CancelledError
            self._waiting = True
            await self._wait_for_model()
            self._waiting = False
            for _ in range(_FIT_ATTEMPTS):
                if not await self._run_once(exchange, resume, close):
                    break
        except asyncio.CancelledError:
            reply.apply_cancel_before_start()
        except PonderError as exc:
            reply.fail(exc)
        except Exception as exc:  # noqa: BLE001 - the window must survive anything
            log.exception("chat turn failed")
            reply.fail(exc)
        finally:
            self._turn, self._running, self._waiting = None, False, False
            self._update_notices(exchange)
            self._tell(lambda listener: listener.exchange_updated(exchange))
            self._tell(lambda listener: listener.busy_changed(False))

    async def _run_once(self, exchange: Exchange, resume: str | None, close: bool) -> bool:
        """One engine turn; True when it must be retried with a smaller attachment."""
        turn = self.assistant.chat(self._request(exchange, resume, close))
        self._turn = turn
        if self._stopping:
            turn.cancel()
        if self._answer_now:
            turn.answer_now()
        async for batch in turn:
            for event in batch:
                if isinstance(event, Failed) and self._shrink(exchange, event.error):
                    return True
                exchange.reply.apply(event)
                if isinstance(event, Stats):
                    self._tell(lambda listener: listener.stats_changed(event))
            self._tell(lambda listener: listener.exchange_updated(exchange))
        final = exchange.reply.stats
        if final is not None:
            self._tell(lambda listener: listener.stats_changed(final))
        return False

    def _shrink(self, exchange: Exchange, error: PonderError) -> bool:
        if not isinstance(error, ContextTooLongError) or exchange.attachment is None:
            return False
        smaller = exchange.attachment.shrunk(error.needed, error.available)
        if smaller is None:
            return False
        exchange.attachment = smaller
        return True

    def _request(self, exchange: Exchange, resume: str | None, close: bool) -> ChatRequest:
        s = self._setting
        return ChatRequest(
            messages=self.conversation.messages_until(exchange),
            sampling=Sampling(greedy=self.greedy, temperature=s("temperature"), top_p=s("top_p")),
            budget=self._budget(),
            system_prompt=s("system_prompt"),
            resume_thinking=resume,
            close_thinking=close,
            budget_message=self._budget_message(),
        )

    def _setting(self, key: str):
        """This chat's value, else the app's."""
        own = getattr(self.own, key)
        return own if own is not None else self.settings.get(key)

    def _budget_message(self) -> str:
        """The closing line for a thinking the budget ends (Settings), set apart from it."""
        line = self.settings.get("budget_message").strip() if self.settings.get("budget_message_on") else ""
        return f"\n\n{line}\n" if line else ""

    def _budget(self) -> ThinkingBudget:
        return ThinkingBudget.parse(self.effort, self.settings.thinking_budgets())

    async def _wait_for_model(self) -> None:
        await self._ready_event().wait()
        if self._model_error is not None:
            raise self._model_error

    async def _reset_engine(self) -> None:
        if self._task is not None:
            await asyncio.wait([self._task])
        try:
            await self.assistant.new_conversation()
        except Exception:  # noqa: BLE001 - a failed reset only costs cache reuse
            log.exception("resetting the conversation failed")

    def _update_notices(self, exchange: Exchange) -> None:
        notices = []
        if exchange.attachment is not None and exchange.attachment.truncated:
            notices.append(exchange.attachment.notice())
        stats = exchange.reply.stats
        if stats is not None and stats.dropped_turns:
            n = stats.dropped_turns
            notices.append(f"{n} earlier exchange{'s were' if n > 1 else ' was'} left out so the "
                           "conversation fits the model's context.")
        exchange.notices = notices

    def _ready_event(self) -> asyncio.Event:
        if self._model_ready is None:
            self._model_ready = asyncio.Event()
        return self._model_ready

    def _tell(self, call: Callable[[ChatListener], None]) -> None:
        """Call the listener, typed (a misspelt method is a type error, not a runtime surprise)."""
        if self.listener is not None:
            call(self.listener)

