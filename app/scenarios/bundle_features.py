"""`ponder --run-scenario bundle-features`: the features whose code the bundle trims around
(installer/bundle_trim.py, the spec's excludes) still run in the frozen app.

Each check uses the code path the feature uses: a formula drawn by app.markdown.math, a DOCX
and a PDF read by the sandboxed reader, the app icon drawn through QtSvg, and the modules the
model download and the local API import. OCR, the model, SQLCipher and the keyring have their
own frozen checks (--self-test, the keyring-backends scenario, tests/installer).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHRASE = "Ponder reads this sentence"


def _pdf_bytes(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text (no PDF writer ships in the bundle)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def check_math(folder: Path) -> str:
    from app.markdown.math import draw

    # A font the bundle lacks only shows as matplotlib's "findfont: ... not found" warning.
    warnings = _Warnings()
    logging.getLogger("matplotlib").addHandler(warnings)
    try:
        image = draw(r"\frac{a^2 + b^2}{\sqrt{c}} \leq \sum_{i=1}^{n} x_i", display=True, color="#202020",
                     point_size=12, scale=1.0)
    finally:
        logging.getLogger("matplotlib").removeHandler(warnings)
    if image is None or not image.png.startswith(b"\x89PNG"):
        raise RuntimeError("the formula was not drawn")
    if warnings.messages:
        raise RuntimeError("; ".join(warnings.messages[:3]))
    return f"formula drawn, {image.width}x{image.height} px"


def check_documents(folder: Path) -> str:
    import docx

    from engine.documents.reader import read_document

    word = docx.Document()
    word.add_paragraph(PHRASE + " in a DOCX.")
    word.save(str(folder / "sample.docx"))
    (folder / "sample.pdf").write_bytes(_pdf_bytes(PHRASE + " in a PDF."))
    found = []
    for name in ("sample.docx", "sample.pdf"):
        text = " ".join(section.text for section in read_document(folder / name).sections)
        if PHRASE not in text:
            raise RuntimeError(f"{name}: read {text[:80]!r}")
        found.append(name)
    return "read " + " and ".join(found) + " (sandboxed reader)"


def check_icon(folder: Path) -> str:
    from PySide6.QtGui import QIcon

    from engine.paths import resources_dir

    pixmap = QIcon(str(resources_dir() / "icons" / "app" / "ponder.svg")).pixmap(64, 64)
    if pixmap.isNull():
        raise RuntimeError("the SVG icon did not render (QtSvg or its icon engine is missing)")
    return "SVG app icon drawn at 64 px"


def check_imports(folder: Path) -> str:
    import engine.api.server  # noqa: F401 - aiohttp and pydantic, as `ponder serve`
    import engine.download.worker  # noqa: F401 - the download worker's own imports
    from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_url  # noqa: F401 - what it calls
    from huggingface_hub.file_download import http_get  # noqa: F401

    return "local API server and model download modules import"


CHECKS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("math", check_math),
    ("documents", check_documents),
    ("icon", check_icon),
    ("imports", check_imports),
)


def run(args: Any, paths: Any) -> int:
    """Entry point: each check prints PASS or FAIL; 1 if any failed."""
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    _app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ponder-bundle-") as folder:
        for name, check in CHECKS:
            try:
                print(f"  PASS  {name:<10} {check(Path(folder))}", flush=True)
            except Exception as exc:  # noqa: BLE001 - report every check, then fail
                print(f"  FAIL  {name:<10} {type(exc).__name__}: {exc}", flush=True)
                failed += 1
    return 1 if failed else 0
