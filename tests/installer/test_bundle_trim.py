"""installer/bundle_trim.py without a build: what it drops, and that it never ships a library
the loader would refuse."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "installer"))
try:
    import bundle_trim
finally:
    sys.path.remove(str(ROOT / "installer"))

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("strip") is None,
                                reason="the trim runs on Linux, with binutils' strip")


def _site_file(pattern: str) -> Path:
    import numpy

    site = Path(numpy.__file__).resolve().parents[1]
    found = sorted(site.glob(pattern))
    if not found:
        pytest.skip(f"{pattern} is not installed here")
    return found[0]


def test_a_stripped_library_is_shipped_only_if_the_loader_accepts_it(tmp_path):
    plain = _site_file("kiwisolver/_cext*.so")  # carries a symbol table
    openblas = _site_file("numpy.libs/libscipy_openblas*.so")  # patchelf-edited: strip breaks it
    shipped = dict((dest, Path(src)) for dest, src, _ in bundle_trim.strip_binaries(
        [("kiwisolver/_cext.so", str(plain), "EXTENSION"), ("numpy.libs/openblas.so", str(openblas), "BINARY")],
        tmp_path))
    assert shipped["kiwisolver/_cext.so"].stat().st_size < plain.stat().st_size
    assert bundle_trim._load_segments_aligned(shipped["kiwisolver/_cext.so"])
    # strip's result for OpenBLAS would fail to load ("ELF load command address/offset not
    # page-aligned"): the original ships.
    stripped = tmp_path / "openblas-stripped.so"
    shutil.copy2(openblas, stripped)
    subprocess.run(["strip", "--strip-unneeded", str(stripped)], check=True, capture_output=True)
    assert not bundle_trim._load_segments_aligned(stripped)
    assert shipped["numpy.libs/openblas.so"].read_bytes() == openblas.read_bytes()


def test_misaligned_load_segment_is_detected(tmp_path):
    library = tmp_path / "lib.so"
    data = bytearray(_site_file("kiwisolver/_cext*.so").read_bytes())
    assert bundle_trim._load_segments_aligned(_site_file("kiwisolver/_cext*.so"))
    table, = struct.unpack_from("<Q", data, 0x20)
    entry_size, count = struct.unpack_from("<HH", data, 0x36)
    for i in range(count):
        at = table + i * entry_size
        if struct.unpack_from("<I", data, at)[0] == 1:  # the first PT_LOAD: move its file offset
            offset, = struct.unpack_from("<Q", data, at + 8)
            struct.pack_into("<Q", data, at + 8, offset + 8)
            break
    library.write_bytes(bytes(data))
    assert not bundle_trim._load_segments_aligned(library)


def test_trim_drops_the_unused_plugins_data_and_libraries_only_they_link(tmp_path):
    import PySide6

    plugins = Path(PySide6.__file__).parent / "Qt" / "plugins"
    gtk_theme, xcb = plugins / "platformthemes" / "libqgtk3.so", plugins / "platforms" / "libqxcb.so"
    gtk = Path("/usr/lib/x86_64-linux-gnu/libgtk-3.so.0")
    if not (gtk_theme.is_file() and xcb.is_file() and gtk.is_file()):
        pytest.skip("needs PySide6's GTK theme and xcb plugins and the system's GTK 3")
    binaries = [("PySide6/Qt/plugins/platformthemes/libqgtk3.so", str(gtk_theme), "BINARY"),
                ("PySide6/Qt/plugins/platforms/libqxcb.so", str(xcb), "BINARY"),
                ("libgtk-3.so.0", str(gtk), "BINARY")]
    mpl = "matplotlib/mpl-data/fonts/ttf/"
    datas = [("PySide6/Qt/translations/qtbase_de.qm", "x", "DATA"), (mpl + "DejaVuSerif.ttf", "x", "DATA"),
             (mpl + "DejaVuSans.ttf", "x", "DATA"), (mpl + "cmr10.ttf", "x", "DATA"),
             ("matplotlib/mpl-data/sample_data/goog.npz", "x", "DATA")]
    kept_binaries, kept_datas = bundle_trim.trim(binaries, datas, tmp_path)
    assert [dest for dest, _, _ in kept_binaries] == ["PySide6/Qt/plugins/platforms/libqxcb.so"]
    assert [dest for dest, _, _ in kept_datas] == [mpl + "DejaVuSans.ttf", mpl + "cmr10.ttf"]
