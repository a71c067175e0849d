"""Form boxes taken off a page before it is read: the boxes of form fields and the comb of one-character-per-box
fields (an SSN or IBAN written into boxes on a tax or bank form).

CRAFT does not see characters that sit inside drawn boxes (a comb of nine boxes holding an SSN: no word found at
any size), and a line crop that holds a border reads it as `|`, `1` or `l`. Painting those strokes with the local
background, the characters stand alone and are read. Only strokes that cannot be glyphs are touched: rectangles that
enclose nothing of their own stroke (or only walls from top to bottom: a row of boxes), and the ticks of a comb
(thin verticals from one rule down to the next) with the rails they join.
"""

from __future__ import annotations

import cv2
import numpy as np

from gateway.models import Box

RULE_CHARS = 3.0  # a comb's rail is at least this many character heights long (two or three boxes)
RULE_MIN_PX = 20
THICK_PX = 5  # rules are at most this thick
CELL_RATIO = 1.5  # a box (or the space between two comb ticks) at most this many times as wide as high holds one character
COMB_CELLS = 3
GLYPH_BOX_CHARS = 2.0  # a ring narrower than this many character heights may be a letter's outline
CELL_INK = 48  # a cell whose pixels span less contrast than this is empty
INK_CONTRAST = 40  # a stroke pixel differs this much from the local background
STROKE_PX = 9  # strokes thinner than this are seen (black-hat / top-hat window)


def clear_rules(rgb: np.ndarray, char_h: float) -> tuple[np.ndarray, list[Box]]:
    """`rgb` with its rules painted in the local background colour (the same array when it has none), and the
    character cells of its comb and box fields: where a character of one can be, whether CRAFT sees it or not
    (it misses a lone `0` between wide gaps). `char_h`: the typical glyph height."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (STROKE_PX, STROKE_PX))
    # Dark strokes on a light page (black-hat; the background closes over them), light ones on a dark page
    # (top-hat; opened away): the rules of a page are drawn like its text.
    light = float(np.median(grey[::4, ::4])) >= 128
    find, cover = (cv2.MORPH_BLACKHAT, cv2.MORPH_CLOSE) if light else (cv2.MORPH_TOPHAT, cv2.MORPH_OPEN)
    ink = (cv2.morphologyEx(grey, find, kernel) >= INK_CONTRAST).astype(np.uint8)
    mask, cells = rule_mask(ink, char_h)
    if not mask.any():
        return rgb, []
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))  # the anti-aliased fringe
    ys, xs = np.nonzero(mask)
    y0, y1 = max(0, ys.min() - STROKE_PX), ys.max() + STROKE_PX + 1
    x0, x1 = max(0, xs.min() - STROKE_PX), xs.max() + STROKE_PX + 1
    out = rgb.copy()
    roi = out[y0:y1, x0:x1]
    fill = cv2.morphologyEx(roi, cover, kernel)
    on = mask[y0:y1, x0:x1] > 0
    roi[on] = fill[on]
    return out, _inked(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), cells)


def _inked(grey: np.ndarray, cells: list[Box]) -> list[Box]:
    """The cells that hold something (a blank form's empty boxes are not read)."""
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in cells
            if grey[y0:y1, x0:x1].size and int(np.ptp(grey[y0:y1, x0:x1])) >= CELL_INK]


def rule_mask(ink: np.ndarray, char_h: float) -> tuple[np.ndarray, list[Box]]:
    """1 on the rule pixels of a 0/1 stroke mask (enclosing boxes, combs: their rails and ticks), and the character
    cells those boxes and ticks make. Long rules on their own (table borders, underlines) stay: CRAFT reads beside
    them, and on a blurred photo the tops of small print merge into runs just as long and thin."""
    side = max(4, int(0.8 * char_h))
    # Only straight strokes a character high or wide can be part of a rule: far fewer components than all the ink.
    straight = _opened(ink, (side, 1)) | _opened(ink, (1, side))
    if not straight.any():
        return straight, []
    boxes, rings = _boxes(straight, char_h, ink)
    straight = cv2.subtract(straight, boxes)
    length = int(max(RULE_MIN_PX, RULE_CHARS * char_h))
    across = _thin_runs(straight, (length, 1), (1, THICK_PX + 1))
    ticks, teeth = _ticks(cv2.subtract(_opened(straight, (1, side)), across), across, char_h)
    return boxes | ticks | _rails(across, ticks), _cells(rings, teeth)


def _rails(across: np.ndarray, ticks: np.ndarray) -> np.ndarray:
    """The horizontal rules that at least two comb ticks reach: a comb's top and bottom."""
    out = np.zeros_like(across)
    if not ticks.any():
        return out
    touch = cv2.dilate(ticks, np.ones((5, 3), np.uint8))
    labels, stats = _components(across)
    for i, (x, y, w, h, _) in enumerate(stats, start=1):
        part = labels[y : y + h, x : x + w] == i
        reached = touch[max(0, y - 2) : y + h + 2, x : x + w].any(axis=0)
        if np.count_nonzero(np.diff(reached.astype(np.int8)) == 1) + int(reached[0]) >= 2:
            out[y : y + h, x : x + w][part] = 1
    return out


