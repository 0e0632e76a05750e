"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.errors import BadRequestError, PonderError, user_message
from engine.paths import Paths
from engine.providers import PROVIDER_KEYS

if TYPE_CHECKING:
    from engine.host import ModelHost
    from engine.remote.service import RemoteChoice


def add_model_options(parser: argparse.ArgumentParser, *, remote: bool = False) -> None:
    """--model and --provider, as every model-running command takes them; with remote, also
    --endpoint (for the commands that can run on a remote server)."""
    parser.add_argument("--model", default=None, metavar="demo|NAME|PATH",
                        help="model to use: 'demo', an installed model's name, or a model folder "
                             "(default: the first installed model, else the demo)")
    parser.add_argument("--provider", default="auto", choices=PROVIDER_KEYS, metavar="PROVIDER",
                        help="execution provider: " + ", ".join(PROVIDER_KEYS) + " (default: auto)")
    if not remote:
        return
    parser.add_argument("--endpoint", default=None, metavar="URL|CONNECTION",
                        help="run on a remote OpenAI-compatible server (a URL, with --model naming the "
                             "served model, or a saved connection's name); the key comes from the "
                             "connection or the PONDER_API_KEY environment variable")
    parser.add_argument("--allow-private-http", action="store_true",
                        help="with --endpoint: allow plain http to a private-network address")


def remote_choice(args: argparse.Namespace, paths: Paths) -> RemoteChoice | None:
    """The remote model the arguments ask for (--endpoint), or None for a local one."""
    if not getattr(args, "endpoint", None):
        return None
    from engine.remote.connections import ConnectionStore
    from engine.remote.endpoint import Endpoint
    from engine.remote.service import RemoteChoice

    if "://" not in args.endpoint:  # a saved connection's name
        connection, endpoint = ConnectionStore.for_paths(paths).endpoint(args.endpoint)
        if args.model:
            endpoint = replace(endpoint, model=args.model)
        return RemoteChoice(endpoint, connection.server, connection.context_length)
    if not args.model:
        raise BadRequestError("--endpoint URL needs --model NAME (the served model; "
                              "'ponder connections test' lists them).")
    key = os.environ.get("PONDER_API_KEY") or None
    return RemoteChoice(Endpoint(args.endpoint, args.model, allow_private_http=args.allow_private_http,
                                 api_key=key))


def fail(error: BaseException) -> int:
    """Print one line for the user and return the exit code."""
    print(f"ponder: {user_message(error)}", file=sys.stderr)
    return error.exit_code if isinstance(error, PonderError) else 1


def local_host(paths: Paths, **service_options: object) -> ModelHost:
    """The host a command loads its model through (file checks, catalog setup), running the
    model on a local inference thread."""
    from engine.host import ModelHost
    from engine.service import InferenceService

    return ModelHost(InferenceService(paths=paths, **service_options), paths=paths)  # type: ignore[arg-type]


def command_host(args: argparse.Namespace, paths: Paths) -> ModelHost:
    """The host a model-running command uses: on the server --endpoint names, else local.
    Raises a PonderError for a bad --endpoint."""
    remote = remote_choice(args, paths)
    if remote is None:
        return local_host(paths)
    from engine.remote.backend import remote_host

    return remote_host(remote, paths)
