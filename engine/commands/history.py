"""`ponder history list|show|search|export|import|setup|recover|check|passphrase|use-keyring`:
the history, headless."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from engine.commands.common import fail
from engine.errors import PonderError
from engine.history.errors import (
    HistoryLockedError,
    HistorySetupNeededError,
    LockReason,
    RecoveryChoice,
    SetupChoice,
)
from engine.history.records import HIT_END, HIT_START
from engine.paths import Paths

_CHOICE_COMMANDS = {
    RecoveryChoice.RETRY_KEYRING: "unlock the keyring, then run the command again",
    RecoveryChoice.ENTER_PASSPHRASE: "run the command again in a terminal to type the passphrase "
                                     "(or give it with --passphrase-stdin)",
    RecoveryChoice.RESTORE_BACKUP: "ponder history recover --restore-backup",
    RecoveryChoice.NEW_STORE: "ponder history recover --new-store",
}
_SETUP_COMMANDS = {
    SetupChoice.PASSPHRASE: "ponder history setup --passphrase",
    SetupChoice.UNENCRYPTED: "ponder history setup --unencrypted",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("history", help="list, search, show and export saved chats")
    commands = parser.add_subparsers(dest="history_command", metavar="ACTION", required=True)

    def sub(name: str, help_text: str, handler) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.add_argument("--passphrase-stdin", action="store_true",
                       help="read the history passphrase from the first line of stdin")
        p.set_defaults(handler=lambda args, paths: _guarded(handler, args, paths))
        return p

    sub("list", "conversations, pinned first, newest first", _list)
    sub("show", "one conversation", _show).add_argument("id", type=int, help="conversation id")
    sub("search", "full-text search", _search).add_argument("text", help="words to find")
    export = sub("export", "write a conversation as Markdown or JSON", _export)
    export.add_argument("id", type=int, help="conversation id")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="write to FILE instead of stdout")
    sub("import", "add a conversation from Ponder JSON", _import).add_argument(
        "file", type=Path, help="a file written by 'ponder history export --format json'")
    setup = sub("setup", "protect a new history when no secure keyring is available", _setup)
    mode = setup.add_mutually_exclusive_group(required=True)
    mode.add_argument("--passphrase", action="store_true", help="encrypt with a passphrase")
    mode.add_argument("--unencrypted", action="store_true",
                      help="keep the history unencrypted (anyone with the files can read it)")
    recover = sub("recover", "when the history cannot be opened", _recover)
    action = recover.add_mutually_exclusive_group(required=True)
    action.add_argument("--new-store", action="store_true",
                        help="start an empty history in a new file; the old file is kept as is")
    action.add_argument("--restore-backup", nargs="?", const="latest", metavar="BACKUP",
                        help="use a copy of a backup (default: the newest); the old file is kept")
    sub("check", "verify the history's encryption and structure", _check)
    sub("passphrase", "protect the history with a new passphrase (with --passphrase-stdin: the "
        "current passphrase on the first line, the new one on the second)", _change_passphrase)
    sub("use-keyring", "move a passphrase or unencrypted history into the secure system keyring",
        _use_keyring)


def vault_for(paths: Paths):
    """The history vault under Ponder's data folder (the object graph's one place for it)."""
    from engine.history.vault import HistoryVault

    return HistoryVault.for_paths(paths)


def open_store(vault, args: argparse.Namespace):
    """Open the store, asking for the passphrase when it needs one."""
    try:
        return vault.open()
    except HistoryLockedError as exc:
        if exc.reason is not LockReason.PASSPHRASE_NEEDED:
            raise
    return vault.open(passphrase=_passphrase(args, confirm=False))


def _passphrase(args: argparse.Namespace, *, confirm: bool) -> str:
    if getattr(args, "passphrase_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        return ""
    try:
        first = getpass.getpass("History passphrase: ")
        if confirm and getpass.getpass("Repeat it: ") != first:
            print("ponder: the passphrases differ.", file=sys.stderr)
            return ""
    except (KeyboardInterrupt, EOFError):  # Ctrl-C / Ctrl-D at the prompt: no passphrase
        print(file=sys.stderr)
        return ""
    return first


def _guarded(handler, args: argparse.Namespace, paths: Paths) -> int:
    """Run one action; typed errors become a message (and recovery choices), never a traceback."""
    vault = vault_for(paths)
    try:
        return handler(vault, args)
    except PonderError as exc:
        return report(exc, as_json=args.json)
    except OSError as exc:
        return fail(PonderError(f"{exc.filename or 'file'}: {exc.strerror or exc}"))


def report(exc: PonderError, *, as_json: bool = False) -> int:
    """Print a history error with the user's way out; returns the exit code."""
    if not isinstance(exc, (HistoryLockedError, HistorySetupNeededError)):
        return fail(exc)
    if isinstance(exc, HistorySetupNeededError):
        steps, reason = [_SETUP_COMMANDS[c] for c in exc.choices], "setup_needed"
    else:
        steps, reason = [_CHOICE_COMMANDS[c] for c in exc.choices], exc.reason.value
    if as_json:
        print(json.dumps({"error": exc.user_message(),
                          "reason": reason,
                          "choices": [c.value for c in exc.choices]}))
    else:
        print(f"ponder: {exc.user_message()}", file=sys.stderr)
        for step in steps:
            print(f"  - {step}", file=sys.stderr)
    return exc.exit_code