def _cells(rings: list[Box], teeth: list[Box]) -> list[Box]:
    """Character cells of combs: the insides of boxes no wider than CELL_RATIO heights and the spaces between
    neighbouring ticks of one comb (same top and bottom within 3 px, CELL_RATIO heights apart at most), where at
    least COMB_CELLS of them stand in one row (a lone box is a checkbox or a frame, not a field of characters)."""
    cells = [(x0 + 2, y0 + 2, x1 - 2, y1 - 2) for x0, y0, x1, y1 in rings if x1 - x0 <= CELL_RATIO * (y1 - y0)]
    teeth = sorted(teeth, key=lambda b: (round(b[1] / 4), b[0]))
    for a, b in zip(teeth, teeth[1:]):
        h = a[3] - a[1]
        if abs(a[1] - b[1]) <= 3 and abs(a[3] - b[3]) <= 3 and 0.3 * h <= b[0] - a[2] <= CELL_RATIO * h:
            cells.append((a[2] + 1, max(a[1], b[1]), b[0] - 1, min(a[3], b[3])))
    return [c for c in cells if sum(abs(o[1] - c[1]) <= 3 and abs(o[3] - c[3]) <= 3 for o in cells) >= COMB_CELLS]


def _thin_runs(ink: np.ndarray, long: tuple[int, int], thick: tuple[int, int]) -> np.ndarray:
    runs = _opened(ink, long)
    return cv2.subtract(runs, _opened(runs, thick))


def _opened(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and the stats rows of the components (background dropped: row i is label i + 1)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return labels, stats[1:]


def _boxes(ink: np.ndarray, char_h: float, all_ink: np.ndarray) -> tuple[np.ndarray, list[Box]]:
    """Rectangles drawn around a field or a character: a ring of stroke along the component's bounding box on all
    four sides, nothing of it inside but walls from top to bottom (glyphs are never that), at least a character
    high; and the x spans of each box between those walls. A glyph-sized ring with no ink at all between its walls
    is a letter's outline in a boxy face at small size (a serif `D`: its stem a wall), not a box; an empty box holds
    nothing to read, so it is left alone."""
    out = np.zeros_like(ink)
    rings: list[Box] = []
    labels, stats = _components(ink)
    x, y, w, h, area = (stats[:, k] for k in range(5))
    for i in np.flatnonzero((np.minimum(w, h) >= max(0.8 * char_h, 2 * THICK_PX + 4)) & (w <= 40 * char_h)
                            & (h <= 8 * char_h) & (area <= 0.6 * w * h)):
        bx, by, bw, bh = int(x[i]), int(y[i]), int(w[i]), int(h[i])
        m = labels[by : by + bh, bx : bx + bw] == i + 1
        t = max(2, min(THICK_PX + 1, int(0.25 * min(bw, bh))))
        inner = m[t : bh - t, t : bw - t]
        columns = inner.any(axis=0)
        # Inside, nothing, or only walls from top to bottom: a row of boxes that share their sides (a comb).
        if columns.any() and not (inner[:, columns].mean(axis=0) >= 0.9).all():
            continue
        sides = (m[:t].any(0).mean(), m[bh - t :].any(0).mean(), m[:, :t].any(1).mean(), m[:, bw - t :].any(1).mean())
        between = all_ink[by + t : by + bh - t, bx + t : bx + bw - t][:, ~columns]
        hollow = bw < GLYPH_BOX_CHARS * char_h and not between.any()
        if min(sides) > 0.9 and not hollow:
            out[by : by + bh, bx : bx + bw][m] = 1
            rings += [(bx + a, by, bx + b, by + bh) for a, b in _between_walls(columns, t, bw)]
    return out, rings


def _between_walls(walls: np.ndarray, t: int, width: int) -> list[tuple[int, int]]:
    """The x spans (in the box) between its inner walls (`walls`: columns of the inside holding one)."""
    edges = [0]
    on = np.flatnonzero(walls)
    if on.size:
        starts = on[np.r_[True, np.diff(on) > 1]]
        ends = on[np.r_[np.diff(on) > 1, True]]
        for a, b in zip(starts, ends):
            edges += [t + int(a), t + int(b) + 1]
    edges.append(width)
    return [(edges[k], edges[k + 1]) for k in range(0, len(edges) - 1, 2)]


def _ticks(rest: np.ndarray, across: np.ndarray, char_h: float) -> tuple[np.ndarray, list[Box]]:
    """Thin verticals that reach from a horizontal rule down to another: the teeth of a comb field."""
    out = np.zeros_like(rest)
    teeth: list[Box] = []
    if not across.any():
        return out, teeth
    near = cv2.dilate(across, np.ones((7, 3), np.uint8))
    labels, stats = _components(rest)
    last = rest.shape[0] - 1
    x, y, w, h = (stats[:, k] for k in range(4))
    for i in np.flatnonzero((w <= THICK_PX) & (h >= 0.8 * char_h)):
        bx, by, bw, bh = int(x[i]), int(y[i]), int(w[i]), int(h[i])
        if near[max(0, by - 1), bx : bx + bw].any() and near[min(last, by + bh), bx : bx + bw].any():
            out[by : by + bh, bx : bx + bw][labels[by : by + bh, bx : bx + bw] == i + 1] = 1
            teeth.append((bx, by, bx + bw, by + bh))
    return out, teeth
