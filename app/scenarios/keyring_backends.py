"""`ponder --run-scenario keyring-backends`: which keyring backends the frozen build finds.

The bundle test checks that the Secret Service is found through its entry points and that no
plaintext backend (keyrings.alt) was bundled.
"""

from __future__ import annotations

import argparse

from engine.paths import Paths


def run(args: argparse.Namespace, paths: Paths) -> int:
    """Print every keyring backend and the effective one."""
    import keyring
    import keyring.backend

    names = sorted(type(k).__module__ + "." + type(k).__name__ for k in keyring.backend.get_all_keyring())
    print("backends:", *names)
    print("effective:", type(keyring.get_keyring()).__module__)
    return 0
