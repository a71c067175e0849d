"""Where an image has content: rectangles around everything with edges, split at blank gaps (a recursive XY-cut).

Both pixel-hungry networks look only there: CRAFT at the text scale (`ocr.text_regions`) and the face detector's
P-Net on each pyramid level (`faces`). Blank margins and the space between blocks cost them nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gateway.models import Box


@dataclass(frozen=True)
class RegionSpec:
    """How to cut: what counts as an edge, how much context each region keeps, how far to split."""

    contrast: int  # a pixel differing from a neighbour by less (in every channel) is background
    pad: int  # px of context around the content; a blank run of 2 * pad splits regions (padded ones never overlap)
    multiple: int = 1  # regions grow, with real pixels, to a multiple of this
    max_regions: int = 64  # past this, remaining parts are not split further (bounded network calls)
    rule_px: int = 0  # straight edges this long and under rule_thick thick are rules and borders, not content
    rule_thick: int = 7

    @property
    def gap(self) -> int:
        return 2 * self.pad


def busy_regions(img: np.ndarray, spec: RegionSpec) -> list[Box]:
    """Rectangles (x0, y0, x1, y1) around everything with edges in `img` (grey or colour), split wherever a blank
    run of at least spec.gap px separates them (rows, then columns within each band, and so on), each padded by
    spec.pad px and grown to spec.multiple; top to bottom, left to right. None on a blank image."""
    ink = edge_mask(img, spec)
    h, w = ink.shape
    out: list[Box] = []
    todo = [(0, 0, w, h, True)]
    while todo:
        x0, y0, x1, y1, by_rows = todo.pop()
        part = ink[y0:y1, x0:x1]
        rows = _runs(cv2.reduce(part, 1, cv2.REDUCE_MAX).ravel(), spec.gap)
        cols = _runs(cv2.reduce(part, 0, cv2.REDUCE_MAX).ravel(), spec.gap)
        if not rows:
            continue
        if len(rows) > 1 and (by_rows or len(cols) == 1):
            parts = [(x0, y0 + a, x1, y0 + b, False) for a, b in rows]
        elif len(cols) > 1:
            parts = [(x0 + a, y0, x0 + b, y1, True) for a, b in cols]
        else:
            parts = []
        if parts and len(out) + len(todo) + len(parts) <= spec.max_regions:
            todo += parts
            continue
        top, bottom = _grow(y0 + rows[0][0] - spec.pad, y0 + rows[-1][1] + spec.pad, h, spec.multiple)
        left, right = _grow(x0 + cols[0][0] - spec.pad, x0 + cols[-1][1] + spec.pad, w, spec.multiple)
        out.append((left, top, right, bottom))
    return sorted(out, key=lambda b: (b[1], b[0]))


def edge_mask(img: np.ndarray, spec: RegionSpec) -> np.ndarray:
    """1 where a pixel differs by spec.contrast or more from a neighbour in any channel, except along thin straight
    runs of spec.rule_px or more (rules and borders; a photo's dense texture is no rule)."""
    grad = cv2.morphologyEx(img, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    if grad.ndim == 3:
        grad = cv2.max(cv2.max(grad[:, :, 0], grad[:, :, 1]), grad[:, :, 2])
    ink = (grad >= spec.contrast).astype(np.uint8)
    if spec.rule_px:
        for long, thick in (((spec.rule_px, 1), (1, spec.rule_thick)), ((1, spec.rule_px), (spec.rule_thick, 1))):
            runs = _opened(ink, long)
            ink = cv2.subtract(ink, cv2.subtract(runs, _opened(runs, thick)))  # thick runs are texture: kept
    return ink


def _opened(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))


def _grow(start: int, end: int, n: int, multiple: int) -> tuple[int, int]:
    """start..end clipped to 0..n and grown, inside 0..n, to a multiple of `multiple` px (real neighbouring pixels
    are better context than the padding a network would add)."""
    start, end = max(0, start), min(n, end)
    extra = -(end - start) % multiple
    more = min(extra, n - end)
    return max(0, start - (extra - more)), end + more


def _runs(profile: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(start, end) of the stretches of a 0/1 profile that hold ink, joined across gaps of at most `gap`."""
    on = np.flatnonzero(profile)
    if on.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(on) > gap)
    starts = np.r_[on[0], on[breaks + 1]]
    ends = np.r_[on[breaks], on[-1]] + 1
    return list(zip(starts.tolist(), ends.tolist()))
