"""Saving API requests to the history (the `api_save_history` setting, `ponder serve --save-history`).

Each completed request becomes a conversation in the history store: the extra system prompt (as a
"system" message), the user and assistant messages the client sent, the new question, and the
answer with its thinking kept apart, as the window saves a chat. The title starts with "API · ",
so the sidebar and `ponder history list` show where it came from.

OpenAI clients resend the whole conversation each turn. A request whose earlier messages are
exactly a conversation saved here before (its messages and the answer the client got) appends
its new question and answer to that conversation instead of saving the whole thing again; the
match is remembered for this run of the server only (a restart starts new conversations).

Only whole answers are saved: a request the client cut off, or one that failed, saves nothing,
so the history holds what the client actually received. The store is not this module's: the
owner (the window's history panel, or `ponder serve`) hands it over through `store()`, and every
write happens on the caller's thread (the server's loop), where the owner uses it too.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.api.sessions import Conversation
from engine.errors import PonderError
from engine.events import FinishReason, Stats
from engine.history.records import MessageMeta
from engine.history.store import TITLE_LENGTH, HistoryStore
from engine.request import ChatRequest, Role

log = logging.getLogger(__name__)

#: Marks a conversation saved from the API (the start of its title).
ORIGIN_PREFIX = "API · "
#: Conversations remembered for follow-ups (oldest forgotten first).
REMEMBERED = 256
#: Finish reasons of an answer the client did not get whole.
UNSAVED = frozenset({FinishReason.CANCELLED, FinishReason.ERROR})


@dataclass(frozen=True)
class CompletedRequest:
    """One request the server answered in full: what was sent and what the client got."""

    request: ChatRequest
    thinking: str
    answer: str
    #: The model as the client named it (the served model's id).
    model: str
    provider: str = ""
    reason: FinishReason = FinishReason.STOP
    stats: Stats = field(default_factory=Stats)
    #: When the request arrived (time.time()).
    asked_at: float | None = None


class ApiHistory:
    """Saves completed requests into the store the owner hands over (see the module docstring).

    store: the open store now, or None (locked, not set up, closed): nothing is saved then.
    enabled: read at each request, so the setting takes effect without a restart.
    on_saved: called with the conversation's id after each save (to refresh a view).
    on_error: called with a failed write's error; the API answer is never affected.
    """

    def __init__(self, store: Callable[[], HistoryStore | None], *,
                 enabled: Callable[[], bool] = lambda: True,
                 on_saved: Callable[[int], None] | None = None,
                 on_error: Callable[[PonderError], None] | None = None,
                 remember: int = REMEMBERED) -> None:
        self.store, self.enabled = store, enabled
        self.on_saved = on_saved or (lambda _cid: None)
        self.on_error = on_error or (lambda _e: None)
        self._remember = remember
        # The conversation as the client will send it next (its messages + our answer) → its id.
        self._known: OrderedDict[Conversation, int] = OrderedDict()
        self._known_in: HistoryStore | None = None  # the store those ids belong to

    def record(self, done: CompletedRequest) -> int | None:
        """Save one completed request; the conversation's id, or None if nothing was saved."""
        if done.reason in UNSAVED or not self.enabled():
            return None
        store = self.store()
        if store is None or store.closed:
            return None
        if store is not self._known_in:  # another store (a new or restored history): other ids
            self._known.clear()
            self._known_in = store
        try:
            conversation_id = self._save(store, done)
        except PonderError as exc:
            log.warning("saving an API request failed: %s", type(exc).__name__)
            self.on_error(exc)
            return None
        self._known[Conversation.of(done.request, done.answer)] = conversation_id
        while len(self._known) > self._remember:
            self._known.popitem(last=False)
        self.on_saved(conversation_id)
        return conversation_id

    def _save(self, store: HistoryStore, done: CompletedRequest) -> int:
        request = done.request
        asked = time.time() if done.asked_at is None else done.asked_at
        earlier = Conversation(request.system_prompt, Conversation.of(request).turns[:-1])
        # A follow-up of a conversation saved here: only its new question and answer are new.
        conversation_id = self._known.pop(earlier, None) if earlier.turns else None
        if conversation_id is not None:
            try:
                store.add_message(conversation_id, "user", request.messages[-1].content, created=asked)
            except PonderError:
                conversation_id = None  # deleted meanwhile (or the write failed): save it whole
        if conversation_id is None:
            conversation_id = self._save_whole(store, request, asked)
        store.add_message(conversation_id, "assistant", done.answer, thinking=done.thinking,
                          meta=MessageMeta(model=done.model, provider=done.provider,
                                           finish_reason=done.reason.value, stats=done.stats.as_dict()))
        return conversation_id

    def _save_whole(self, store: HistoryStore, request: ChatRequest, asked: float) -> int:
        """A new conversation with every message of the request."""
        question = request.messages[-1].content
        conversation_id = store.create_conversation(title_for(request.messages[0].content
                                                              if request.messages else question)).id
        try:
            if request.system_prompt.strip():
                store.add_message(conversation_id, "system", request.system_prompt, created=asked)
            for message in request.messages:
                role = "user" if message.role is Role.USER else "assistant"
                store.add_message(conversation_id, role, message.content, created=asked)
        except PonderError:
            _discard(store, conversation_id)  # never half a conversation
            raise
        return conversation_id


def title_for(first_question: str) -> str:
    """"API · " and the conversation's first question, shortened as the window's titles are."""
    line = " ".join(first_question.split())
    room = TITLE_LENGTH - len(ORIGIN_PREFIX)
    if len(line) > room:
        line = line[:room - 1].rstrip() + "…"
    return ORIGIN_PREFIX + line


def _discard(store: HistoryStore, conversation_id: int) -> None:
    try:
        store.delete(conversation_id)
    except PonderError:
        log.warning("a partly saved API conversation could not be removed")
