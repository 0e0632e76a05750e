"""`ponder summarize FILE...`: summarise documents of any length, each point with its source."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any
from typing import TextIO

from engine.commands.common import add_model_options, fail
from engine.errors import BadRequestError, PonderError
from engine.paths import Paths


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "summarize", help="summarise documents (.txt .md .html .pdf .docx .rtf, or folders) with sources")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="files or folders to summarise; '-' reads text from standard input")
    parser.add_argument("--length", default="medium", choices=("short", "medium", "long"),
                        help="how long the summary is (default: medium)")
    parser.add_argument("--form", default="bullets", choices=("paragraph", "bullets", "key-points"),
                        help="paragraphs, bullet points, or key points with action items (default: bullets)")
    parser.add_argument("--focus", default="", metavar="QUESTION", help="summarise with this question in mind")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the summary (Markdown) to FILE")
    parser.add_argument("--restart", action="store_true",
                        help="ignore the saved progress of an earlier, stopped run of the same summary")
    add_model_options(parser, remote=True)
    parser.add_argument("--json", action="store_true",
                        help="print progress as JSON lines, then one 'done' line with the summary")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, paths: Paths) -> int:
    from engine.summarize.options import SummaryOptions

    try:
        options = SummaryOptions.parse(length=args.length, form=args.form, focus=args.focus)
        out = _check_out(args.out)
    except PonderError as exc:
        return _fail(exc, args.json)
    return asyncio.run(_summarize(args, paths, options, out))


def _check_out(value: str | None) -> Path | None:
    if value is None:
        return None
    out = Path(value).expanduser()
    if out.is_dir():
        raise BadRequestError(f"--out {value}: that is a folder; give a file name.")
    if not out.parent.is_dir():
        raise BadRequestError(f"--out {value}: the folder {out.parent} does not exist.")
    return out


def _fail(error: BaseException, as_json: bool) -> int:
    if as_json:
        from engine.errors import user_message

        print(json.dumps({"type": "error", "message": user_message(error)}), flush=True)
    return fail(error)


async def _summarize(args: argparse.Namespace, paths: Paths, options, out: Path | None) -> int:
    from engine.commands.common import command_host
    from engine.models import default_model
    from engine.summarize.job import make_summarizer, read_documents
    from engine.summarize.steps import SummaryControl

    control = SummaryControl()
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, control.cancel)
    except NotImplementedError:  # Windows: Ctrl-C raises KeyboardInterrupt instead
        pass
    printer: Any = _JsonProgress(sys.stdout) if args.json else _TextProgress(sys.stderr)
    try:
        piped = [_stdin_document()] if "-" in args.files else []
        outcome = await read_documents([f for f in args.files if f != "-"], emit=printer.show, cancel=control.event)
    except PonderError as exc:
        printer.end()
        return _fail(exc, args.json)
    documents = tuple(piped) + outcome.documents
    for skipped in outcome.skipped:
        printer.note(f"skipped {skipped.user_message()}")
    try:
        host = command_host(args, paths)  # --endpoint: a remote server (engine/remote/)
    except PonderError as exc:
        printer.end()
        return _fail(exc, args.json)
    try:
        try:
            ready = await host.load(args.model or default_model(paths), args.provider)
            summarizer = make_summarizer(host.assistant, ready.result, paths)
            with host.hold("summary", cancel=control.cancel):  # a whole job, never split by a switch
                summary = await summarizer.run(documents, options, emit=printer.show, control=control,
                                               fresh=args.restart)
        except PonderError as exc:
            printer.end()
            return _fail(exc, args.json)
    finally:
        host.close()
    printer.end()
    for note in summary.notes:
        printer.note(note)
    if out is not None:
        _write(out, summary.markdown)
    if args.json:
        printer.done(summary)
    elif out is None:
        sys.stdout.write(summary.markdown)
        sys.stdout.flush()
    if out is not None and not args.json:
        print(f"ponder: summary saved to {out}", file=sys.stderr)
    if summary.partial:
        print("ponder: stopped; the summary above holds the points found so far. "
              "Run the same command again to continue.", file=sys.stderr)
        return 130
    return 0


def _stdin_document():
    from engine.documents.reader import text_document

    data = sys.stdin.buffer.read(64 * 2**20 + 1)
    from engine.documents.text import decode_text

    return text_document(decode_text(data, Path("standard input")), name="standard input")


def _write(out: Path, text: str) -> None:
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)


class _TextProgress:
    """One status line on stderr, rewritten in place on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.tty, self.open = stream, stream.isatty(), False

    def show(self, event: object) -> None:
        from engine.summarize.events import SummaryProgress, progress_text

        if not isinstance(event, SummaryProgress):
            return
        text = progress_text(event)
        if self.tty:
            self.stream.write("\r\x1b[K" + text[:200])
            self.open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        self.end()
        print(f"ponder: {text}", file=self.stream)

    def end(self) -> None:
        if self.open:
            self.stream.write("\n")
            self.open = False


class _JsonProgress:
    """Progress as JSON lines, then the 'done' line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, event: object) -> None:
        from engine.summarize.events import SummaryProgress

        if isinstance(event, SummaryProgress):
            self._line({"type": "progress", "stage": event.stage.value, "step": event.step, "total": event.total,
                        "where": event.where, "eta_s": event.eta_s, "points": event.points,
                        "resumed": event.resumed})

    def note(self, text: str) -> None:
        self._line({"type": "note", "message": text})

    def end(self) -> None:
        pass

    def done(self, summary) -> None:
        from engine.summarize.sources import describe

        several = len(summary.documents) > 1
        self._line({
            "type": "done",
            "summary": summary.markdown,
            "sections": summary.sections,
            "points": [{"text": p.text, "source": describe(p.sources, with_document=several),
                        **({"group": p.group} if p.group else {})} for p in summary.points],
            "partial": summary.partial,
            "documents": list(summary.documents),
            "stats": summary.stats.as_dict(),
        })

    def _line(self, obj: dict) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()
