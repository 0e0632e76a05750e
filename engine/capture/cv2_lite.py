"""The few OpenCV functions rapidocr-onnxruntime calls, in numpy: OCR without OpenCV.

opencv-python (a dependency of rapidocr-onnxruntime) is 290 MB with its own Qt 5, FFmpeg and
OpenSSL; the frozen bundle leaves it out, and OcrEngine.prepare() puts this module in its place
as `cv2` (in development too, so the tests measure what ships). It covers the calls rapidocr
makes on Ponder's path (RGB arrays in, detection + recognition, no angle classifier) with
OpenCV's semantics: bilinear resize with half-pixel centres, 2x2 dilation anchored at (1, 1),
the minimum-area rectangle, and a bicubic (a = -0.75) perspective warp. Anything else raises
AttributeError naming the missing function.

findContours differs on purpose: each 8-connected region comes back as its row-wise outline
(leftmost pixels top to bottom, then rightmost bottom to top), not a traced border, and holes
are not listed. rapidocr's "fast" box score only takes the minimum-area rectangle of a contour,
which is the same for both (the convex hull of a region is the hull of its row extremes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

INTER_NEAREST, INTER_LINEAR, INTER_CUBIC = 0, 1, 2
WARP_INVERSE_MAP = 16
BORDER_CONSTANT, BORDER_REPLICATE = 0, 1
RETR_LIST, CHAIN_APPROX_SIMPLE = 1, 2
COLOR_BGR2RGB = COLOR_RGB2BGR = 4
COLOR_GRAY2BGR = 8
_CUBIC_A = -0.75


def __getattr__(name: str) -> Any:
    raise AttributeError(f"cv2_lite has no {name!r}: Ponder's OCR replaces OpenCV only where rapidocr needs it")


def _saturate(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def _linear_axis(n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pos = np.clip((np.arange(n_dst) + 0.5) * (n_src / n_dst) - 0.5, 0, n_src - 1)
    low = np.floor(pos).astype(np.intp)
    return low, np.minimum(low + 1, n_src - 1), (pos - low).astype(np.float32)


def resize(src: np.ndarray, dsize: tuple[int, int], dst: Any = None, fx: Any = None, fy: Any = None,
           interpolation: int = INTER_LINEAR) -> np.ndarray:
    """Bilinear resize to dsize = (width, height), as cv2.resize with INTER_LINEAR."""
    width, height = int(dsize[0]), int(dsize[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"resize: bad size {dsize}")
    src = np.asarray(src)
    y0, y1, wy = _linear_axis(src.shape[0], height)
    x0, x1, wx = _linear_axis(src.shape[1], width)
    extra = (1,) * (src.ndim - 2)
    wy, wx = wy.reshape(-1, 1, *extra), wx.reshape(1, -1, *extra)
    rows = src[y0].astype(np.float32) * (1 - wy) + src[y1].astype(np.float32) * wy
    out = rows[:, x0] * (1 - wx) + rows[:, x1] * wx
    return _saturate(out, src.dtype)


def copyMakeBorder(src: np.ndarray, top: int, bottom: int, left: int, right: int,  # noqa: N802 - OpenCV's name
                   borderType: int, dst: Any = None, value: Any = None) -> np.ndarray:  # noqa: N803
    """Pad an image with a constant colour or by repeating its edge pixels."""
    src = np.asarray(src)
    pad = [(top, bottom), (left, right)] + [(0, 0)] * (src.ndim - 2)
    if borderType == BORDER_REPLICATE:
        return np.pad(src, pad, mode="edge")
    if borderType != BORDER_CONSTANT:
        raise NotImplementedError(f"copyMakeBorder: border type {borderType}")
    out = np.empty((src.shape[0] + top + bottom, src.shape[1] + left + right, *src.shape[2:]), src.dtype)
    fill = np.zeros(1) if value is None else np.asarray(value, dtype=np.float64).ravel()
    channels = src.shape[2] if src.ndim == 3 else 1
    out[...] = fill[:channels] if fill.size >= channels > 1 else fill[0]
    out[top: top + src.shape[0], left: left + src.shape[1]] = src
    return out


def cvtColor(src: np.ndarray, code: int) -> np.ndarray:  # noqa: N802 - OpenCV's name
    """Grey to BGR, or swap RGB and BGR."""
    src = np.asarray(src)
    if code == COLOR_GRAY2BGR:
        grey = src.reshape(src.shape[:2])
        return np.repeat(grey[:, :, None], 3, axis=2)
    if code == COLOR_RGB2BGR:
        return np.ascontiguousarray(src[..., 2::-1])
    raise NotImplementedError(f"cvtColor: conversion code {code}")


def dilate(src: np.ndarray, kernel: np.ndarray, anchor: Any = None, iterations: int = 1) -> np.ndarray:
    """Grey dilation (maximum over the kernel's non-zero cells), anchored at the kernel's centre."""
    src = np.asarray(src)
    kernel = np.asarray(kernel)
    ay, ax = (kernel.shape[0] // 2, kernel.shape[1] // 2) if anchor is None or anchor == (-1, -1) \
        else (anchor[1], anchor[0])
    out = src
    for _ in range(iterations):
        result = np.zeros_like(out) if np.issubdtype(out.dtype, np.unsignedinteger) else np.full_like(out, out.min())
        height, width = out.shape[:2]
        for ky, kx in zip(*np.nonzero(kernel)):
            dy, dx = ky - ay, kx - ax  # dst(y, x) takes src(y + dy, x + dx)
            ys, yd = slice(max(dy, 0), height + min(dy, 0)), slice(max(-dy, 0), height + min(-dy, 0))
            xs, xd = slice(max(dx, 0), width + min(dx, 0)), slice(max(-dx, 0), width + min(-dx, 0))
            np.maximum(result[yd, xd], out[ys, xs], out=result[yd, xd])
        out = result
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of foreground pixels: row, first column, column after the last."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return rows, starts, ends


def _label_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, height: int) -> np.ndarray:
    """Union-find over runs: runs on adjacent rows that touch, diagonals included, join."""
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.searchsorted(rows, np.arange(height + 1)).tolist()
    start_list, end_list = starts.tolist(), ends.tolist()
    for row in range(1, height):
        i, i_end, j, j_end = first[row - 1], first[row], first[row], first[row + 1]
        while i < i_end and j < j_end:
            if start_list[i] <= end_list[j] and start_list[j] <= end_list[i]:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            if end_list[i] < end_list[j]:
                i += 1
            else:
                j += 1
    return np.array([find(i) for i in range(len(rows))], dtype=np.intp)


def findContours(image: np.ndarray, mode: int, method: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:  # noqa: N802
    """One outline per 8-connected region of non-zero pixels (see the module docstring)."""
    mask = np.asarray(image) != 0
    rows, starts, ends = _runs(mask)
    if rows.size == 0:
        return (), np.empty((1, 0, 4), np.int32)
    _, region = np.unique(_label_runs(rows, starts, ends, mask.shape[0]), return_inverse=True)
    key = region * mask.shape[0] + rows  # one entry per (region, row)
    order = np.argsort(key, kind="stable")
    firsts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
    left = np.minimum.reduceat(starts[order], firsts)
    right = np.maximum.reduceat(ends[order], firsts) - 1
    row_of, region_of = rows[order][firsts], region[order][firsts]
    contours = []
    for part in np.split(np.arange(len(firsts)), np.flatnonzero(np.diff(region_of)) + 1):
        xs = np.concatenate([left[part], right[part][::-1]])
        ys = np.concatenate([row_of[part], row_of[part][::-1]])
        contours.append(np.stack([xs, ys], axis=1).astype(np.int32).reshape(-1, 1, 2))
    return tuple(contours), np.full((1, len(contours), 4), -1, np.int32)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain, counter-clockwise (in image axes), collinear points dropped."""
    pts = [tuple(p) for p in np.unique(points, axis=0).tolist()]  # sorted by x, then y
    if len(pts) < 3:
        return np.array(pts, dtype=np.float64).reshape(-1, 2)

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for x, y in seq:
            while len(chain) >= 2:
                (ax, ay), (bx, by) = chain[-2], chain[-1]
                if (bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0:
                    break
                chain.pop()
            chain.append((x, y))
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


def minAreaRect(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:  # noqa: N802
    """The smallest rotated rectangle around the points: ((cx, cy), (w, h), angle in degrees)."""
    hull = _convex_hull(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    if len(hull) == 1:
        return (float(hull[0, 0]), float(hull[0, 1])), (0.0, 0.0), 0.0
    edges = np.roll(hull, -1, axis=0) - hull
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    along = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    across = np.stack([-along[:, 1], along[:, 0]], axis=1)
    pu, pv = hull @ along.T, hull @ across.T  # points × candidate directions
    widths, heights = np.ptp(pu, axis=0), np.ptp(pv, axis=0)
    best = int(np.argmin(widths * heights))
    mid_u = (pu[:, best].min() + pu[:, best].max()) / 2
    mid_v = (pv[:, best].min() + pv[:, best].max()) / 2
    centre = along[best] * mid_u + across[best] * mid_v
    return ((float(centre[0]), float(centre[1])), (float(widths[best]), float(heights[best])),
            float(np.degrees(angles[best])))


def boxPoints(box: tuple[tuple[float, float], tuple[float, float], float]) -> np.ndarray:  # noqa: N802
    """The four corners of a minAreaRect() rectangle, as float32 (4, 2)."""
    (cx, cy), (width, height), angle = box
    theta = np.radians(angle)
    u = np.array([np.cos(theta), np.sin(theta)]) * width / 2
    v = np.array([-np.sin(theta), np.cos(theta)]) * height / 2
    centre = np.array([cx, cy])
    return np.array([centre - u - v, centre + u - v, centre + u + v, centre - u + v], dtype=np.float32)


def fillPoly(img: np.ndarray, pts: Any, color: Any) -> np.ndarray:  # noqa: N802
    """Fill polygons in place: pixels whose centre is inside or within half a pixel of an edge."""
    value = color[0] if isinstance(color, (tuple, list)) else color
    height, width = img.shape[:2]
    for polygon in pts:
        poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        x0, y0 = max(int(np.floor(poly[:, 0].min())), 0), max(int(np.floor(poly[:, 1].min())), 0)
        x1, y1 = min(int(np.ceil(poly[:, 0].max())), width - 1), min(int(np.ceil(poly[:, 1].max())), height - 1)
        if x1 < x0 or y1 < y0:
            continue
        ys, xs = np.mgrid[y0: y1 + 1, x0: x1 + 1].astype(np.float64)
        inside = np.zeros(xs.shape, bool)
        near = np.zeros(xs.shape, bool)
        for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, axis=0)):
            crosses = (ay > ys) != (by > ys)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_cross = ax + (ys - ay) * (bx - ax) / (by - ay)
            inside ^= crosses & (xs < x_cross)
            length = max((bx - ax) ** 2 + (by - ay) ** 2, 1e-12)
            t = np.clip(((xs - ax) * (bx - ax) + (ys - ay) * (by - ay)) / length, 0, 1)
            near |= (xs - ax - t * (bx - ax)) ** 2 + (ys - ay - t * (by - ay)) ** 2 <= 0.25
        img[y0: y1 + 1, x0: x1 + 1][inside | near] = value
    return img


def mean(src: np.ndarray, mask: Any = None) -> tuple[float, float, float, float]:
    """Mean of each channel (of the pixels where mask is non-zero), padded to four values."""
    src = np.asarray(src, dtype=np.float64)
    pixels = src.reshape(src.shape[0] * src.shape[1], -1)
    if mask is not None:
        pixels = pixels[np.asarray(mask).ravel() != 0]
    values = pixels.mean(axis=0) if len(pixels) else np.zeros(pixels.shape[1])
    return tuple((list(map(float, values)) + [0.0] * 4)[:4])  # type: ignore[return-value]


def getPerspectiveTransform(src: np.ndarray, dst: np.ndarray, solveMethod: int = 0) -> np.ndarray:  # noqa: N802, N803
    """The 3x3 homography that maps four src points onto four dst points."""
    s = np.asarray(src, dtype=np.float64).reshape(4, 2)
    d = np.asarray(dst, dtype=np.float64).reshape(4, 2)
    a = np.zeros((8, 8))
    for i, ((x, y), (u, v)) in enumerate(zip(s, d)):
        a[i] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
        a[i + 4] = [0, 0, 0, x, y, 1, -v * x, -v * y]
    h = np.linalg.solve(a, np.concatenate([d[:, 0], d[:, 1]]))
    return np.append(h, 1.0).reshape(3, 3)


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    a = _CUBIC_A
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    return [w0, w1, w2, 1 - w0 - w1 - w2]


def warpPerspective(src: np.ndarray, M: np.ndarray, dsize: tuple[int, int],  # noqa: N802, N803
                    flags: int = INTER_LINEAR, borderMode: int = BORDER_CONSTANT,  # noqa: N803
                    borderValue: Any = 0) -> np.ndarray:  # noqa: N803
    """Warp src by the homography M into a dsize = (width, height) image (bicubic or bilinear)."""
    src = np.asarray(src)
    width, height = int(dsize[0]), int(dsize[1])
    inverse = np.asarray(M, np.float64) if flags & WARP_INVERSE_MAP else np.linalg.inv(np.asarray(M, np.float64))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    den = inverse[2, 0] * xs + inverse[2, 1] * ys + inverse[2, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        sx = (inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]) / den
        sy = (inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]) / den
    sx, sy = np.nan_to_num(sx, nan=-1e6), np.nan_to_num(sy, nan=-1e6)
    ix, iy = np.floor(sx).astype(np.intp), np.floor(sy).astype(np.intp)
    tx, ty = sx - ix, sy - iy
    interpolation = flags & 7
    if interpolation == INTER_CUBIC:
        offsets, wx, wy = range(-1, 3), _cubic_weights(tx), _cubic_weights(ty)
    elif interpolation == INTER_LINEAR:
        offsets, wx, wy = range(0, 2), [1 - tx, tx], [1 - ty, ty]
    else:
        raise NotImplementedError(f"warpPerspective: interpolation {interpolation}")
    h_src, w_src = src.shape[:2]
    extra = (1,) * (src.ndim - 2)
    fill = float(borderValue[0] if isinstance(borderValue, (tuple, list)) else borderValue)
    out = np.zeros((height, width, *src.shape[2:]), np.float64)
    for oy, wyk in zip(offsets, wy):
        for ox, wxk in zip(offsets, wx):
            px, py = ix + ox, iy + oy
            sample = src[np.clip(py, 0, h_src - 1), np.clip(px, 0, w_src - 1)].astype(np.float64)
            if borderMode == BORDER_CONSTANT:
                outside = ((px < 0) | (px >= w_src) | (py < 0) | (py >= h_src)).reshape(height, width, *extra)
                sample = np.where(outside, fill, sample)
            elif borderMode != BORDER_REPLICATE:
                raise NotImplementedError(f"warpPerspective: border mode {borderMode}")
            out += sample * (wxk * wyk).reshape(height, width, *extra)
    return _saturate(out, src.dtype)
