"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from engine.errors import PonderError, user_message
from engine.providers import PROVIDER_KEYS

if TYPE_CHECKING:
    from engine.host import ModelHost
    from engine.paths import Paths


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model and --provider, as every model-running command takes them."""
    parser.add_argument("--model", default=None, metavar="demo|NAME|PATH",
                        help="model to use: 'demo', an installed model's name, or a model folder "
                             "(default: the first installed model, else the demo)")
    parser.add_argument("--provider", default="auto", choices=PROVIDER_KEYS, metavar="PROVIDER",
                        help="execution provider: " + ", ".join(PROVIDER_KEYS) + " (default: auto)")


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
