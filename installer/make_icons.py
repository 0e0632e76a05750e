"""Render resources/icons/app/ponder.svg into the PNG sizes and the Windows .ico.

Run after editing the SVG: `python installer/make_icons.py`. Uses Qt's SVG renderer (the one
the app itself uses) so gradients come out as designed; the outputs are committed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons" / "app"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - QPainter needs an application
    renderer = QSvgRenderer(str(ICONS / "ponder.svg"))
    if not renderer.isValid():
        print("ponder.svg is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"ponder-{size}.png"))
    from PIL import Image

    with Image.open(ICONS / "ponder-256.png") as largest:
        largest.save(ICONS / "ponder.ico", sizes=[(n, n) for n in ICO_SIZES])
    print(f"wrote {len(SIZES)} PNGs and ponder.ico to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
