"""`ponder install-desktop-entry`: put Ponder in the user's application menu (freedesktop).

Writes ~/.local/share/applications/ponder.desktop and the icons into the hicolor theme under
~/.local/share/icons (XDG_DATA_HOME is honoured). `--remove` takes them away again. Nothing
outside the user's own data folder is touched, so no root is needed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.paths import Paths, resources_dir

#: The reverse-DNS id: the icon's name here, the bundle identifier on macOS.
APP_ID = "io.github.ponder.Ponder"
#: The .desktop file's name: what the window reports (QGuiApplication.setDesktopFileName in
#: app/main.py), so the desktop matches the running window to this entry and its icon.
DESKTOP_ID = "ponder"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@dataclass(frozen=True)
class DesktopFiles:
    """Where the entry and its icons go (or went)."""

    entry: Path
    icons: tuple[tuple[Path, Path], ...]  # (source, destination)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "install-desktop-entry",
        help="add Ponder to your application menu (Linux desktops)")
    parser.add_argument("--remove", action="store_true", help="remove the entry and icons again")
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="print the desktop entry instead of installing it")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, paths: Paths) -> int:
    command = launch_command()
    if args.print_only:
        print(desktop_entry(command), end="")
        return 0
    if not sys.platform.startswith("linux"):
        print("ponder: desktop entries are a Linux desktop feature; the Windows and macOS "
              "installers add Ponder to the menu themselves.", file=sys.stderr)
        return 2
    files = plan(data_home())
    try:
        if args.remove:
            removed = remove(files)
            print(f"Removed {removed} file(s) from {data_home()}.")
        else:
            install(files, desktop_entry(command))
            print(f"Installed {files.entry}\nPonder is now in your application menu "
                  "(log out and in if it does not appear).")
    except OSError as exc:
        print(f"ponder: could not write to {exc.filename or data_home()}: {exc.strerror}",
              file=sys.stderr)
        return 1
    return 0


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME, else ~/.local/share (the XDG base directory rule: only absolute paths)."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """How the menu starts this Ponder: the frozen executable, the console script, or -m app."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    script = shutil.which("ponder")
    if script:
        return [str(Path(script).resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "app"]


def desktop_entry(command: list[str]) -> str:
    """The .desktop file's text (Desktop Entry Specification 1.4, which every current desktop reads)."""
    # Quoting first, then the string-value escape of backslashes (the spec applies both).
    exec_line = " ".join(_quote_exec(part) for part in command).replace("\\", "\\\\")
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=Ponder",
        "GenericName=Reasoning Assistant",
        "Comment=An offline reasoning assistant that runs on your own computer",
        f"Exec={exec_line}",
        f"TryExec={command[0]}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Utility;",
        "Keywords=AI;assistant;chat;reasoning;summarize;offline;",
        "StartupNotify=true",
        "StartupWMClass=ponder",  # Qt's WM_CLASS instance: the executable's name
        "",
    ])


def plan(data: Path) -> DesktopFiles:
    """The files to write: the entry plus every icon size that ships."""
    source = resources_dir() / "icons" / "app"
    icons = [(source / "ponder.svg", data / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg")]
    icons += [(source / f"ponder-{n}.png", data / f"icons/hicolor/{n}x{n}/apps/{APP_ID}.png")
              for n in ICON_SIZES]
    return DesktopFiles(data / "applications" / f"{DESKTOP_ID}.desktop", tuple(icons))


def install(files: DesktopFiles, entry_text: str) -> None:
    """Write the icons first, then the entry, each through a temporary file and a rename."""
    for source, target in files.icons:
        if source.is_file():
            _write(target, source.read_bytes())
    _write(files.entry, entry_text.encode("utf-8"))


def remove(files: DesktopFiles) -> int:
    """Delete what install() wrote; returns how many files were there."""
    removed = 0
    for target in (files.entry, *(t for _, t in files.icons)):
        if target.is_file():
            target.unlink()
            removed += 1
    return removed


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)


def _quote_exec(argument: str) -> str:
    """Quote one Exec argument as the spec asks (double quotes; `%` doubled)."""
    argument = argument.replace("%", "%%")
    if not any(c in argument for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return argument
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument)
    return f'"{escaped}"'
