"""Event-loop lateness while the window starts and while File → Models… opens, two trees side by side.

A 5 ms QTimer on the window's qasync loop (offscreen) records how late each tick fires while:

* start         — build_app() on the demo model, show, load; until the model is loaded and the
                  history is open (keyring D-Bus call, key derivation, the daily backup);
* Models… 1st   — File → Models… triggered; until the dialog shows what it found on the computer
                  (hardware, nvidia-smi, other tools' model caches, bandwidth, store cleanup);
* Models… 2nd   — closed and opened again (imports and caches warm).

Each tree runs in a fresh process with its own PONDER_HOME, alternating, `--rounds` times:
`--before` is a checkout of the code before the change (e.g. `git worktree add /tmp/ops-before
main`), the tree this file is in is "after". bench/with_keyring.sh runs it as the tests run:
under a private session D-Bus with an unlocked gnome-keyring. `--slow-smi S` puts an `nvidia-smi` on PATH that
answers after S seconds (a driver that is slow to wake, up to the 5 s timeout), since most test
machines have none. Without a keyring the history stops early at "no secure keyring".

    bash bench/with_keyring.sh bench.gui_blocking --before /tmp/ops-before --rounds 2 --slow-smi 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
PHASES = ("start", "  build+show", "  load+hist", "Models… 1st", "Models… 2nd")
FAKE_SMI = """#!/bin/sh
sleep {delay}
echo "NVIDIA Bench GPU, 8192, 8000"
"""


def _dialog(app):
    models = getattr(app, "models", None)  # after: app.models.dialog; before: window._model_manager
    return getattr(models, "dialog", None) if models is not None else getattr(app.window, "_model_manager", None)


async def _until(condition, timeout_s: float = 120.0) -> None:
    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not get there")
        await asyncio.sleep(0.005)


async def child() -> dict:
    """Measure the phases in this process (its PYTHONPATH is the tree under test)."""
    from PySide6.QtWidgets import QApplication

    from app.history.panel import HistoryPanel
    from app.main import build_app
    from bench.lateness import ControlTicker, Phase
    from bench.load_responsiveness import QtTicker
    from engine.paths import resolve_paths

    paths = resolve_paths()
    paths.ensure()
    control, ticker = ControlTicker(), QtTicker()
    ticker.start()
    await asyncio.sleep(0.3)
    spans: dict[str, tuple[float, float]] = {}

    begin = time.perf_counter()
    app = build_app(QApplication.instance(), paths, model="demo")
    app.show()
    shown = time.perf_counter()
    app.start_loading()
    panel = app.window.findChild(HistoryPanel)
    await _until(lambda: app.controller.model is not None and not panel.opening)
    spans["start"] = (begin, time.perf_counter())
    spans["  build+show"] = (begin, shown)  # build_app() and show(): synchronous on the GUI thread
    spans["  load+hist"] = (shown, time.perf_counter())  # then the model load and the history open
    await asyncio.sleep(0.3)

    action = app.window.findChild(type(app.window.settings_action), "modelManagerAction")
    for phase in PHASES[3:]:
        begin = time.perf_counter()
        action.trigger()
        await _until(lambda: _dialog(app) is not None and _dialog(app).isVisible()
                     and getattr(_dialog(app), "machine", None) is not None)
        spans[phase] = (begin, time.perf_counter())
        await asyncio.sleep(0.3)
        _dialog(app).close()
        await asyncio.sleep(0.2)

    ticker.stop()
    floor = await control.stop()
    app.window.close()
    app.shutdown()
    out = {}
    for phase, (begin, end) in spans.items():
        ours = Phase.of(ticker.samples, begin - 0.01, end)  # from one tick before: a blocked tick began then
        out[phase] = {"p50": ours.p50_ms, "p99": ours.p99_ms, "max": ours.max_ms, "seconds": ours.seconds,
                      "control_max": Phase.of(floor, begin - 0.01, end).max_ms}
    return out


def _run_child(tree: Path, smi_dir: Path | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen", ORT_DISABLE_TELEMETRY="1")
    if smi_dir is not None:
        env["PATH"] = f"{smi_dir}{os.pathsep}{env['PATH']}"
    with tempfile.TemporaryDirectory(prefix="ponder-bench-") as home:
        env["PONDER_HOME"] = home
        done = subprocess.run([sys.executable, str(HERE), "--child"], cwd=tree, env=env, capture_output=True,
                              text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout of the code before the change")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--slow-smi", type=float, default=None, help="a fake nvidia-smi answering after S s")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import qasync
        from PySide6.QtWidgets import QApplication

        qapp = QApplication([sys.argv[0]])
        loop = qasync.QEventLoop(qapp)
        asyncio.set_event_loop(loop)
        with loop:
            print(json.dumps(loop.run_until_complete(child())))
        return 0
    from bench.common import machine

    trees = {"after": HERE.parent.parent}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    smi_dir = None
    if args.slow_smi is not None:
        smi_dir = Path(tempfile.mkdtemp(prefix="ponder-smi-"))
        (smi_dir / "nvidia-smi").write_text(FAKE_SMI.format(delay=args.slow_smi))
        (smi_dir / "nvidia-smi").chmod(0o755)
    print(machine().describe())
    print(f"nvidia-smi: {'fake, answers after %.1f s' % args.slow_smi if smi_dir else 'as installed'}")
    print(f"{'tree':7s} {'round':5s} {'phase':12s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} "
          f"{'phase s':>8s} {'control max':>11s}")
    for n in range(1, args.rounds + 1):
        for name, tree in trees.items():
            figures = _run_child(tree, smi_dir)
            for phase in PHASES:
                f = figures[phase]
                print(f"{name:7s} {n:5d} {phase:12s} {f['p50']:8.1f} {f['p99']:8.1f} {f['max']:8.1f} "
                      f"{f['seconds']:8.2f} {f['control_max']:11.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.environ.get("PYTHONPATH", ""))  # run by path: the tree under test first
    raise SystemExit(main())
