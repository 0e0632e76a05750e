"""Chat titles written by the model, in the background, after a new chat's first answer (no Qt).

A new chat is first named after its question (engine/history/store.py). Once its first answer is
in and the window is idle, the loaded model is asked for a few words, on a session of its own
(the chat's cached conversation is not touched), with no thinking and a few tokens. The title is
cleaned and replaces the question only if nobody renamed the chat meanwhile.

A remote model is asked too, in one short request. Where its server cannot skip the thinking
(engine/remote/capabilities.py), a reasoning model thinks first: the reply gets a larger cap,
and if it is still thinking there, the chat keeps its question as title (logged, never shown).

It yields to the user: a question sent while it runs cancels it (the title is tried again after
that answer); a model change, closing the window or a deleted chat end it too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.chat.conversation import Exchange, Phase
from engine.events import Finished, Stats
from engine.history.records import ChatSettings
from engine.remote.capabilities import Capabilities, skips_thinking
from engine.remote.service import RemoteLoadResult
from engine.request import ChatRequest, Message, Role, Sampling

log = logging.getLogger(__name__)

#: The engine session titles run on (never the chat's own).
TITLE_SESSION = "title"
TITLE_LENGTH = 60
#: Tokens the title may take (a few words; the rest is cut off).
MAX_TOKENS = 24
#: Tokens a reply may take on a server that cannot skip the thinking: room for a short thinking
#: and the title, and a bound on what a long thinker costs the server.
THINKING_MAX_TOKENS = 384
#: How much of the first exchange the model reads.
QUESTION_CHARS, ANSWER_CHARS = 600, 400

PROMPT = ("Write a title of at most six words for a conversation that starts with the exchange below. "
          "Reply with the title only: no quotes, no full stop.\n\nQuestion: {question}\n\nAnswer: {answer}")

_MARKERS = re.compile(r"<\|[^|>]*\|>|</?think>|</?s>")
_PREFIX = re.compile(r"^(?:title|conversation title|chat title)\s*[:\-–]\s*", re.IGNORECASE)
_EDGES = "\"'“”‘’«»`*_#>:-–—. \t"


def clean_title(text: str) -> str:
    """The model's reply as a title: one line, no markers, quotes or label, ≤ TITLE_LENGTH chars.
    "" when nothing usable is left."""
    text = _MARKERS.sub(" ", text)
    line = next((line for line in text.splitlines() if line.strip(_EDGES)), "")
    line = _PREFIX.sub("", line.strip(_EDGES)).strip(_EDGES)
    line = " ".join(line.split())
    if len(line) > TITLE_LENGTH:
        cut = line[:TITLE_LENGTH - 1]
        line = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(_EDGES) + "…"
    return line


def title_request(exchange: Exchange, server: Capabilities | None = None) -> ChatRequest:
    """A short greedy turn with the thinking already closed (effort "none"); on a remote
    `server` that cannot close it, with room to think first."""
    question = exchange.question[:QUESTION_CHARS]
    answer = exchange.reply.answer.strip()[:ANSWER_CHARS]
    cap = MAX_TOKENS if server is None or skips_thinking(server) else THINKING_MAX_TOKENS
    return ChatRequest(messages=(Message(Role.USER, PROMPT.format(question=question, answer=answer)),),
                       sampling=Sampling(greedy=True), max_new_tokens=cap,
                       resume_thinking="", close_thinking=True)


@dataclass
class _Job:
    conversation_id: int
    exchange: Exchange
    task: asyncio.Task[None] | None = None


class ModelTitles:
    """Follows the chat (a ChatListener beside the view and the recorder) and titles new chats.

    Attributes:
        include_demo: title on the demo model too (its titles are nonsense; tests set it).
    """

    def __init__(self, controller, *, conversation_id: Callable[[], int | None],
                 rename: Callable[[int, str], bool], enabled: Callable[[], bool],
                 is_demo: Callable[[object], bool]) -> None:
        self.controller = controller
        self.conversation_id = conversation_id
        self.rename = rename
        self.enabled = enabled
        self.is_demo = is_demo
        self.include_demo = False
        self._job: _Job | None = None
        #: Conversations titled (or tried) already: each is asked once.
        self._done: set[int] = set()

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.task is not None and not self._job.task.done()

    # --- ChatListener (only busy_changed matters; the rest is the view's and the recorder's) ---

    def busy_changed(self, busy: bool) -> None:
        if busy:
            self._pause()  # the user's turn goes first
        else:
            self._maybe_start()

    def exchange_added(self, exchange: Exchange) -> None:
        pass

    def exchange_updated(self, exchange: Exchange) -> None:
        pass

    def conversation_reset(self) -> None:
        pass

    def stats_changed(self, stats: Stats) -> None:
        pass

    def chat_settings_changed(self, settings: ChatSettings) -> None:
        pass

    # --- from the window ---

    def cancel(self) -> None:
        """Drop any title work (model change, window closing)."""
        job, self._job = self._job, None
        if job is not None and job.task is not None:
            job.task.cancel()

    def forget(self, conversation_id: int) -> None:
        """A chat was deleted: never title it."""
        self._done.add(conversation_id)
        if self._job is not None and self._job.conversation_id == conversation_id:
            self.cancel()

    # --- internals ---

    def _eligible_model(self) -> bool:
        model = self.controller.model
        if model is None:
            return False
        return self.include_demo or not self.is_demo(model)

    def _maybe_start(self) -> None:
        if self._job is None:
            self._job = self._next_job()
        job = self._job
        if job is None or job.task is not None or not self.enabled() or not self._eligible_model():
            return
        job.task = asyncio.ensure_future(self._run(job))

    def _next_job(self) -> _Job | None:
        """The open chat, if it is saved, untitled, and its first answer is complete."""
        cid = self.conversation_id()
        exchanges = self.controller.conversation.exchanges
        if cid is None or cid in self._done or not exchanges:
            return None
        first = exchanges[0]
        if first.reply.phase is not Phase.DONE or not first.reply.answer.strip():
            return None
        return _Job(cid, first)

    def _pause(self) -> None:
        """Stop the running title turn; it starts again when the window is idle."""
        job = self._job
        if job is not None and job.task is not None and not job.task.done():
            job.task.cancel()
            job.task = None

    async def _run(self, job: _Job) -> None:
        assistant = self.controller.assistant
        model = self.controller.model
        server = model.capabilities if isinstance(model, RemoteLoadResult) else None
        turn = assistant.chat(title_request(job.exchange, server), session=TITLE_SESSION)
        finished: Finished | None = None
        try:
            async for batch in turn:
                finished = next((e for e in batch if isinstance(e, Finished)), finished)
        except asyncio.CancelledError:
            turn.cancel()  # paused or dropped: the engine stops at its next step
            raise
        finally:
            self._free(assistant)
        if self._job is not job or self.controller.model is not model:
            return  # dropped, or the model changed meanwhile
        self._job = None
        self._done.add(job.conversation_id)
        title = clean_title(finished.answer) if finished is not None else ""
        if not title:  # failed, or still thinking at the cap: the question stays the title
            log.info("the model gave no usable title (%s)", finished.reason.value if finished else "failed")
            return
        try:
            self.rename(job.conversation_id, title)
        except Exception:  # noqa: BLE001 - a title is a nicety: the chat goes on without it
            log.exception("saving the model's title failed")
        if not self.controller.busy:
            self._maybe_start()  # another chat finished its first answer meanwhile

    def _free(self, assistant) -> None:
        """The title session's cache is not needed again."""
        try:
            assistant.service.forget(TITLE_SESSION)
        except Exception:  # noqa: BLE001 - the backend may be closing
            log.debug("forgetting the title session failed", exc_info=True)
