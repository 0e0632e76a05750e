"""Headless command-line subcommands. Each module has add_parser(subparsers) and run(args, paths)."""
