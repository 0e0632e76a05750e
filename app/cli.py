"""The `ponder` command: subcommands run headless through engine/; no subcommand opens the window."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from engine.environment import prepare_environment
from engine.paths import Paths, resolve_paths
from engine.run_record import FOLDER as RUN_FOLDER, RunRecord


#: The commands that load or install models: they keep a run record (engine/run_record.py) so
#: that a crash in one of them leads to a full check of the models at the next start.
USES_MODELS = {None, "ask", "act", "summarize", "models", "doctor", "serve"}


def build_parser() -> argparse.ArgumentParser:
    """The full command line. Subcommand modules register themselves here."""
    # Imported here so that nothing below can import onnxruntime before prepare_environment().
    from engine.commands import act, ask, doctor, history, install_desktop_entry, summarize, models
    from engine.commands import serve
    from engine.providers import PROVIDER_KEYS

    parser = argparse.ArgumentParser(
        prog="ponder",
        description="Ponder: an offline reasoning assistant. With no command, opens the chat window.",
    )
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="keep settings, models, history and logs under DIR (or set PONDER_HOME)")
    parser.add_argument("--model", default=None, metavar="demo|NAME|PATH", help="model for the window")
    parser.add_argument("--provider", default=None, choices=PROVIDER_KEYS, metavar="PROVIDER",
                        help="execution provider for the window (default: the setting, else auto)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail to stderr")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works, print each check and exit")
    from app.scenarios import SCENARIOS

    # A fixed list of scripted sessions for the offline proof and the bundle tests (no script path).
    parser.add_argument("--run-scenario", default=None, choices=sorted(SCENARIOS), help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (ask, doctor, install_desktop_entry, summarize, act, history, models, serve):
        module.add_parser(subparsers)
    from engine.commands import connections  # remote servers

    connections.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    prepare_environment()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    paths = resolve_paths(args.data_dir)
    if args.command not in USES_MODELS and not (args.self_test or args.run_scenario):
        return _dispatch(args, paths)  # nothing to protect, and nothing written (e.g. --print)
    with RunRecord(paths.data / RUN_FOLDER) as run:
        if run.unclean:
            _after_unclean_shutdown(paths)
        code = _dispatch(args, paths)
    if args.command is None and not (args.self_test or args.run_scenario):
        from app.main import leave_if_a_load_runs

        leave_if_a_load_runs(code)  # quit during a model load: exit now, not when it ends
    return code


def _dispatch(args: argparse.Namespace, paths: Paths) -> int:
    try:
        if args.self_test or args.run_scenario:
            if args.run_scenario:
                from app.scenarios import run_scenario

                return run_scenario(args.run_scenario, args, paths)
            from engine import selftest

            return selftest.run_self_test(args, paths)
        if args.command is None:
            from app.main import run_window

            return run_window(args, paths)
        return args.handler(args, paths)
    except KeyboardInterrupt:
        # Ctrl-C before a command installed its own handler (e.g. while a model loads).
        print("ponder: stopped", file=sys.stderr)
        return 130


def _after_unclean_shutdown(paths: Paths) -> None:
    """An earlier Ponder was killed or the computer lost power: re-hash models before loading."""
    from engine.download.store import ModelStore

    marked = ModelStore(paths).require_full_check()
    if marked:
        logging.getLogger(__name__).warning(
            "Ponder did not shut down cleanly last time; these models will be checked in full "
            "before they load: %s", ", ".join(marked))


if __name__ == "__main__":
    sys.exit(main())
