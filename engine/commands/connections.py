"""`ponder connections add|list|test|remove`: the remote servers Ponder may use.

The API key is never taken from the command line (other users can read a process's arguments):
`--key-stdin` reads it from standard input, and it is kept in the system keyring.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from engine.commands.common import fail
from engine.errors import BadRequestError, PonderError
from engine.paths import Paths
from engine.remote.connections import SERVER_CHOICES, Connection, ConnectionStore


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("connections", help="remote servers (vLLM, llama.cpp, another Ponder…)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="save a connection (replaces one of the same name)")
    add.add_argument("name", help="a short name, e.g. gpu-box")
    add.add_argument("--url", required=True, help="the server's OpenAI-compatible address, e.g. https://gpu:8000/v1")
    add.add_argument("--model", required=True, help="the served model's name ('connections test' lists them)")
    add.add_argument("--ca-file", default=None, metavar="PEM", help="the CA certificate that signed the server's")
    add.add_argument("--key-stdin", action="store_true", help="read the API key from standard input")
    add.add_argument("--allow-private-http", action="store_true",
                     help="allow plain http to a private-network address (prompts travel unencrypted)")
    add.add_argument("--context-length", type=int, default=None, metavar="TOKENS",
                     help="the served model's context, if the server does not report it (summaries plan "
                          "with it; default: what /v1/models says, else 4096)")
    add.add_argument("--server", default="auto", choices=SERVER_CHOICES,
                     help="the serving engine, when detection guesses wrong (default: auto)")
    sub.add_parser("list", help="show the saved connections").add_argument("--json", action="store_true")
    test = sub.add_parser("test", help="list the server's models and time one token")
    test.add_argument("name")
    sub.add_parser("remove", help="delete a connection and its key").add_argument("name")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, paths: Paths) -> int:
    store = ConnectionStore.for_paths(paths)
    try:
        if args.action == "add":
            return _add(store, args)
        if args.action == "list":
            return _list(store, args.json)
        if args.action == "test":
            return _test(store, args.name)
        store.remove(args.name)
        print(f"removed {args.name}")
        return 0
    except PonderError as exc:
        return fail(exc)


def _add(store: ConnectionStore, args: argparse.Namespace) -> int:
    key = None
    if args.key_stdin:
        key = sys.stdin.readline().strip()
        if not key:
            raise BadRequestError("--key-stdin was given but standard input held no key.")
    saved = store.add(Connection(args.name, args.url, args.model, args.ca_file, args.allow_private_http,
                                 args.server, context_length=args.context_length), api_key=key)
    print(f"saved {saved.name}: {saved.model} at {saved.base_url}" + (" (key in the system keyring)" if key else ""))
    return 0


def _list(store: ConnectionStore, as_json: bool) -> int:
    connections = store.list()
    if as_json:
        print(json.dumps([{"name": c.name, "url": c.base_url, "model": c.model, "has_key": c.has_key,
                           "server": c.server, "ca_file": c.ca_file, "context_length": c.context_length}
                          for c in connections], indent=2))
        return 0
    if not connections:
        print("no connections; add one with: ponder connections add NAME --url URL --model MODEL")
    for c in connections:
        extras = [x for x in ("key" if c.has_key else "", f"CA {c.ca_file}" if c.ca_file else "",
                              c.server if c.server != "auto" else "") if x]
        print(f"{c.name}\t{c.model}\t{c.base_url}" + (f"\t({', '.join(extras)})" if extras else ""))
    return 0


def _test(store: ConnectionStore, name: str) -> int:
    from engine.remote.probe import probe

    connection, endpoint = store.endpoint(name)
    result = asyncio.run(probe(endpoint, connection.server))
    print(f"{connection.name}: OK, {result.summary()}")
    return 0
