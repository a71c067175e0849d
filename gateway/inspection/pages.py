"""What a page is before it is read: glyph sizes (the detection canvas scale), photo or rendered page, lines of text."""

from __future__ import annotations

import math

import cv2
import numpy as np

# Glyph height (median-ish connected component, i.e. about the x-height) wanted on the CRAFT canvas. CRAFT still
# finds 14 px screenshot text at scale 0.6 but crops glyphs; larger only costs time (detection is quadratic in the scale and
# dominates the run time), smaller starts losing words.
TARGET_CHAR_PX = 9.0
MIN_CHAR_PX = 4.5  # never shrink glyphs below this, tile instead
MIN_SCALE, MAX_SCALE = 0.2, 2.0
MAX_CANVAS_PIXELS = 3_000_000  # detection time budget per image (about 3x a 1024x768 screenshot)
TEXT_GLYPHS_MIN = 30  # glyphs with aligned neighbours that make an image text-like (looks_like_text)


def glyph_components(grey: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """Connected components of an Otsu threshold of `grey` in both polarities, on a copy bounded to ~2000 px: the
    sampling step and, per polarity, cv2's stats rows (background dropped). detection_scale and looks_like_text
    both read them; computing them once saves a threshold and two labellings per image."""
    h, w = grey.shape
    step = max(1, int(max(h, w) / 2000))
    small = grey[::step, ::step]
    _, bw = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return step, [cv2.connectedComponentsWithStats(mask, connectivity=8)[2][1:] for mask in (bw, 255 - bw)]


def glyph_heights(components: tuple[int, list[np.ndarray]]) -> list[int]:
    """Heights (full-size pixels) of the glyph-sized connected components of both polarities."""
    step, polarities = components
    heights: list[int] = []
    for s in polarities:
        if not len(s):
            continue
        ch, cw, area = s[:, cv2.CC_STAT_HEIGHT], s[:, cv2.CC_STAT_WIDTH], s[:, cv2.CC_STAT_AREA]
        glyph = (ch >= 4) & (ch <= 200) & (cw <= 2 * ch + 2) & (cw >= 1) & (area >= 6) & (area <= 0.9 * ch * cw + 1)
        heights.extend((ch[glyph] * step).tolist())
    return heights


def detection_scale(grey: np.ndarray, components: tuple[int, list[np.ndarray]] | None = None) -> float:
    """Resize factor that puts the typical character height near TARGET_CHAR_PX on the CRAFT canvas.

    Character height is the median height of glyph-sized connected components of an Otsu threshold (both
    polarities): cheap (a few ms) and good enough to avoid shrinking small text away or enlarging big text."""
    h, w = grey.shape
    heights = glyph_heights(components or glyph_components(grey))
    if len(heights) < 5:
        return 1.0
    char_h = max(float(np.percentile(heights, 60)), 1.0)
    scale = float(np.clip(TARGET_CHAR_PX / char_h, MIN_SCALE, MAX_SCALE))
    area = float(h * w)
    if area * scale * scale > MAX_CANVAS_PIXELS:
        scale = max(math.sqrt(MAX_CANVAS_PIXELS / area), min(scale, MIN_CHAR_PX / char_h))
    return scale


def looks_like_photo(rgb: np.ndarray) -> bool:
    """A camera picture rather than a rendered page: its 8 most common colours (4 bits per channel) cover under
    60% of it (photos measured 8-52%, pages and screenshots 74-100%, even as JPEGs)."""
    h, w = rgb.shape[:2]
    step = max(1, int(max(h, w) / 256))
    q = (rgb[::step, ::step, :3] >> 4).astype(np.int32)
    counts = np.bincount((q[..., 0] << 8 | q[..., 1] << 4 | q[..., 2]).ravel(), minlength=4096)
    return float(np.sort(counts)[-8:].sum()) < 0.6 * q.shape[0] * q.shape[1]


def looks_like_text(grey: np.ndarray, enough: int = TEXT_GLYPHS_MIN,
                    components: tuple[int, list[np.ndarray]] | None = None) -> bool:
    """True when the image shows at least `enough` glyph-sized blobs (Otsu threshold, both polarities) with two
    similar-sized neighbours on a common baseline or, for turned text, a common axis: lines of text."""
    from scipy.spatial import cKDTree

    found = 0
    for s in (components or glyph_components(grey))[1]:
        ch, cw, area = s[:, cv2.CC_STAT_HEIGHT], s[:, cv2.CC_STAT_WIDTH], s[:, cv2.CC_STAT_AREA]
        glyph = (np.maximum(ch, cw) >= 4) & (np.maximum(ch, cw) <= 200) & (area >= 6) & (area <= 0.9 * ch * cw + 1)
        s = s[glyph]
        if len(s) < 3:
            continue
        size = np.maximum(s[:, cv2.CC_STAT_HEIGHT], s[:, cv2.CC_STAT_WIDTH]).astype(float)
        x0, y0 = s[:, cv2.CC_STAT_LEFT].astype(float), s[:, cv2.CC_STAT_TOP].astype(float)
        x1, y1 = x0 + s[:, cv2.CC_STAT_WIDTH], y0 + s[:, cv2.CC_STAT_HEIGHT]
        tree = cKDTree(np.stack([(x0 + x1) / 2, (y0 + y1) / 2], axis=1))
        for i, near in enumerate(tree.query_ball_point(tree.data, r=2.0 * size)):
            near = np.array([j for j in near if j != i], dtype=int)
            if near.size < 2:
                continue
            similar = near[(size[near] >= 0.7 * size[i]) & (size[near] <= 1.43 * size[i])]
            tol = 0.25 * size[i]
            aligned = (np.abs(y1[similar] - y1[i]) <= tol) | (np.abs(x0[similar] - x0[i]) <= tol) | (
                np.abs(x1[similar] - x1[i]) <= tol)
            found += int(aligned.sum() >= 2)
            if found >= enough:
                return True
    return False
