"""`ponder serve`: the local OpenAI-compatible API, headless (see engine/api/)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.api.model import HostStatus, installed_entries, served_model
from engine.api.security import (
    KeyringKeys,
    ServerConfig,
    ServerConfigError,
    is_loopback,
    needs_key,
    read_key_file,
)
from engine.api.sessions import DEFAULT_SESSIONS
from engine.commands.common import add_model_options, fail, local_host
from engine.errors import PonderError
from engine.models import default_model
from engine.paths import Paths
from engine.sessions import MAX_SESSIONS

if TYPE_CHECKING:
    from engine.history.store import HistoryStore

DEFAULT_PORT = 8745


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve the model through a local OpenAI-compatible API")
    add_model_options(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1; any other needs an API key)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0: any free one)")
    parser.add_argument("--api-key-file", type=Path, default=None, metavar="FILE",
                        help="require the key in FILE (default: none on 127.0.0.1; the keyring's key elsewhere)")
    parser.add_argument("--require-key", action="store_true",
                        help="require the system keyring's API key even on 127.0.0.1")
    parser.add_argument("--print-key", action="store_true",
                        help="print the keyring's API key (making one if needed) and exit")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                        help="let web pages from URL call the API (CORS); repeatable")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="accept this name in the Host header besides the bound address and localhost")
    parser.add_argument("--max-waiting", type=int, default=64, metavar="N",
                        help="requests that may wait in line; more get 429 (default: 64)")
    parser.add_argument("--sessions", type=_sessions, default=DEFAULT_SESSIONS, metavar="N",
                        help="conversations kept cached at once, so a follow-up computes only its new "
                             f"messages (1-{MAX_SESSIONS}; default: {DEFAULT_SESSIONS}; each holds its own KV cache)")
    parser.add_argument("--save-history", action=argparse.BooleanOptionalAction, default=None,
                        help="save each answered request to the history as a conversation titled 'API · …' "
                             "(a follow-up joins its conversation; cut-off or failed requests are not saved). "
                             "Default: the window's 'Save API requests to the history' setting. Given "
                             "explicitly, serve refuses to start if the history cannot be opened (locked, not "
                             "set up); from the setting alone it warns and serves without saving")
    parser.add_argument("--passphrase-stdin", action="store_true",
                        help="with saving: read the history passphrase from the first line of stdin")
    parser.set_defaults(handler=run)


def _save_failed(error: PonderError) -> None:
    print(f"ponder: a request was answered but not saved to the history: {error.user_message()}",
          file=sys.stderr, flush=True)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number (0-65535)")
    return port


def _sessions(text: str) -> int:
    # The worker keeps at most MAX_SESSIONS engines resident: more would evict each other's caches.
    try:
        count = int(text)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_SESSIONS:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of sessions (1-{MAX_SESSIONS})")
    return count


def run(args: argparse.Namespace, paths: Paths) -> int:
    try:
        if args.print_key:
            print(KeyringKeys().get_or_create())
            return 0
        config = ServerConfig(host=args.host, port=args.port, api_key=_key(args),
                              allow_origins=tuple(args.allow_origin), allow_hosts=tuple(args.allow_host),
                              waiting=max(0, args.max_waiting), sessions=args.sessions)
    except PonderError as exc:
        return fail(exc)
    store = _history_store(args, paths)
    if isinstance(store, int):
        return store
    try:
        return asyncio.run(_serve(args, paths, config, store))
    finally:
        if store is not None:
            store.close()


def _history_store(args: argparse.Namespace, paths: Paths) -> HistoryStore | int | None:
    """The history store to save requests into; None: not saving; an int: the exit code of a
    refusal (saving was asked for with --save-history and the history cannot be opened)."""
    from engine.commands.history import open_store, report, vault_for
    from engine.settings import SettingsStore

    explicit = args.save_history is not None
    wanted = args.save_history if explicit else SettingsStore(paths.settings_file).load().settings.get(
        "api_save_history")
    if not wanted:
        return None
    try:
        return open_store(vault_for(paths), args)
    except PonderError as exc:
        if explicit:
            print("ponder: not serving: --save-history was given, and the history cannot be opened.",
                  file=sys.stderr)
            return report(exc)
        print("ponder: warning: serving WITHOUT saving requests to the history (the setting 'Save API "
              "requests to the history' is on, but the history cannot be opened; --no-save-history "
              "silences this).", file=sys.stderr)
        report(exc)
        return None


def _key(args: argparse.Namespace) -> str | None:
    """The key file's key; else the keyring's where one is needed; else none (loopback only)."""
    if args.api_key_file is not None:
        return read_key_file(args.api_key_file)
    if args.require_key or not is_loopback(args.host):
        try:
            return KeyringKeys().get_or_create()
        except ServerConfigError as exc:
            if is_loopback(args.host):
                raise
            raise ServerConfigError(f"{needs_key(args.host)} {exc}") from None
    return None


async def _serve(args: argparse.Namespace, paths: Paths, config: ServerConfig,
                 store: HistoryStore | None) -> int:
    from engine.api.saving import ApiHistory
    from engine.api.server import ApiServer
    from engine.settings import SettingsStore

    host = local_host(paths)  # the one owner of the model, as for every other command
    budgets = SettingsStore(paths.settings_file).load().settings.thinking_budgets()
    # The store is this command's, used on this loop's thread only (as the server saves).
    history = ApiHistory(lambda: store, on_error=_save_failed) if store is not None else None
    server = ApiServer(host.assistant, HostStatus(host), config, budgets=lambda: budgets,
                       installed=lambda: installed_entries(paths), history=history)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt
            pass
    try:
        try:
            await server.start()
        except PonderError as exc:
            return fail(exc)
        print(f"ponder: listening on {server.url} (loading the model…)", file=sys.stderr, flush=True)
        try:
            ready = await host.load(args.model or default_model(paths), args.provider)
        except PonderError as exc:
            return fail(exc)
        model = served_model(ready.result, ready.setup)
        key_note = ""
        if config.api_key:
            key_note = "; requests need the API key" + ("" if args.api_key_file else " ('ponder serve --print-key' shows it)")
        saving = "; answered requests are saved to the history" if store is not None else ""
        print(f"ponder: ready: model '{model.id}' at {server.url}{key_note}{saving}. Ctrl-C stops.",
              file=sys.stderr, flush=True)
        await stop.wait()
        return 0
    finally:
        server.cancel_all()
        await server.stop()
        host.close()  # the server is down: nothing waits on the loop while the engine closes
