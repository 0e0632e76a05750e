"""Offline OCR of a screen grab with rapidocr-onnxruntime (its PP-OCRv4 models ship in the wheel).

Settings chosen for English UI text, measured on DejaVu Sans text rendered at 10–24 px
(tests/engine/capture/test_ocr.py keeps the numbers honest):

* `det_unclip_ratio=2.0` (default 1.6): with the default the text fills its crop so tightly that
  the recogniser drops the spaces between words at 16–20 px (88–92 % character accuracy); at 2.0
  every size reached ≥ 99 %.
* `det_limit_type="max"` with a large side limit: the default ("min", 736) *upscales* a short
  strip of UI text several times over, which was 3–10× slower and also lost spaces. Screens are
  not downscaled either (that would shrink 13 px text below what the model reads).
* `use_cls=False`: UI text is never upside down; the angle classifier only costs time.

rapidocr imports onnxruntime, so ORT_DISABLE_TELEMETRY must be set first (prepare_environment()
at every entry point); the import happens here lazily, on first use.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from engine.capture.errors import CaptureError

log = logging.getLogger(__name__)

SETTINGS: dict[str, Any] = {
    "use_cls": False,
    "det_limit_type": "max",
    "det_limit_side_len": 4096,
    "det_unclip_ratio": 2.0,
    "max_side_len": 4096,
    "text_score": 0.5,
}


@dataclass(frozen=True)
class OcrLine:
    """One recognised line of text and where it was (left, top, right, bottom in image pixels)."""

    text: str
    score: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class OcrResult:
    """The text in reading order and the lines it came from."""

    text: str
    lines: tuple[OcrLine, ...]
    seconds: float


class OcrEngine:
    """Loads the OCR models on first use and reads text from RGB images (H×W×3 uint8 arrays).

    Thread-safe: one recognition at a time (onnxruntime sessions may be shared, but the
    RapidOCR object keeps per-call state).
    """

    def __init__(self, *, threads: int | None = None) -> None:
        self._threads = threads
        self._engine: Any = None
        self._module: Any = None  # rapidocr_onnxruntime, once prepare() imported it
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Import rapidocr on the calling thread, now, with cv2_lite standing in for OpenCV.

        opencv-python is 290 MB (its own Qt 5, FFmpeg, OpenSSL) for the dozen array operations
        rapidocr needs, and it writes os.environ when imported (Qt plugin and font paths), which
        would leak into Ponder's Qt. engine.capture.cv2_lite does those operations in numpy; the
        bundle leaves OpenCV out, and development uses the same module so tests measure what
        ships. A process with a GUI calls this on its main thread before a worker thread first
        runs recognise(); in a process without one the first recognise() imports it.
        """
        if self._module is not None:
            return
        if os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
            raise CaptureError("Internal error: OCR was started before the privacy settings were applied.")
        from engine.capture import cv2_lite

        # rapidocr does `import cv2`; Ponder imports no other OpenCV user.
        sys.modules.setdefault("cv2", cv2_lite)
        try:
            import rapidocr_onnxruntime
        except ImportError as exc:
            raise CaptureError("Screen-region text recognition is not installed (rapidocr-onnxruntime).") from exc
        self._module = rapidocr_onnxruntime

    def _load(self) -> Any:
        if self._module is None:
            if threading.current_thread() is not threading.main_thread():
                log.warning("OCR imported on a worker thread; call OcrEngine.prepare() on the main thread first")
            self.prepare()
        threads = self._threads or max(1, min(4, (os.cpu_count() or 2)))
        return self._module.RapidOCR(intra_op_num_threads=threads, **SETTINGS)

    def recognise(self, image: Any) -> OcrResult:
        """Read the text of image; CaptureError if the OCR failed."""
        import numpy as np

        array = np.ascontiguousarray(image)
        if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
            raise CaptureError("The screen grab is not an RGB image.")
        if array.shape[0] < 4 or array.shape[1] < 4:
            return OcrResult("", (), 0.0)
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            started = time.perf_counter()
            try:
                # RapidOCR expects OpenCV's BGR order.
                raw, _ = self._engine(array[:, :, ::-1].copy())
            except Exception as exc:  # noqa: BLE001 - a third-party failure becomes a typed one
                log.exception("OCR failed")
                raise CaptureError(f"Text recognition failed: {type(exc).__name__}: {exc}") from exc
            seconds = time.perf_counter() - started
        lines = tuple(_line(item) for item in raw or ())
        return OcrResult(join_lines(lines), lines, seconds)


def _line(item: Any) -> OcrLine:
    points, text, score = item
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return OcrLine(str(text), float(score), (min(xs), min(ys), max(xs), max(ys)))


def join_lines(lines: tuple[OcrLine, ...]) -> str:
    """Lines in reading order: boxes that overlap vertically form one row, joined by spaces."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda item: (item.box[1], item.box[0])):
        top, bottom = line.box[1], line.box[3]
        for row in rows:
            r_top = min(item.box[1] for item in row)
            r_bottom = max(item.box[3] for item in row)
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                row.append(line)
                break
        else:
            rows.append([line])
    return "\n".join(" ".join(item.text for item in sorted(row, key=lambda item: item.box[0])) for row in rows)
