"""`ponder install-desktop-entry`: the menu entry and icons a Linux desktop picks up."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.commands import install_desktop_entry as desktop

ROOT = Path(__file__).resolve().parents[2]


def _ponder(*args: str, data_home: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(data_home)}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def _parse(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(text)
    return parser["Desktop Entry"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="freedesktop only")
def test_install_then_remove(tmp_path):
    data = tmp_path / "share"
    result = _ponder("install-desktop-entry", data_home=data, home=tmp_path)
    assert result.returncode == 0, result.stderr
    entry_file = data / "applications" / f"{desktop.DESKTOP_ID}.desktop"
    entry = _parse(entry_file.read_text(encoding="utf-8"))
    assert entry["Name"] == "Ponder"
    assert entry["Type"] == "Application"
    assert entry["Icon"] == desktop.APP_ID
    # The menu starts this very Python with Ponder's module (no console script in this env).
    assert Path(entry["Exec"].split()[0]).exists()
    icons = data / "icons" / "hicolor"
    assert (icons / "scalable" / "apps" / f"{desktop.APP_ID}.svg").is_file()
    for size in desktop.ICON_SIZES:
        png = icons / f"{size}x{size}" / "apps" / f"{desktop.APP_ID}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(data.rglob(".*.tmp"))

    result = _ponder("install-desktop-entry", "--remove", data_home=data, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Removed {1 + 1 + len(desktop.ICON_SIZES)} file(s)" in result.stdout
    assert not entry_file.exists()
    assert not list(icons.rglob("*.png"))


def test_every_icon_size_ships():
    folder = ROOT / "resources" / "icons" / "app"
    assert (folder / "ponder.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    for size in desktop.ICON_SIZES:
        data = (folder / f"ponder-{size}.png").read_bytes()
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (size, size)
    assert (folder / "ponder.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"


def test_exec_line_quotes_paths_with_spaces_and_percent_signs():
    entry = _parse(desktop.desktop_entry(["/opt/My Apps/ponder", "--data-dir", "/data/100%"]))
    # Desktop Entry spec: reserved characters force double quotes; % is doubled.
    assert entry["Exec"] == '"/opt/My Apps/ponder" --data-dir /data/100%%'
    assert entry["TryExec"] == "/opt/My Apps/ponder"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-utils is not installed (tools/test.sh installs it)")
def test_the_entry_passes_desktop_file_validate(tmp_path):
    entry = tmp_path / f"{desktop.DESKTOP_ID}.desktop"
    entry.write_text(desktop.desktop_entry(["/opt/My Apps/ponder"]), encoding="utf-8")
    result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_xdg_data_home_must_be_absolute_to_count(tmp_path):
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path
    assert desktop.data_home({"XDG_DATA_HOME": "relative/dir"}) == Path.home() / ".local" / "share"


def test_print_shows_the_entry_without_installing(tmp_path):
    result = _ponder("install-desktop-entry", "--print", data_home=tmp_path / "share", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[Desktop Entry]\n")
    assert not (tmp_path / "share").exists()


def test_an_unwritable_folder_is_a_message_not_a_traceback(tmp_path):
    blocker = tmp_path / "share"
    blocker.write_text("a file where a folder should be")
    result = _ponder("install-desktop-entry", data_home=blocker, home=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("ponder: could not write to")
    assert "Traceback" not in result.stderr
