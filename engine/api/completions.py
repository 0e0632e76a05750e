"""One POST /v1/chat/completions: queue, run the turn, answer in one JSON or as server-sent events.

The thinking goes to `reasoning_content` and `reasoning` (the two names clients read), the answer
alone to `content`. A `ponder` object adds what OpenAI's schema has no field for: whether the
thinking budget forced the end of the thinking, the budget in force, the prompt tokens computed
(the rest of `prompt_tokens` came from the cache), the time to the first token, and notes such as
an ignored seed. A client that goes away cancels its turn at once (the handler is cancelled, or a
write fails), and the slot is handed on only when the engine is idle again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from engine.api.convert import Conversion, finish_reason
from engine.api.errors import ApiError, from_engine
from engine.api.model import ServedModel
from engine.api.stops import StopFilter
from engine.assistant import ChatTurn
from engine.events import (
    AnswerDelta,
    Failed,
    Finished,
    FinishReason,
    Stats,
    ThinkingDelta,
)

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one turn produced, as the API reports it."""

    thinking: list[str] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    finished: Finished | None = None
    stopped_by_string: bool = False

    @property
    def finish_reason(self) -> str:
        reason = self.finished.reason if self.finished else FinishReason.STOP
        return finish_reason(reason, self.stopped_by_string)

    def usage(self) -> dict:
        stats = self.finished.stats if self.finished else Stats()
        completion = stats.thinking_tokens + stats.answer_tokens
        return {
            "prompt_tokens": stats.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": stats.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": stats.cached_prompt_tokens},
            "completion_tokens_details": {"reasoning_tokens": stats.thinking_tokens},
        }


async def pieces(turn: ChatTurn, stops: StopFilter, outcome: Outcome) -> AsyncIterator[tuple[str, str]]:
    """("reasoning" | "content", text) as the turn streams; fills `outcome`; raises ApiError if
    the engine fails."""
    async for batch in turn:
        for event in batch:
            if isinstance(event, ThinkingDelta):
                outcome.thinking.append(event.text)
                yield "reasoning", event.text
            elif isinstance(event, AnswerDelta):
                text = stops.push(event.text)
                if stops.stopped and not outcome.stopped_by_string:
                    outcome.stopped_by_string = True
                    turn.cancel()  # the rest of the answer is not wanted
                if text:
                    outcome.answer.append(text)
                    yield "content", text
            elif isinstance(event, Finished):
                outcome.finished = event
                rest = stops.flush()
                if rest:
                    outcome.answer.append(rest)
                    yield "content", rest
            elif isinstance(event, Failed):
                raise from_engine(event.error)


class Completion:
    """The response side of one request: ids and the JSON shapes."""

    def __init__(self, model: ServedModel, conversion: Conversion) -> None:
        self.id = "chatcmpl-" + uuid.uuid4().hex
        self.created = int(time.time())
        self.model, self.conversion = model, conversion

    def extension(self, outcome: Outcome) -> dict:
        finished = outcome.finished
        stats = finished.stats if finished else Stats()
        return {
            # The prompt tokens computed this request (onnxruntime-genai's count; the rest were
            # cached) and the engine's time to the first token, for clients that measure.
            "computed_prompt_tokens": stats.computed_prompt_tokens,
            "time_to_first_token_s": stats.time_to_first_token_s,
            "thinking_forced": bool(finished and finished.thinking_forced),
            "thinking_budget": self.conversion.budget,
            "finish_detail": "stop_sequence" if outcome.stopped_by_string
            else (finished.reason.value if finished else "stop"),
            "warnings": self.conversion.warnings,
        }

    def message(self, outcome: Outcome) -> dict:
        thinking = "".join(outcome.thinking)
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model.id,
            "system_fingerprint": None,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "".join(outcome.answer),
                            "reasoning_content": thinking, "reasoning": thinking, "refusal": None},
                "logprobs": None,
                "finish_reason": outcome.finish_reason,
            }],
            "usage": outcome.usage(),
            "ponder": self.extension(outcome),
        }

    def chunk(self, delta: dict, finish: str | None = None, **extra: object) -> bytes:
        body = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model.id,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            **extra,
        }
        return sse(body)

    def usage_chunk(self, outcome: Outcome) -> bytes:
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                    "model": self.model.id, "system_fingerprint": None, "choices": [], "usage": outcome.usage()})


def sse(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


async def respond_whole(completion: Completion, turn: ChatTurn, stops: StopFilter, outcome: Outcome) -> web.Response:
    """Non-streaming: run the turn to its end (filling `outcome`), then one JSON body."""
    async for _ in pieces(turn, stops, outcome):
        pass
    return web.json_response(completion.message(outcome), dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def respond_stream(request: web.Request, completion: Completion, turn: ChatTurn, stops: StopFilter,
                         include_usage: bool, outcome: Outcome) -> web.StreamResponse:
    """Streaming (filling `outcome`): headers go out with the first piece, so a failure before it
    (a prompt too long for the context) is still a plain HTTP error; a failure after it is an
    error event."""
    response: web.StreamResponse | None = None
    # With include_usage, OpenAI sends "usage": null in every chunk before the usage chunk.
    usage = {"usage": None} if include_usage else {}

    async def start() -> web.StreamResponse:
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                             "X-Accel-Buffering": "no"})
        await stream.prepare(request)
        await stream.write(completion.chunk({"role": "assistant", "content": ""}, **usage))
        return stream

    try:
        async for kind, text in pieces(turn, stops, outcome):
            response = response or await start()
            delta = {"reasoning_content": text, "reasoning": text} if kind == "reasoning" else {"content": text}
            await response.write(completion.chunk(delta, **usage))
        response = response or await start()
        await response.write(completion.chunk({}, outcome.finish_reason, ponder=completion.extension(outcome),
                                              **usage))
        if include_usage:
            await response.write(completion.usage_chunk(outcome))
    except ApiError as error:
        if response is None:
            raise
        await response.write(sse(error.body()))
    except (ConnectionResetError, asyncio.CancelledError):
        turn.cancel()  # the client went away
        raise
    await response.write(DONE)
    await response.write_eof()
    return response
