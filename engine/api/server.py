"""The aiohttp application: routes, guards, the request queue, and start/stop on the running loop.

Both `ponder serve` (asyncio.run) and the window (qasync) build one ApiServer and await start()
on their own loop; nothing here owns the loop or the model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from engine.api.completions import Completion, Outcome, respond_stream, respond_whole
from engine.api.convert import Limits, to_request
from engine.api.errors import ApiError, loading
from engine.api.gate import QueueFull, RequestGate
from engine.api.guards import Guards
from engine.api.model import ModelStatus, ServedModel
from engine.api.saving import ApiHistory, CompletedRequest
from engine.api.schema import parse_body
from engine.api.security import ServerConfig, ServerConfigError
from engine.api.sessions import SessionRouter
from engine.api.stops import StopFilter
from engine.assistant import Assistant, ChatTurn
from engine.budget import PRESETS
from engine.events import FinishReason
from engine.request import ChatRequest

log = logging.getLogger(__name__)

#: Characters per context token allowed before tokenizing: a cheap early refusal of absurd prompts
#: (the engine still checks the exact token count).
CHARS_PER_TOKEN = 8
MAX_MESSAGES = 256


@dataclass
class Activity:
    """Live counts for the window's status bar."""

    running: int = 0
    waiting: int = 0
    served: int = 0
    failed: int = 0
    #: Requests whose client went away before the end (their turns were cancelled).
    cancelled: int = 0