class AskSaver:
    """`ponder ask --save`: the question is saved when the model is loaded, the answer as it
    streams (so a Ctrl-C or a crash keeps what was committed)."""

    def __init__(self, store) -> None:
        self.store = store
        self.writer: Any = None
        self.meta: Any = None

    @classmethod
    def open(cls, args: argparse.Namespace, paths: Paths) -> AskSaver | int:
        """Open the store before any generation; an int is the exit code of a reported error."""
        try:
            return cls(open_store(vault_for(paths), args))
        except PonderError as exc:
            return report(exc)

    def begin(self, question: str, model: str, provider: str) -> None:
        """Save the question in a new conversation and start the answer."""
        from engine.history.records import MessageMeta

        self.meta = MessageMeta(model=model, provider=provider)
        conversation = self.store.create_conversation()
        self.store.add_message(conversation.id, "user", question)
        self.writer = self.store.start_message(conversation.id, self.meta)

    def feed(self, batch) -> None:
        """One batch of engine events."""
        if self.writer is not None:
            self.writer.feed(batch, self.meta)

    def close(self) -> None:
        """Commit what streamed so far (if the turn did not finish) and close the store."""
        if self.writer is not None and not self.writer.finished:
            self.writer.flush()
        self.store.close()


def _list(vault, args) -> int:
    with open_store(vault, args) as store:
        rows = store.list_conversations()
    if args.json:
        _print_json([_summary_dict(s) for s in rows])
    elif not rows:
        print("No saved conversations.")
    for s in rows if not args.json else ():
        pin = "*" if s.pinned else " "
        print(f"{s.id:>5} {pin} {_when(s.updated)}  {s.title or 'Untitled'}  ({s.message_count})")
    return 0


def _show(vault, args) -> int:
    from engine.history.export import to_json, to_markdown

    with open_store(vault, args) as store:
        conversation = store.conversation(args.id)
    print(to_json(conversation) if args.json else to_markdown(conversation), end="")
    return 0


def _search(vault, args) -> int:
    with open_store(vault, args) as store:
        hits = store.search(args.text)
    if args.json:
        _print_json([{"conversation_id": h.conversation_id, "title": h.conversation_title,
                      "message_id": h.message_id, "field": h.field, "snippet": h.plain,
                      "highlights": [t for t, hit in h.segments() if hit]} for h in hits])
        return 0
    if not hits:
        print("No matches.")
    bold = sys.stdout.isatty()
    for h in hits:
        snippet = h.snippet.replace(HIT_START, "\x1b[1m" if bold else "[").replace(
            HIT_END, "\x1b[0m" if bold else "]")
        print(f"{h.conversation_id:>5}  {h.conversation_title}  ({h.field}): "
              f"{' '.join(snippet.split())}")
    return 0


def _export(vault, args) -> int:
    from engine.history.export import to_json, to_markdown
    from engine.history.files import write_private

    with open_store(vault, args) as store:
        conversation = store.conversation(args.id)
    text = to_json(conversation) if args.format == "json" else to_markdown(conversation)
    if args.out is None:
        print(text, end="")
        return 0
    write_private(args.out.expanduser().resolve(), text.encode("utf-8"))
    if args.json:
        _print_json({"id": args.id, "format": args.format, "path": str(args.out)})
    else:
        print(f"Exported conversation {args.id} to {args.out}")
    return 0


