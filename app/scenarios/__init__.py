"""Scripted sessions that prove a build works: a fixed list, chosen by name with the hidden
`--run-scenario` flag. A fixed list (not a script path) so the shipped app, which may hold the
user's Accessibility and Screen Recording permissions, never runs code given on its command line.
"""

from __future__ import annotations

import argparse

from engine.paths import Paths


def _offline_proof(args: argparse.Namespace, paths: Paths) -> int:
    from app.scenarios import offline_proof

    return offline_proof.run(args, paths)


def _keyring_backends(args: argparse.Namespace, paths: Paths) -> int:
    from app.scenarios import keyring_backends

    return keyring_backends.run(args, paths)


def _bundle_features(args: argparse.Namespace, paths: Paths) -> int:
    from app.scenarios import bundle_features

    return bundle_features.run(args, paths)


#: Name -> entry point. The imports are written out so PyInstaller bundles each scenario.
SCENARIOS = {
    "offline-proof": _offline_proof,
    "keyring-backends": _keyring_backends,
    "bundle-features": _bundle_features,
}


def run_scenario(name: str, args: argparse.Namespace, paths: Paths) -> int:
    """Run one scenario by name; 2 for a name that is not on the list."""
    scenario = SCENARIOS.get(name)
    if scenario is None:
        import sys

        print(f"ponder: no scenario named {name!r} (known: {', '.join(SCENARIOS)})", file=sys.stderr)
        return 2
    return scenario(args, paths)
