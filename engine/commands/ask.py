"""`ponder ask QUESTION`: stream one answer to the terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

from engine.budget import ThinkingBudget
from engine.commands.common import add_model_options, command_host, fail
from engine.errors import BadRequestError, PonderError
from engine.events import AnswerDelta, Failed, Finished, FinishReason, PromptProgress, ThinkingDelta
from engine.host import Ready
from engine.models import default_model
from engine.paths import Paths
from engine.remote.service import RemoteLoadResult
from engine.request import ChatRequest, Sampling, ask

if TYPE_CHECKING:  # imported where used: only --save needs the history store
    from engine.commands.history import AskSaver


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="ask one question and stream the answer")
    parser.add_argument("question", help="the question")
    add_model_options(parser, remote=True)
    parser.add_argument("--thinking-budget", default="unlimited", metavar="N|low|medium|high|unlimited",
                        help="cap on thinking tokens (default: unlimited)")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding instead of sampling")
    parser.add_argument("--show-thinking", action=argparse.BooleanOptionalAction, default=True,
                        help="print the model's thinking to stderr (default: on)")
    parser.add_argument("--max-new-tokens", type=int, default=None, metavar="N",
                        help="cap on generated tokens, thinking included")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument("--save", action="store_true",
                        help="save the question and answer in the history (see 'ponder history')")
    parser.add_argument("--passphrase-stdin", action="store_true",
                        help="with --save: read the history passphrase from stdin")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, paths: Paths) -> int:
    spec = args.model or default_model(paths)
    try:
        budget = ThinkingBudget.parse(args.thinking_budget)
        question = args.question.strip() or _empty()
        ask(question, budget=budget, max_new_tokens=args.max_new_tokens)  # bad options: before any load
    except PonderError as exc:
        return fail(exc)

    def build(ready: Ready) -> ChatRequest:  # the catalog's sampling, known once the host set the model up
        return ask(question, sampling=catalog_sampling(ready, args.greedy), budget=budget,
                   max_new_tokens=args.max_new_tokens)

    return asyncio.run(_ask(spec, args.provider, build, paths, args))


def catalog_sampling(ready: Ready, greedy: bool) -> Sampling:
    """The model's recommended sampling from the catalog, or greedy when asked for."""
    return replace(ready.setup.sampling, greedy=True) if greedy else ready.setup.sampling


def _where(ready: Ready) -> tuple[str, str]:
    """The model's name and where it runs, as the history records them."""
    if isinstance(ready.result, RemoteLoadResult):
        return ready.result.endpoint.model, "remote"
    return ready.result.folder.name, ready.result.provider.key


def _empty() -> str:
    raise BadRequestError("The question is empty.")


async def _ask(spec: str, provider: str, build: Callable[[Ready], ChatRequest], paths: Paths,
               args: argparse.Namespace) -> int:
    """Load through the host (verify, catalog setup), then stream one turn; the exit code."""
    # --save (history): opened before the model so a locked store is reported at once.
    saver: AskSaver | None = None
    if getattr(args, "save", False):  # `ponder act` reuses this loop without --save
        from engine.commands.history import AskSaver

        opened = AskSaver.open(args, paths)
        if isinstance(opened, int):
            return opened
        saver = opened
    try:
        host = command_host(args, paths)  # --endpoint: a remote server (engine/remote/)
    except PonderError as exc:
        return fail(exc)
    try:
        try:
            ready = await host.load(spec, provider)
            request = build(ready)
        except PonderError as exc:
            return fail(exc)
        if saver is not None:
            saver.begin(request.messages[-1].content, *_where(ready))
        turn = host.assistant.chat(request)
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, turn.cancel)
        except NotImplementedError:  # Windows: Ctrl-C raises KeyboardInterrupt instead
            pass
        printer = _JsonPrinter(sys.stdout) if args.json else _TextPrinter(args.show_thinking)
        async for batch in turn:
            if saver is not None:
                saver.feed(batch)
            for event in batch:
                printer.show(event)
                if isinstance(event, Failed):
                    return fail(event.error)
                if isinstance(event, Finished):
                    return 130 if event.reason is FinishReason.CANCELLED else 0
        return 0
    finally:
        host.close()
        if saver is not None:
            saver.close()


class _TextPrinter:
    """Answer to stdout; thinking, dimmed where the terminal supports it, to stderr."""

    def __init__(self, show_thinking: bool) -> None:
        self.show_thinking = show_thinking
        self.in_thinking = False
        self.dim = sys.stderr.isatty()

    def show(self, event: object) -> None:
        if isinstance(event, ThinkingDelta) and self.show_thinking:
            self._write(sys.stderr, event.text, start=not self.in_thinking)
            self.in_thinking = True
        elif isinstance(event, AnswerDelta):
            self._end_thinking()
            self._write(sys.stdout, event.text)
        elif isinstance(event, Finished):
            self._end_thinking()
            if event.answer and not event.answer.endswith("\n"):
                sys.stdout.write("\n")
            sys.stdout.flush()
            note = _finish_note(event)
            if note:
                print(f"ponder: {note}", file=sys.stderr)

    def _write(self, stream: TextIO, text: str, start: bool = False) -> None:
        if start and self.dim:
            stream.write("\x1b[2m")
        stream.write(text)
        stream.flush()

    def _end_thinking(self) -> None:
        if self.in_thinking:
            sys.stderr.write(("\x1b[0m" if self.dim else "") + "\n")
            sys.stderr.flush()
            self.in_thinking = False


def _finish_note(event: Finished) -> str:
    notes = {
        FinishReason.THINKING_BUDGET: "the thinking budget was reached, so the thinking was cut short",
        FinishReason.NO_ANSWER: "the model stopped while thinking and gave no answer "
                                "(raise --thinking-budget or --max-new-tokens)",
        FinishReason.LENGTH: "the answer was cut at the token limit",
        FinishReason.CANCELLED: "stopped",
    }
    note = notes.get(event.reason, "")
    if event.stats.dropped_turns:
        note += f"{'; ' if note else ''}{event.stats.dropped_turns} old turn(s) dropped to fit the context"
    return note


class _JsonPrinter:
    """One JSON object per line: prompt progress and deltas, then a final 'done' line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, event: object) -> None:
        if isinstance(event, PromptProgress):  # the prompt is being read: N of M new tokens
            self._line({"type": "progress", "done": event.done, "total": event.total})
        elif isinstance(event, ThinkingDelta):
            self._line({"type": "thinking", "text": event.text})
        elif isinstance(event, AnswerDelta):
            self._line({"type": "answer", "text": event.text})
        elif isinstance(event, Finished):
            self._line({
                "type": "done",
                "finish_reason": event.reason.value,
                "answer": event.answer,
                "thinking": event.thinking,
                "thinking_forced": event.thinking_forced,
                "stats": event.stats.as_dict(),
            })
        elif isinstance(event, Failed):
            self._line({"type": "error", "message": event.error.user_message()})

    def _line(self, obj: dict) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()