def _import(vault, args) -> int:
    from engine.history.errors import HistoryImportError
    from engine.history.export import import_json

    try:
        data = args.file.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise HistoryImportError(str(args.file), "it is not UTF-8 text") from None
    with open_store(vault, args) as store:
        new_id = import_json(store, text, source=str(args.file))
        title = store.summary(new_id).title
    if args.json:
        _print_json({"id": new_id, "title": title})
    else:
        print(f"Imported conversation {new_id}: {title}")
    return 0


def _setup(vault, args) -> int:
    if vault.record() is not None:
        raise PonderError("The history is already set up.")
    if args.passphrase:
        passphrase = _passphrase(args, confirm=True)
        if not passphrase:
            raise PonderError("No passphrase given; nothing was set up.")
        vault.setup(SetupChoice.PASSPHRASE, passphrase=passphrase).close()
    else:
        vault.setup(SetupChoice.UNENCRYPTED).close()
    mode = "a passphrase" if args.passphrase else "no encryption (your explicit choice)"
    if args.json:
        _print_json({"mode": "passphrase" if args.passphrase else "unencrypted"})
    else:
        print(f"History set up with {mode}.")
    return 0


def _recover(vault, args) -> int:
    if args.new_store:
        try:
            store = vault.new_store()
        except HistorySetupNeededError:
            raise PonderError("No secure keyring is available for a new history: run "
                              "'ponder history setup --passphrase' or '--unencrypted' first.")
    else:
        backups = vault.backups()
        if not backups:
            raise PonderError("There is no backup of the history.")
        backup = backups[0] if args.restore_backup == "latest" else Path(args.restore_backup)
        record = vault.record()
        needs = record is not None and record.mode == "passphrase"
        passphrase = _passphrase(args, confirm=False) if needs else ""
        store = vault.restore_backup(backup, passphrase=passphrase or None)
    with store:
        path = store.path
    if args.json:
        _print_json({"database": str(path)})
    else:
        print(f"History now uses {path}; the previous file was left untouched.")
    return 0


def _check(vault, args) -> int:
    with open_store(vault, args) as store:
        report = store.check()
        path = store.path
    if args.json:
        _print_json({"ok": report.ok, "problems": list(report.problems),
                     "damaged_pages": list(report.damaged_pages), "database": str(path)})
    elif report.ok:
        print(f"History OK ({path}).")
    else:
        pages = ", ".join(map(str, report.damaged_pages)) or "unknown"
        print(f"ponder: the history is damaged (pages: {pages}). Restore a backup with "
              "'ponder history recover --restore-backup'.", file=sys.stderr)
    return 0 if report.ok else 9


def _current_passphrase(vault, args) -> str | None:
    """The passphrase that opens the history now (None when it needs none)."""
    record = vault.record()
    if record is None:
        raise PonderError("There is no history yet; 'ponder history setup' creates one.")
    if record.mode != "passphrase":
        return None
    if not getattr(args, "passphrase_stdin", False) and sys.stdin.isatty():
        try:
            return getpass.getpass("Current history passphrase: ")
        except (KeyboardInterrupt, EOFError):
            print(file=sys.stderr)
            return ""
    return _passphrase(args, confirm=False)


def _change_passphrase(vault, args) -> int:
    from engine.history.rekey import change_passphrase

    current = _current_passphrase(vault, args)
    if current == "":
        raise PonderError("No current passphrase given; nothing was changed.")
    if not getattr(args, "passphrase_stdin", False) and sys.stdin.isatty():
        print("Choose the new passphrase.", file=sys.stderr)
    new = _passphrase(args, confirm=True)
    if not new:
        raise PonderError("No new passphrase given; nothing was changed.")
    change_passphrase(vault, current, new)
    if args.json:
        _print_json({"mode": "passphrase"})
    else:
        print("The history now opens with the new passphrase; copies the old one opened are deleted.")
    return 0


def _use_keyring(vault, args) -> int:
    from engine.history.rekey import move_to_keyring

    current = _current_passphrase(vault, args)
    if current == "":
        raise PonderError("No passphrase given; nothing was changed.")
    move_to_keyring(vault, current)
    if args.json:
        _print_json({"mode": "keyring", "backend": vault.record().backend})
    else:
        print(f"The history's key is now kept by {vault.keyring.describe()}; no passphrase is needed.")
    return 0


def _summary_dict(s) -> dict:
    return {"id": s.id, "uid": s.uid, "title": s.title, "pinned": s.pinned,
            "created": s.created, "updated": s.updated, "messages": s.message_count}


def _print_json(value) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
