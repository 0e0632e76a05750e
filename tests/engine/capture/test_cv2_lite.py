"""cv2_lite must compute what OpenCV computes for the calls rapidocr makes on Ponder's OCR path.

The comparison runs real OpenCV (installed with rapidocr-onnxruntime in development) in a
subprocess: in this process `cv2` may already be cv2_lite (OcrEngine.prepare() puts it there).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine.capture import cv2_lite

ROOT = Path(__file__).resolve().parents[3]

# Runs once with real OpenCV and once with cv2_lite; prints the results as JSON.
_CASES = textwrap.dedent("""
    import json, sys
    import numpy as np
    if sys.argv[1] == "lite":
        sys.path.insert(0, sys.argv[2])
        from engine.capture import cv2_lite as cv2
    else:
        import cv2
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out = {}
    for size in [(100, 80), (20, 10), (53, 37), (64, 32), (7, 48)]:
        out[f"resize {size}"] = cv2.resize(img, size).astype(int).tolist()
    mask = (rng.random((60, 80)) > 0.7).astype(np.uint8)
    out["dilate"] = cv2.dilate(mask, np.array([[1, 1], [1, 1]])).tolist()
    for n in (5, 30, 200):  # not 3: every side of a triangle gives the same area
        pts = (rng.random((n, 1, 2)) * 100).astype(np.float32)
        rect = cv2.minAreaRect(pts)
        out[f"rect size {n}"] = sorted(rect[1])
        out[f"rect corners {n}"] = sorted(cv2.boxPoints(rect).round(3).tolist())
    src = np.array([[3, 4], [50, 8], [48, 30], [2, 28]], np.float32)
    dst = np.array([[0, 0], [47, 0], [47, 22], [0, 22]], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    out["perspective"] = m.round(9).tolist()
    out["warp"] = cv2.warpPerspective(img, m, (47, 22), borderMode=cv2.BORDER_REPLICATE,
                                      flags=cv2.INTER_CUBIC).astype(int).tolist()
    poly = np.zeros((40, 60), np.uint8)
    cv2.fillPoly(poly, np.array([[[5, 3], [50, 10], [45, 35], [2, 30]]], np.int32), 1)
    out["fillPoly"] = poly.tolist()
    score = rng.random((40, 60)).astype(np.float32)
    out["mean"] = round(cv2.mean(score, poly)[0], 9)
    out["border"] = cv2.copyMakeBorder(img, 3, 2, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0)).tolist()
    blobs = np.zeros((50, 70), np.uint8)
    blobs[5:15, 5:30] = 1; blobs[15, 30] = 1; blobs[20:30, 10:60] = 1; blobs[40:45, 40:45] = 1
    blobs[33:38, 3:9] = 1  # (no holes: OpenCV lists a hole's border too, cv2_lite does not)
    contours, _ = cv2.findContours(blobs * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out["regions"] = sorted(sorted(np.round(cv2.minAreaRect(c)[1], 3).tolist()) for c in contours
                            if cv2.minAreaRect(c)[1][0] * cv2.minAreaRect(c)[1][1] > 1)
    print(json.dumps(out))
""")


def _results(which: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CASES, which, str(ROOT)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _opencv_installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    for name in ("opencv-python", "opencv-python-headless"):
        try:
            distribution(name)
            return True
        except PackageNotFoundError:
            pass
    return False


@pytest.mark.skipif(not _opencv_installed(), reason="the comparison needs the real OpenCV")
def test_cv2_lite_matches_opencv_on_rapidocrs_calls():
    real, lite = _results("real"), _results("lite")
    assert real.keys() == lite.keys()
    for key in real:
        want, got = np.asarray(real[key], dtype=float), np.asarray(lite[key], dtype=float)
        assert want.shape == got.shape, key
        # OpenCV's resize rounds its fixed-point weights: one grey level at most.
        tolerance = 1 if key.startswith("resize") else 1e-3
        assert np.abs(want - got).max() <= tolerance, key


def test_regions_come_back_one_outline_each_with_their_extent():
    image = np.zeros((20, 30), np.uint8)
    image[2:5, 3:10] = 255  # a 7 x 3 bar
    image[5, 10] = 255  # touching it diagonally: same region
    image[10:18, 20:22] = 255  # a separate 2 x 8 bar
    contours, _ = cv2_lite.findContours(image, cv2_lite.RETR_LIST, cv2_lite.CHAIN_APPROX_SIMPLE)
    assert len(contours) == 2
    extents = sorted((int(c[:, 0, 0].min()), int(c[:, 0, 1].min()), int(c[:, 0, 0].max()), int(c[:, 0, 1].max()))
                     for c in contours)
    assert extents == [(3, 2, 10, 5), (20, 10, 21, 17)]
    assert cv2_lite.findContours(np.zeros((5, 5), np.uint8), 1, 2)[0] == ()


def test_min_area_rect_of_a_rotated_rectangle_is_that_rectangle():
    angle = np.radians(30)
    u, v = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    corners = np.array([c + a * u * 40 + b * v * 10 for c in [np.array([50.0, 60.0])]
                        for a, b in [(0, 0), (1, 0), (1, 1), (0, 1)]])
    inside = corners[0] + np.random.default_rng(1).random((50, 2)) @ np.stack([u * 40, v * 10])
    (cx, cy), size, _ = cv2_lite.minAreaRect(np.vstack([corners, inside]).astype(np.float32))
    assert sorted(size) == pytest.approx([10, 40])
    assert (cx, cy) == pytest.approx(tuple(corners.mean(axis=0)))
    got = np.array(sorted(cv2_lite.boxPoints(cv2_lite.minAreaRect(corners)).tolist()))
    assert np.abs(got - np.array(sorted(corners.tolist()))).max() < 1e-3


def test_anything_rapidocr_does_not_use_is_missing_by_name():
    with pytest.raises(AttributeError, match="imread"):
        cv2_lite.imread  # noqa: B018 - the attribute access is the test


def test_ocr_engine_runs_rapidocr_on_cv2_lite():
    import os

    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    from engine.capture.ocr import OcrEngine

    OcrEngine().prepare()
    assert sys.modules["cv2"] is cv2_lite
