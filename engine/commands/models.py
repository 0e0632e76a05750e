"""`ponder models list|recommend|download|import|verify|remove|convert`: the model manager,
headless. Only `download` and `convert ID` use the network, and only for the files they fetch."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from engine.commands.common import fail
from engine.errors import PonderError
from engine.paths import Paths


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list, recommend, download, import and remove models")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="installed models, the catalog, and models found on this computer")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_list)
    p = sub.add_parser("recommend", help="the best model for this computer, and why")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_recommend)
    p = sub.add_parser("download", help="download, verify and install a catalog model")
    p.add_argument("id", help="catalog id, e.g. phi-4-mini-reasoning")
    p.add_argument("--variant", default=None, help="variant id (default: the best for this computer)")
    p.add_argument("--name", default=None, help="install under this name (default: the id)")
    p.add_argument("--json", action="store_true", help="progress as JSON lines")
    p.set_defaults(handler=run_download)
    p = sub.add_parser("convert", help="build a model on this computer (needs the 'tools' extra)")
    p.add_argument("source", help="catalog id (downloads the original weights) or a checkpoint folder")
    p.add_argument("--name", default=None)
    p.add_argument("--precision", default="int4")
    p.add_argument("--target", default="cpu", help="cpu, cuda, dml or webgpu")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_convert)
    p = sub.add_parser("import", help="install a model folder (e.g. from a USB stick), verified")
    p.add_argument("path")
    p.add_argument("--name", default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_import)
    p = sub.add_parser("verify", help="re-hash an installed model's files")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_verify)
    p = sub.add_parser("remove", help="delete an installed model")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_remove)


def _store(paths: Paths):
    from engine.download.store import ModelStore

    paths.ensure()
    store = ModelStore(paths)
    store.cleanup()  # stale partial downloads and half-removed models go first
    return store


def _machine():
    from engine.hardware import detect_hardware
    from engine.providers import detect_install
    from engine.recommend import detect_gpu_memory, machine_from

    return machine_from(detect_hardware(), detect_install(), detect_gpu_memory())


def _emit(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    print(json.dumps(obj) if getattr(args, "json", False) else text)


def run_list(args: argparse.Namespace, paths: Paths) -> int:
    from engine.catalog.load import load_catalog
    from engine.recommend import recommend
    from engine.reuse import find_reusable

    try:
        store, catalog = _store(paths), load_catalog()
    except PonderError as exc:
        return fail(exc)
    rec = recommend(catalog, _machine())
    installed = [{"name": m.name, "model": m.stamp.model if m.stamp else None,
                  "variant": m.stamp.variant if m.stamp else None,
                  "source": m.stamp.source if m.stamp else "unverified", "bytes": m.disk_bytes,
                  "path": str(m.path)} for m in store.installed()]
    best = (rec.choice.model.id, rec.choice.variant.id) if rec.choice else None
    models: list[dict[str, Any]] = [{"id": m.id, "name": m.name, "summary": m.summary, "variants": [
        {"id": v.id, "label": v.label, "source": v.source, "bytes": v.size, "memory_gb": v.memory_gb,
         "recommended": (m.id, v.id) == best, "revision_verified": v.revision_verified}
        for v in m.variants]} for m in catalog.models]
    found = [{"path": str(f.path), "tool": f.tool, "model": f.model, "variant": f.variant,
              "bytes": f.size} for f in find_reusable(catalog)]
    if args.json:
        print(json.dumps({"installed": installed, "catalog": models, "found": found,
                          "disk_bytes": sum(m["bytes"] for m in installed)}, indent=2))
        return 0
    lines = ["Installed"]
    lines += [f"  {m['name']:<24} {_gb(m['bytes']):>8}  {m['source']}" for m in installed] or ["  (none; the demo model is always available)"]
    lines += ["", "Catalog"]
    for m in models:
        lines.append(f"  {m['id']:<24} {m['summary']}")
        for v in m["variants"]:
            how = "built here" if v["source"] == "convert" else "download"
            mark = "  ★ recommended" if v["recommended"] else ""
            lines.append(f"      {v['id']:<14} {v['label']:<34} {_gb(v['bytes']):>8} {how}{mark}")
    if found:
        lines += ["", "Found on this computer (ponder models import PATH to use without downloading)"]
        lines += [f"  {f['model'] or '?'} ({f['tool']}): {f['path']}" for f in found]
    lines += ["", f"Disk use: {_gb(sum(m['bytes'] for m in installed))} in {store.root}"]
    print("\n".join(lines))
    return 0


def run_recommend(args: argparse.Namespace, paths: Paths) -> int:
    from engine.catalog.load import load_catalog
    from engine.recommend import recommend

    try:
        rec = recommend(load_catalog(), _machine())
    except PonderError as exc:
        return fail(exc)
    if args.json:
        choice = rec.choice
        print(json.dumps({"model": choice.model.id if choice else None,
                          "variant": choice.variant.id if choice else None,
                          "provider": choice.provider if choice else None, "reasons": list(rec.reasons)}))
        return 0
    print("\n".join(rec.reasons))
    if rec.choice:
        print(f"\nInstall it with: ponder models download {rec.choice.model.id} --variant {rec.choice.variant.id}")
    return 0


def run_download(args: argparse.Namespace, paths: Paths) -> int:
    from engine.catalog.load import load_catalog
    from engine.download.install import make_installer
    from engine.recommend import assess

    try:
        store, catalog = _store(paths), load_catalog()
        model = catalog.model(args.id)
        machine = _machine()
        if args.variant:
            variant = model.variant(args.variant)
        else:
            fits = [assess(model, v, machine) for v in model.variants]
            variant = next((f.variant for f in fits if f.fits), model.variants[0])
        warning = assess(model, variant, machine).warning()
        if warning:
            print(f"ponder: warning: {warning}", file=sys.stderr)
        installer = make_installer(model, variant, store, name=args.name)
        return _run_job(args, installer, f"{model.name}, {variant.label}")
    except PonderError as exc:
        return fail(exc)


def run_convert(args: argparse.Namespace, paths: Paths) -> int:
    from engine.catalog.load import load_catalog
    from engine.convert import Conversion, ConvertRequest
    from engine.download.importer import default_name
    from engine.download.install import make_installer
    from engine.download.job import DownloadProgress, Phase

    try:
        store = _store(paths)
        source = Path(args.source).expanduser()
        if source.is_dir():
            conversion = Conversion(ConvertRequest(args.name or default_name(source) + f"-{args.target}-{args.precision}",
                                                   source.resolve(), args.precision, args.target), store)

            class _Adapter:  # progress in the same shape as downloads
                pause = cancel = conversion.cancel

                def run(self, on_progress):
                    return conversion.run(lambda p: on_progress(
                        DownloadProgress(Phase.BUILDING, int(p.fraction * 1000), 1000, stage=p.stage)))

            return _run_job(args, _Adapter(), str(source))
        model = load_catalog().model(args.source)
        variant = next((v for v in model.variants if v.source == "convert"), None)
        if variant is None:
            from engine.catalog.schema import CatalogLookupError
            raise CatalogLookupError(f"{model.name} has prebuilt variants only; use 'ponder models download'.")
        return _run_job(args, make_installer(model, variant, store, name=args.name), model.name)
    except PonderError as exc:
        return fail(exc)


def _run_job(args: argparse.Namespace, installer, what: str) -> int:
    from engine.download.errors import DownloadStopped

    bar = _Bar(json_lines=args.json)
    previous = signal.signal(signal.SIGINT, lambda *_: installer.pause())  # Ctrl-C pauses
    try:
        path = installer.run(bar.show)
    except DownloadStopped as exc:
        bar.end()
        print(f"ponder: {exc.user_message()}", file=sys.stderr)
        return exc.exit_code
    except PonderError as exc:
        bar.end()
        return fail(exc)
    finally:
        signal.signal(signal.SIGINT, previous)
    bar.end()
    _emit(args, {"type": "done", "name": path.name, "path": str(path)},
          f"Installed {what} as '{path.name}'. Try it: ponder ask --model {path.name} \"What is 2 plus 3?\"")
    return 0


class _Bar:
    """A one-line progress bar on a terminal; JSON lines for scripts; sparse lines otherwise."""

    def __init__(self, json_lines: bool) -> None:
        self.json, self.tty = json_lines, sys.stderr.isatty()
        self.last: tuple[str, int] | None = None

    def show(self, p) -> None:
        if self.json:
            print(json.dumps({"type": "progress", "phase": p.phase.value, "done": p.done, "total": p.total,
                              "speed": p.speed, "eta": p.eta, "stage": p.stage}), flush=True)
            return
        width = 30
        filled = int(p.fraction * width)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {p.line()}"
        if self.tty:
            sys.stderr.write("\r" + line[:110].ljust(110))
            sys.stderr.flush()
        elif (p.phase.value, int(p.fraction * 10)) != self.last:
            self.last = (p.phase.value, int(p.fraction * 10))
            print(line, file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.tty and not self.json:
            sys.stderr.write("\n")


def run_import(args: argparse.Namespace, paths: Paths) -> int:
    from engine.download.importer import import_folder
    from engine.reuse import HF_CACHE, cache_roots

    try:
        store = _store(paths)
        source = Path(args.path).expanduser()
        root = None
        hf = dict(cache_roots())[HF_CACHE]
        real = source.resolve()
        if real.is_relative_to(hf.resolve()) and len(real.relative_to(hf.resolve()).parts) > 1:
            root = hf.resolve() / real.relative_to(hf.resolve()).parts[0]  # links go into blobs/
        path = import_folder(source, store, name=args.name, root=root, link=root is not None)
    except PonderError as exc:
        return fail(exc)
    _emit(args, {"name": path.name, "path": str(path)}, f"Imported as '{path.name}' ({path}).")
    return 0


def run_verify(args: argparse.Namespace, paths: Paths) -> int:
    try:
        stamp = _store(paths).verify(args.name)
    except PonderError as exc:
        return fail(exc)
    _emit(args, {"name": args.name, "ok": True, "files": len(stamp.files)},
          f"'{args.name}': all {len(stamp.files)} files match their sha256.")
    return 0


def run_remove(args: argparse.Namespace, paths: Paths) -> int:
    try:
        freed = _store(paths).remove(args.name)
    except PonderError as exc:
        return fail(exc)
    _emit(args, {"name": args.name, "freed_bytes": freed}, f"Removed '{args.name}', freed {_gb(freed)}.")
    return 0


def _gb(n: int | float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"
