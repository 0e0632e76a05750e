"""The frozen app's entry point: `ponder` as built by installer/ponder.spec.

Two things a frozen executable must do that `python -m app` gets for free:
- multiprocessing's "spawn" children (the document-reader sandbox) re-run this executable;
  freeze_support() turns such a start into the child instead of a second Ponder.
- engine workers started as `sys.executable -m engine.x.worker` (the model download) find the
  Ponder executable as sys.executable; this runs the bundled module instead, like Python would.
  Only modules under `engine.` are accepted: the bundle is not a general Python interpreter.
"""

import multiprocessing
import runpy
import sys


def main() -> int:
    """Start the worker asked for on the command line, or Ponder itself."""
    multiprocessing.freeze_support()
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        if not module.startswith("engine."):
            print(f"ponder: -m {module}: only Ponder's own engine workers can be started this way",
                  file=sys.stderr)
            return 2
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from app.cli import main as ponder_main

    return ponder_main()


if __name__ == "__main__":
    sys.exit(main())
