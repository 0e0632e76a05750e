"""`ponder doctor`: the machine, the providers, the choice and why, the models found."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
from typing import Any

from engine.commands.common import add_model_options, fail, local_host
from engine.errors import EngineFailureError, PonderError
from engine.hardware import HardwareFacts, detect_hardware
from engine.models import DEMO, default_model, installed_models
from engine.paths import Paths, demo_model_dir
from engine.providers import CANDIDATES, InstallInfo, detect_install, skip_reason
from engine.service import LoadResult


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="explain the machine, providers and models")
    add_model_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, paths: Paths) -> int:
    hardware, install = detect_hardware(), detect_install()
    spec = args.model or default_model(paths)
    result, error = asyncio.run(_load(paths, spec, args.provider, hardware, install))
    report = build_report(hardware, install, paths, spec, result, error)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return fail(error) if error else 0


async def _load(paths: Paths, spec: str, provider: str, hardware: HardwareFacts,
                install: InstallInfo) -> tuple[LoadResult | None, PonderError | None]:
    """Load as every entry point does (files verified, catalog setup applied), then let go."""
    host = local_host(paths, hardware=hardware, install=install)
    try:
        result = (await host.load(spec, provider)).result
        if not isinstance(result, LoadResult):  # a local host has no remote backend
            raise EngineFailureError(f"{spec} did not load on this machine")
        return result, None
    except PonderError as exc:
        return None, exc
    finally:
        host.close()


def build_report(hardware: HardwareFacts, install: InstallInfo, paths: Paths, spec: str,
                 result: LoadResult | None, error: PonderError | None) -> dict[str, Any]:
    """Everything doctor knows, as plain data."""
    rejected = {r.candidate.key: r for r in (result.rejected if result else ())}
    providers = []
    for candidate in CANDIDATES:
        if result and candidate.key == result.provider.key:
            status, reason = "chosen", "loaded the model and generated a token"
        elif candidate.key in rejected:
            r = rejected[candidate.key]
            status, reason = ("failed" if r.probed else "skipped"), r.reason
        else:
            skip = skip_reason(candidate, hardware, install)
            status, reason = ("skipped", skip) if skip else ("not tried", "a better provider was chosen")
        providers.append({"key": candidate.key, "label": candidate.label, "kind": candidate.kind,
                          "status": status, "reason": reason})
    models = [{"name": DEMO, "path": str(demo_model_dir())}]
    models += [{"name": f.name, "path": str(f)} for f in installed_models(paths)]
    return {
        "machine": {
            "system": f"{hardware.system} {platform.release()} ({hardware.machine})",
            "python": platform.python_version(),
            "cpu": hardware.cpu, "cores": hardware.cores,
            "ram_total_gb": round(hardware.ram_total / 2**30, 1),
            "ram_available_gb": round(hardware.ram_available / 2**30, 1),
            "gpus": list(hardware.gpus), "npus": list(hardware.npus),
            "devices_complete": hardware.complete,
        },
        "model": spec,
        "chosen": result.provider.key if result else None,
        "summary": result.summary if result else None,
        "error": error.user_message() if error else None,
        "providers": providers,
        "models": models,
        "data_folder": str(paths.data),
        "conversation_memory": _conversation_memory(result, hardware, paths),
    }


def _conversation_memory(result: LoadResult | None, hardware: HardwareFacts, paths: Paths) -> dict[str, Any] | None:
    """What a chat on the loaded model reserves at each effort (the Settings' budgets)."""
    if result is None:
        return None
    from engine.commands.kv_report import kv_report
    from engine.memory import MemoryFacts
    from engine.settings import SettingsStore

    folder = result.folder
    search = folder.config.get("search", {})
    max_length = int(min(search.get("max_length") or folder.context_length, folder.context_length))
    budgets = SettingsStore(paths.settings_file).load().settings.thinking_budgets()
    facts = MemoryFacts(hardware.ram_total, hardware.ram_available)
    return kv_report(folder.config, result.provider.key, max_length, facts, budgets)


def format_report(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    m = report["machine"]
    # Where only devices an installed provider claims are known, "none" is not the last word.
    none = "none found" if m.get("devices_complete", True) else "none listed by onnxruntime's providers"
    lines = [
        "Machine",
        f"  {m['system']}, Python {m['python']}",
        f"  CPU: {m['cpu']} ({m['cores']} cores)",
        f"  RAM: {m['ram_available_gb']} GB free of {m['ram_total_gb']} GB",
        f"  GPUs: {', '.join(m['gpus']) or none}",
        f"  NPUs: {', '.join(m['npus']) or none}",
        "",
        f"Providers (best first) for model '{report['model']}'",
    ]
    marks = {"chosen": "✔", "failed": "✘", "skipped": "–", "not tried": "·"}
    for p in report["providers"]:
        lines.append(f"  {marks[p['status']]} {p['label']:<26} {p['status']}: {p['reason']}")
    lines.append("")
    if report["chosen"]:
        lines.append(f"Chosen: {report['summary']}")
    else:
        lines.append(f"No provider could run the model: {report['error']}")
    lines += ["", "Models"]
    lines += [f"  {x['name']:<12} {x['path']}" for x in report["models"]]
    if report.get("conversation_memory"):
        from engine.commands.kv_report import format_kv_report

        lines += ["", *format_kv_report(report["conversation_memory"])]
    lines += ["", f"Data folder: {report['data_folder']}"]
    return "\n".join(lines)
