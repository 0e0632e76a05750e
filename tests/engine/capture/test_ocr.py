"""OCR of clear English UI text, rendered the way Qt draws it, must be ≥ 95 % accurate.

Accuracy is 1 − Levenshtein(recognised, truth) / len(truth), spaces and line breaks included.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.capture.ocr import OcrEngine, OcrLine, join_lines

LINES = [
    "Save the file before closing the window.",
    "What is 2 plus 3?",
    "Settings > Network (Wi-Fi) is turned off.",
    "Your password must contain at least 8 characters.",
    "Click Apply to keep these changes, or Cancel.",
    "Downloaded 42 of 128 files in 3 minutes.",
]


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def accuracy(got: str, want: str) -> float:
    return 1 - levenshtein(got, want) / len(want)


def render_with_qt(lines: list[str], pixel_size: int) -> np.ndarray:
    """The lines drawn by Qt on a light window background, as an RGB array."""
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    font = QFont("DejaVu Sans")
    font.setPixelSize(pixel_size)
    line_height = int(pixel_size * 1.9)
    image = QImage(int(pixel_size * 0.65 * max(map(len, lines))) + 40, line_height * len(lines) + 24,
                   QImage.Format.Format_RGB888)
    image.fill(QColor(246, 245, 244))
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(QColor(30, 30, 30))
    for i, line in enumerate(lines):
        painter.drawText(16, 12 + i * line_height + pixel_size, line)
    painter.end()
    array = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


@pytest.fixture(scope="module")
def ocr():
    return OcrEngine()


@pytest.mark.slow
@pytest.mark.parametrize("pixel_size", [13, 18])
def test_qt_rendered_ui_text_is_read_accurately(qapp, ocr, pixel_size):
    want = "\n".join(LINES)
    result = ocr.recognise(render_with_qt(LINES, pixel_size))
    assert accuracy(result.text, want) >= 0.95, result.text
    assert len(result.lines) >= len(LINES)


def test_a_blank_grab_reads_as_nothing(ocr):
    assert ocr.recognise(np.full((60, 200, 3), 255, dtype=np.uint8)).text == ""
    assert ocr.recognise(np.zeros((2, 2, 3), dtype=np.uint8)).text == ""


def test_boxes_on_one_row_join_with_a_space():
    lines = (OcrLine("Network", 0.9, (120, 10, 200, 24)), OcrLine("Settings >", 0.9, (10, 11, 110, 25)),
             OcrLine("Next line", 0.9, (10, 40, 90, 54)))
    assert join_lines(lines) == "Settings > Network\nNext line"
