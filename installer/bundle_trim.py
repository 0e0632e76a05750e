"""What installer/ponder.spec leaves out of the Linux bundle after PyInstaller's analysis, and why.

PyInstaller's PySide6 hook collects every Qt plugin of the modules in use, every Qt translation
and matplotlib's whole data folder; the system libraries those plugins link (GTK 3 and its
twenty friends for the GTK theme plugin) come along. Each entry below says why Ponder does
not need it; bench/RESULTS.md ("Bundle size") has the sizes, and tests/installer/test_bundle.py
checks that the kept features still run in the frozen app.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path, PurePosixPath

QT_PLUGINS = "PySide6/Qt/plugins/"

#: Qt plugins left out, by "type/file" under PySide6/Qt/plugins.
DROPPED_PLUGINS = {
    # The GTK 3 theme links GTK, GDK, cairo, pango, atk... (~17 MB). Ponder draws with Fusion and
    # its own palette (app/theme.py); dialogs use the portal theme (xdgdesktopportal) or Qt's own.
    "platformthemes/libqgtk3.so",
    # Embedded-device and remote platforms; a desktop session uses xcb or wayland (tests: offscreen).
    "platforms/libqeglfs.so", "platforms/libqlinuxfb.so", "platforms/libqminimalegl.so",
    "platforms/libqvkkhrdisplay.so", "platforms/libqvnc.so",
    "egldeviceintegrations/libqeglfs-emu-integration.so",
    "egldeviceintegrations/libqeglfs-kms-egldevice-integration.so",
    "egldeviceintegrations/libqeglfs-x11-integration.so",
    "generic/libqevdevkeyboardplugin.so", "generic/libqevdevmouseplugin.so",
    "generic/libqevdevtabletplugin.so", "generic/libqevdevtouchplugin.so", "generic/libqtuiotouchplugin.so",
    # QNetworkInformation (links GIO) and QSslSocket backends: Ponder's only QtNetwork use is
    # QLocalServer, the single-instance check (app/quick/instance.py).
    "networkinformation/libqconnman.so", "networkinformation/libqglib.so",
    "networkinformation/libqnetworkmanager.so",
    "tls/libqcertonlybackend.so", "tls/libqopensslbackend.so",
    # Image formats Ponder never reads (its icons are SVG and PNG; PNG is built into QtGui).
    "imageformats/libqicns.so", "imageformats/libqtga.so", "imageformats/libqtiff.so",
    "imageformats/libqwbmp.so", "imageformats/libqwebp.so",
}

#: Data folders left out (destination prefixes).
DROPPED_DATA = (
    # Ponder's interface is English and installs no QTranslator: Qt's catalogues are never loaded.
    "PySide6/Qt/translations/",
    # matplotlib only draws formulas to PNG with mathtext's DejaVu Sans set (app/markdown/math.py),
    # which falls back to STIX and Computer Modern (cm*.ttf): no PostScript/PDF font metrics,
    # serif or mono faces, sample data or toolbar images.
    "matplotlib/mpl-data/fonts/afm/",
    "matplotlib/mpl-data/fonts/pdfcorefonts/",
    "matplotlib/mpl-data/sample_data/",
    "matplotlib/mpl-data/images/",
)
DROPPED_FONT_PREFIXES = ("DejaVuSerif", "DejaVuSansMono")
MPL_TTF = "matplotlib/mpl-data/fonts/ttf/"


def _dropped_data(dest: str) -> bool:
    if dest.startswith(DROPPED_DATA):
        return True
    return dest.startswith(MPL_TTF) and PurePosixPath(dest).name.startswith(DROPPED_FONT_PREFIXES)


def _dropped_plugin(dest: str) -> bool:
    return dest.startswith(QT_PLUGINS) and dest[len(QT_PLUGINS):] in DROPPED_PLUGINS


def _library_folder(dest: str) -> bool:
    """A top-level library (a dependency PyInstaller found) or one of Qt's own libraries."""
    return "/" not in dest or dest.startswith("PySide6/Qt/lib/")


def _linked_names(sources: list[str]) -> set[str]:
    """Base names of every library the given binaries load at link time (ldd: transitively)."""
    from PyInstaller.depend.bindepend import get_imports

    names: set[str] = set()
    for source in sources:
        try:
            names.update(PurePosixPath(name).name for name, _ in get_imports(source))
        except Exception:  # noqa: BLE001 - a file ldd cannot read keeps what it pulled in
            continue
    return names


def trim(binaries: list, datas: list, cache: Path) -> tuple[list, list]:
    """The analysis' (binaries, datas) without the entries above, nor the top-level libraries
    that only the dropped plugins link; the binaries stripped (strip_binaries)."""
    dropped = [entry for entry in binaries if _dropped_plugin(entry[0])]
    kept = [entry for entry in binaries if not _dropped_plugin(entry[0])]
    # A library that only dropped plugins link goes too; one that nothing links (loaded with
    # dlopen, say) stays.
    only_dropped = _linked_names([src for _, src, _ in dropped]) - _linked_names(
        [src for dest, src, _ in kept if not _library_folder(dest) or dest.startswith("libpython")])
    kept = [entry for entry in kept
            if not _library_folder(entry[0]) or PurePosixPath(entry[0]).name not in only_dropped]
    return strip_binaries(kept, cache), [entry for entry in datas if not _dropped_data(entry[0])]


def _load_segments_aligned(path: Path) -> bool:
    """Whether every PT_LOAD segment of a 64-bit ELF file has offset ≡ address (mod page and
    p_align): `strip` rewrites some patchelf-edited libraries (auditwheel's *.libs) into files
    the loader refuses ("ELF load command address/offset not page-aligned")."""
    with open(path, "rb") as file:
        header = file.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:
            return False
        (table,) = struct.unpack_from("<Q", header, 0x20)
        entry_size, count = struct.unpack_from("<HH", header, 0x36)
        file.seek(table)
        entries = file.read(entry_size * count)
    for i in range(count):
        kind, _, offset, address, _, _, _, align = struct.unpack_from("<IIQQQQQQ", entries, i * entry_size)
        if kind == 1 and ((address - offset) % 4096 or (align and (address - offset) % align)):
            return False
    return True


def strip_binaries(binaries: list, cache: Path) -> list:
    """The binaries with symbol tables removed (a third of the native code: libpython,
    onnxruntime-genai, sqlcipher...), each stripped copy kept only if the loader will accept it.

    PyInstaller's own strip option strips everything, the broken files included, so the spec
    leaves it off and uses this instead. Copies are cached in `cache` by source path and mtime.
    """
    if shutil.which("strip") is None:
        print("warning: no `strip` (binutils); the bundle keeps its symbol tables")
        return binaries
    result = []
    for dest, src, kind in binaries:
        source = Path(src)
        with open(source, "rb") as file:
            elf = file.read(4) == b"\x7fELF"
        if not elf:
            result.append((dest, src, kind))
            continue
        stamp = f"{source.resolve()}:{source.stat().st_mtime_ns}:{source.stat().st_size}"
        target = cache / hashlib.sha256(stamp.encode()).hexdigest()[:16] / source.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            work = target.with_name(target.name + ".tmp")
            shutil.copy2(source, work)
            os.chmod(work, 0o755)
            done = subprocess.run(["strip", "--strip-unneeded", str(work)], capture_output=True)
            if done.returncode != 0 or not _load_segments_aligned(work) or work.stat().st_size >= source.stat().st_size:
                shutil.copy2(source, work)  # unusable or no smaller: the original, cached as is
            os.replace(work, target)
        result.append((dest, str(target), kind))
    return result
