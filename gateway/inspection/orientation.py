"""Turned and tilted pages: which way text runs (90/180/270), the tilt of a crooked page, and mapping back."""

from __future__ import annotations

import math

import cv2
import numpy as np

from gateway.inspection.layout import OcrWord

SKEW_MIN_DEG, SKEW_MAX_DEG = 1.5, 25.0  # tilted pages read level; below 1.5 degrees line crops are fine as they are


def rotate_points(p: np.ndarray, k: int, shape: tuple[int, ...]) -> np.ndarray:
    """Map points of img to np.rot90(img, k), keeping EasyOCR's corner order (top-left first, clockwise)."""
    h, w = shape[:2]
    x, y = p[:, 0], p[:, 1]
    if k == 1:
        q = np.stack([y, w - x], axis=1)
    elif k == 2:
        q = np.stack([w - x, h - y], axis=1)
    else:
        q = np.stack([h - y, x], axis=1)
    return np.roll(q, -k, axis=0)  # the corner that is top-left after the turn comes first


def skew_angle(polys: list[np.ndarray]) -> float:
    """The page's tilt in degrees (OpenCV's sense: positive turns it level counter-clockwise) when most wide
    CRAFT boxes agree on one between SKEW_MIN_DEG and SKEW_MAX_DEG; else 0.0 (level, or no consensus)."""
    angles = []
    for p in polys:
        q = p.reshape(4, 2).astype(float)
        dx, dy = q[1, 0] - q[0, 0], q[1, 1] - q[0, 1]  # top edge, left to right (EasyOCR's corner order)
        if math.hypot(dx, dy) > 2.5 * math.hypot(q[3, 0] - q[0, 0], q[3, 1] - q[0, 1]):
            angles.append(math.degrees(math.atan2(dy, dx)))
    # CRAFT returns short words on a tilted page as level rectangles; the long ones show the tilt.
    slanted = [a for a in angles if abs(a) >= 0.5]
    if len(slanted) < max(3, 0.2 * len(angles)):
        return 0.0
    median = float(np.median(slanted))
    agree = sum(abs(a - median) <= 2.0 for a in slanted)
    if not SKEW_MIN_DEG <= abs(median) <= SKEW_MAX_DEG or agree < 0.6 * len(slanted):
        return 0.0
    return median


def projection_tilt(grey: np.ndarray, guess: float, span: float = 3.0) -> float:
    """The rotation (degrees, OpenCV's sense) between -span..+span around 0 and around `guess` that makes the ink's
    row profile sharpest (classic projection-profile deskew, on a copy of at most 800 px): 0.0 for a level page."""
    h, w = grey.shape
    f = min(1.0, 800 / max(h, w))
    small = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(ink) > ink.size / 2:  # ink is the minority colour
        ink = 255 - ink
    sh, sw = ink.shape

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0)
        rows = cv2.warpAffine(ink, m, (sw, sh), flags=cv2.INTER_NEAREST).sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    candidates = sorted({round(a * 0.5, 1) for a in range(int(-2 * span), int(2 * span) + 1)}
                        | {round(guess + a * 0.5, 1) for a in range(int(-2 * span), int(2 * span) + 1)})
    return max(candidates, key=sharpness)


def mostly_tall(polys: list[np.ndarray]) -> bool:
    """True when most elongated CRAFT boxes are tall: the text runs vertically."""
    tall = wide = 0
    for p in polys:
        bw, bh = np.ptp(p[:, 0]), np.ptp(p[:, 1])
        tall += bh > 1.5 * bw
        wide += bw > 1.5 * bh
    return tall > wide


def unrotate_word(w: OcrWord, k: int, shape: tuple[int, ...]) -> OcrWord:
    """Map a word found in np.rot90(img, k) back to img's coordinates."""
    h, wd = shape[:2]
    x0, y0, x1, y1 = w.box

    def back(x: int, y: int) -> tuple[int, int]:
        if k == 1:
            return wd - y, x
        if k == 2:
            return wd - x, h - y
        return y, h - x

    (ax, ay), (bx, by) = back(x0, y0), back(x1, y1)
    return OcrWord(w.text, (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)), w.confidence, w.line)
