"""`ponder act`: a quick action on the selection, the clipboard, a screen region or stdin.

With --action the answer streams to the terminal (the same output as `ponder ask`, --json
included). Without it, or for a screen region, the action popup is needed: the request goes to
the running Ponder if there is one (single instance), else this process opens the quick-action
window itself.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from dataclasses import replace

from engine.capture.sources import capture_text
from engine.commands import ask as ask_command
from engine.commands.common import add_model_options, fail
from engine.errors import BadRequestError, PonderError
from engine.host.kinds import remote_spec
from engine.models import default_model, resolve_model
from engine.paths import Paths
from engine.quick_actions.actions import ACTION_KEYS, action_by_key
from engine.quick_actions.handoff import hand_over
from engine.quick_actions.prompt import MAX_TEXT_CHARS, build_prompt
from engine.quick_actions.request import SOURCES, QuickRequest
from engine.quick_actions.special_tokens import markers_for
from engine.request import Sampling

#: The window side of `ponder act` lives in app/ (Qt); the engine names it and loads it only when
#: a window is needed, so this module and the headless path never import Qt.
WINDOW_ENTRY = "app.quick.launch"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "act", help="run a quick action on the selection, clipboard, a screen region or stdin",
        description="Without --action, shows the action popup (in the running Ponder if there is one).",
    )
    parser.add_argument("--source", choices=SOURCES, default="selection",
                        help="where the text comes from (default: selection)")
    parser.add_argument("--action", choices=ACTION_KEYS, default=None, help="what to do; omit to choose in a popup")
    parser.add_argument("--question", default="", help="the question for --action ask")
    parser.add_argument("--language", default="English", help="target language for --action translate")
    add_model_options(parser, remote=True)
    parser.add_argument("--greedy", action="store_true", help="greedy decoding instead of sampling")
    parser.add_argument("--show-thinking", action=argparse.BooleanOptionalAction, default=True,
                        help="print the model's thinking to stderr (default: on)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line (as ponder ask)")
    parser.add_argument("--print-prompt", action="store_true",
                        help="print the exact prompt the model would receive and exit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, paths: Paths) -> int:
    try:
        if args.action is None or args.source == "region":
            if args.print_prompt:
                raise BadRequestError("--print-prompt needs --action and a text source other than region.")
            if args.endpoint:  # the window runs a saved connection as the model "remote:NAME"
                if "://" in args.endpoint or args.model:
                    raise BadRequestError("Without --action, --endpoint takes a saved connection's name "
                                          "(and no --model); or give --action to run on a URL.")
                args = argparse.Namespace(**{**vars(args), "model": remote_spec(args.endpoint)})
            return _open_window(args, paths)
        text = capture_text(args.source)
        action = action_by_key(args.action)
        # Empty text or a missing question is reported before a model is looked for.
        build_prompt(action, text, markers=(), question=args.question, language=args.language)
        spec = args.model or default_model(paths)
        if args.endpoint:  # the model's tokenizer is on the server: its markers are neutralised generically
            if args.print_prompt:
                raise BadRequestError("--print-prompt needs a local model: the remote model's chat "
                                      "template is on the server.")
            folder, markers = None, markers_for(None, text)
        else:
            folder = resolve_model(spec, paths)
            markers = markers_for(folder.path)
        prompt = build_prompt(action, text, markers=markers, question=args.question,
                              language=args.language, sampling=Sampling(greedy=args.greedy))
    except PonderError as exc:
        return fail(exc)
    if prompt.truncated:
        print(f"ponder: the text was cut to its first {MAX_TEXT_CHARS:,} characters", file=sys.stderr)
    if args.print_prompt:
        from engine.catalog.setup import setup_for_spec
        from engine.quick_actions.tokenizer import rendered_prompt

        assert folder is not None  # --print-prompt with --endpoint was refused above
        try:  # rendered as the engine will: with the catalog's chat format and system prompt
            fmt = setup_for_spec(spec, paths).chat_format
            sys.stdout.write(rendered_prompt(folder, prompt.request, fmt) + "\n")
        except PonderError as exc:
            return fail(exc)
        except RuntimeError as exc:
            return fail(BadRequestError(f"Cannot render the prompt for {folder.path}: {exc}"))
        return 0

    def build(ready):  # the catalog's sampling for this model, once the host has set it up
        return replace(prompt.request, sampling=ask_command.catalog_sampling(ready, args.greedy))

    # The name as given: an installed model's files are verified by the host before it loads.
    return asyncio.run(ask_command._ask(spec, args.provider, build, paths, args))


def _open_window(args: argparse.Namespace, paths: Paths) -> int:
    """Hand the request to the running Ponder, else show the popup in this process."""
    text = capture_text("stdin") if args.source == "stdin" else None
    request = QuickRequest(source=args.source, action=args.action or "", question=args.question,
                           language=args.language if args.action == "translate" else "",
                           text=text, model=args.model or "")
    if hand_over(paths, request):
        return 0
    try:
        window = importlib.import_module(WINDOW_ENTRY)
    except ImportError as exc:
        return fail(BadRequestError(f"The quick-action window is not available in this installation: {exc}"))
    return window.run_quick(args, paths, request)