class ApiServer:
    """The local OpenAI-compatible server on one Assistant (an engine host's).

    model_status: what is loaded now (engine/api/model.py HostStatus); budgets: effort name →
    thinking tokens (the user's settings); on_activity: called on the loop when counts change;
    history: saves completed requests (engine/api/saving.py; None: nothing is saved).
    """

    def __init__(self, assistant: Assistant, model_status: Callable[[], ModelStatus], config: ServerConfig,
                 *, budgets: Callable[[], dict[str, int | None]] = lambda: dict(PRESETS),
                 installed: Callable[[], list[dict]] = list,
                 on_activity: Callable[[Activity], None] | None = None,
                 history: ApiHistory | None = None) -> None:
        self.assistant, self.model_status, self.config = assistant, model_status, config
        self.history = history
        self.budgets, self.installed, self.on_activity = budgets, installed, on_activity
        self.gate = RequestGate(config.active, config.waiting)
        self.sessions = SessionRouter(max(config.sessions, config.active))
        self.activity = Activity()
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._turns: set[ChatTurn] = set()
        self._tasks: set[asyncio.Task] = set()

    # --- lifecycle ---

    def build_app(self) -> web.Application:
        guards = Guards(self.config)
        app = web.Application(middlewares=[guards.errors, guards.guard], client_max_size=self.config.max_body_bytes)
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.on_response_prepare.append(guards.cors_headers)
        return app

    async def start(self) -> None:
        """Listen on config.host:config.port (port 0: any free port, then self.port says which)."""
        self._runner = web.AppRunner(self.build_app(), handler_cancellation=True, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ServerConfigError(f"Cannot listen on {self.config.host}:{self.config.port}: "
                                    f"{exc.strerror or exc}.") from None
        self.port = self._runner.addresses[0][1]
        log.info("local API listening on %s", self.url)

    @property
    def url(self) -> str:
        host = self.config.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
        return f"http://{shown}:{self.port or self.config.port}/v1"

    def cancel_all(self) -> None:
        """Cancel every running turn now (the engine stops within a step)."""
        for turn in list(self._turns):
            turn.cancel()

    async def stop(self) -> None:
        """Cancel running turns and close every connection."""
        self.cancel_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- routes ---

    async def _health(self, request: web.Request) -> web.Response:
        status = self.model_status()
        state = "ok" if status.model else ("loading" if status.loading else "unavailable")
        body = {"status": state, "model": status.model.id if status.model else None,
                "running": self.gate.running, "waiting": self.gate.waiting}
        return web.json_response(body, status=200 if status.model else 503)

    async def _models(self, request: web.Request) -> web.Response:
        status = self.model_status()
        data = []
        if status.model is not None:
            data.append(_model_entry(status.model.id, status.model.context_length, status.model.reasoning, True))
        for entry in self.installed():
            if status.model is None or entry["id"] != status.model.id:
                data.append(_model_entry(entry["id"], entry.get("context_length"), True, False))
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        status = self.model_status()
        if status.loading:
            raise loading()
        if status.model is None:
            raise ApiError(503, f"No model is loaded: {status.error}", type="server_error", code="model_unavailable")
        model = status.model
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "We could not parse the JSON body of your request.", code="invalid_json") from None
        body = parse_body(data)
        if body.model != model.id:
            raise ApiError(404, f"That model is not served here; this server serves '{model.id}' (see GET /v1/models).",
                           code="model_not_found", param="model")
        limits = Limits(MAX_MESSAGES, model.context_length * CHARS_PER_TOKEN)
        conversion = to_request(body, model, self.budgets(), limits)
        try:
            slot = await self._enter()
        except QueueFull as full:
            raise ApiError(429, "Too many requests are waiting; try again shortly.", type="rate_limit_error",
                           code="rate_limit_exceeded", headers={"Retry-After": str(full.retry_after)}) from None
        started, asked_at = time.monotonic(), time.time()
        # The session whose cached conversation this request extends (prompt caching).
        session = self.sessions.take(conversion.request)
        try:
            turn = self.assistant.chat(conversion.request, session=session)
        except BaseException:
            self._leave(None, slot, started, False, lambda: self.sessions.finish(session, conversion.request, None))
            raise
        self._turns.add(turn)
        completion = Completion(model, conversion)
        outcome = Outcome()
        ok = False
        try:
            stops = StopFilter(conversion.stops)
            if body.stream:
                include_usage = bool(body.stream_options and body.stream_options.include_usage)
                response = await respond_stream(request, completion, turn, stops, include_usage, outcome)
            else:
                response = await respond_whole(completion, turn, stops, outcome)
            ok = True
            return response
        except (asyncio.CancelledError, ConnectionResetError):
            self.activity.cancelled += 1
            raise
        finally:
            turn.cancel()  # no-op once finished; stops the turn of a client that went away
            answer = "".join(outcome.answer) if ok and outcome.finished is not None else None
            if answer is not None:
                self._save(model, conversion.request, outcome, answer, asked_at)
            self._leave(turn, slot, started, ok, lambda: self.sessions.finish(session, conversion.request, answer))
            log.info("chat %s stream=%s ok=%s %.2fs", completion.id[-8:], body.stream, ok,
                     time.monotonic() - started)

    def _save(self, model: ServedModel, request: ChatRequest, outcome: Outcome, answer: str, asked_at: float) -> None:
        """Hand a whole answer to the history (a stop string's cut still counts as whole)."""
        finished = outcome.finished
        if self.history is None or finished is None:
            return
        reason = FinishReason.STOP if outcome.stopped_by_string else finished.reason
        try:
            self.history.record(CompletedRequest(request, "".join(outcome.thinking), answer, model.id,
                                                 model.provider, reason, finished.stats, asked_at))
        except Exception:  # noqa: BLE001 - saving must never cost the client its answer
            log.exception("saving an API request to the history failed")

    # --- queue bookkeeping ---

    async def _enter(self) -> int:
        self.activity.waiting += 1
        self._changed()
        try:
            slot = await self.gate.acquire()
        finally:
            self.activity.waiting -= 1
        self.activity.running += 1
        self._changed()
        return slot

    def _leave(self, turn: ChatTurn | None, slot: int, started: float, ok: bool, done: Callable[[], None]) -> None:
        """Hand the slot and the session on once the engine is idle (a cancelled turn takes a
        step to stop)."""
        async def release() -> None:
            try:
                if turn is not None:
                    await turn.wait_idle()
            finally:
                done()
                self._turns.discard(turn)  # type: ignore[arg-type]
                self.gate.release(slot, time.monotonic() - started)
                self.activity.running -= 1
                self.activity.served += ok
                self.activity.failed += not ok
                self._changed()

        task = asyncio.ensure_future(release())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _changed(self) -> None:
        if self.on_activity is not None:
            self.on_activity(self.activity)


def _model_entry(model_id: str, context_length: int | None, reasoning: bool, loaded: bool) -> dict:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "ponder",
            "context_length": context_length, "reasoning": reasoning, "loaded": loaded}
