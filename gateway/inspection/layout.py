"""Word layout: CRAFT boxes grouped into lines and words, recognised lines split into boxed words, reading order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gateway.models import Box


@dataclass(frozen=True)
class OcrWord:
    """One recognised word and its pixel box in the input image."""

    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    confidence: float
    # The text line the word was read in, numbered top to bottom, when the boxes alone do not show the lines
    # (a tilted page: its level lines climb or fall across the image); -1 when they do.
    line: int = -1


GAP_SKIP_COST = 3.0  # in characters: leaving a space or a gap unaligned costs as much as a 3-character misplacement
SEEN_SPACE_CHARS = 1.5  # a space the recogniser placed is at most this many characters from its gap


def group_boxes(polys: list[np.ndarray], shape: tuple[int, ...]) -> tuple[list[Box], list[Box]]:
    """EasyOCR's grouping of CRAFT boxes into text lines (for recognition) and words (for word boxes)."""
    from easyocr.utils import group_text_box

    h, w = shape[:2]
    flat = [p.reshape(-1) for p in polys]
    out: tuple[list[Box], list[Box]] = ([], [])
    for found, width_ths, margin in ((out[0], 2.0, 0.15), (out[1], 0.0, 0.08)):
        horizontal, free = group_text_box(flat, 0.1, 0.5, 0.5, width_ths, margin, True)
        rects = [(b[0], b[2], b[1], b[3]) for b in horizontal]
        for poly in free:  # slanted boxes: their bounding rectangle
            xs = [p[0] for p in poly]
            ys = [p[1] for p in poly]
            rects.append((min(xs), min(ys), max(xs), max(ys)))
        for x0, y0, x1, y1 in rects:
            found.append((max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))))
    return dedupe_boxes(out[0]), dedupe_boxes(out[1])


# A blank between two CRAFT word boxes of a line this many line-heights wide is a word break even where the recogniser
# read no space: table cells whose contents nearly touch ("4454505122907539igarcia@...") are read as one token.
# Spaces between words are 0.25-0.6 line-heights; no '@', '.' or '-' inside a token is set that far apart.
GLUE_GAP = 0.8


def line_boxes_inside(line: Box, word_boxes: list[Box]) -> list[Box]:
    """The word boxes whose centre lies in `line`, left to right."""
    return sorted(
        (b for b in word_boxes if line[0] - 2 <= (b[0] + b[2]) / 2 <= line[2] + 2 and line[1] - 2 <= (b[1] + b[3]) / 2 <= line[3] + 2),
        key=lambda b: b[0],
    )


def _blanks(boxes: list[Box]) -> list[tuple[int, int]]:
    """(end of the ink so far, start of the next box) between boxes sorted by left edge: a box reaching past the
    next (a word of the line above whose centre fell inside) leaves no blank behind it."""
    out, right = [], None
    for a, b in zip(boxes, boxes[1:]):
        right = a[2] if right is None else max(right, a[2])
        out.append((right, b[0]))
    return out


def break_glued(text: str, char_x: tuple[float, ...], line: Box,
                word_boxes: list[Box]) -> tuple[str, tuple[float, ...]]:
    """`text` with a space put in at every wide blank between the line's word boxes (GLUE_GAP) where the recogniser
    read none: the characters on either side of the blank's middle (char_x: x of each character in the line crop)
    are both non-blank. `char_x` follows (the new space at the blank's middle). Without char_x (one per character)
    both are returned as they are."""
    if len(char_x) != len(text) or len(text) < 2:
        return text, char_x
    height = line[3] - line[1]
    inner = line_boxes_inside(line, word_boxes)
    cuts = {}
    for left, right in _blanks(inner):
        if right - left < GLUE_GAP * height:
            continue
        mid = (left + right) / 2 - line[0]
        i = next((k for k, x in enumerate(char_x) if x > mid), len(text))
        if 0 < i < len(text) and not text[i - 1].isspace() and not text[i].isspace():
            cuts[i] = mid
    xs = list(char_x)
    for i in sorted(cuts, reverse=True):
        text = text[:i] + " " + text[i:]
        xs.insert(i, cuts[i])
    return text, tuple(xs)


def join_cells(text: str, char_x: tuple[float, ...], line: Box, cells: Sequence[Box]) -> tuple[str, tuple[float, ...]]:
    """`text` without the spaces the recogniser read between the characters of a comb field (one character per
    box): a space stays only where the comb has a wider gap between two boxes than between the others of its row
    ("123 45 6789"). `char_x` (x of each character in the line crop) follows; unchanged without positions."""
    if not cells or len(char_x) != len(text) or " " not in text:
        return text, char_x
    mid = (line[1] + line[3]) / 2
    row = sorted((c for c in cells if c[1] <= mid <= c[3] and c[0] < line[2] and c[2] > line[0]), key=lambda c: c[0])
    if len(row) < 2:
        return text, char_x
    gaps = [b[0] - a[2] for a, b in zip(row, row[1:])]
    usual = float(np.median(gaps))

    def cell(i: int) -> int | None:
        x = line[0] + char_x[i]
        return next((k for k, c in enumerate(row) if c[0] - 2 <= x <= c[2] + 2), None)

    keep = [True] * len(text)
    for i, ch in enumerate(text):
        if ch != " " or i == 0 or i == len(text) - 1 or not text[i - 1].isalnum() or not text[i + 1].isalnum():
            continue
        a, b = cell(i - 1), cell(i + 1)
        if a is not None and b is not None and (b <= a + 1 and (b == a or gaps[a] <= max(1.4 * usual, usual + 3))):
            keep[i] = False
    if all(keep):
        return text, char_x
    return ("".join(c for c, k in zip(text, keep) if k), tuple(x for x, k in zip(char_x, keep) if k))


def split_line(text: str, line: Box, conf: float, word_boxes: list[Box],
               char_x: tuple[float, ...] = ()) -> list[OcrWord]:
    """Words of a recognised line, each boxed where it is on the page.

    The spaces of the text are aligned to the gaps between the line's CRAFT word boxes (a monotonic alignment by
    position, so one missed or extra gap does not shift every later word); each word then runs between its
    aligned gaps. A space no gap explains (CRAFT boxed small or tight words together) is placed where the
    recogniser saw it (`char_x`: x of each character in the line crop), else by character count between anchors."""
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
    if not tokens:
        return []
    inner = line_boxes_inside(line, word_boxes)
    x0, x1 = (inner[0][0], max(b[2] for b in inner)) if inner else (line[0], line[2])
    n = max(1, len(text))
    anchors = [(0.0, float(x0)), (float(n), float(x1))]
    # Touching or slightly overlapping CRAFT boxes still mark a word boundary (tight kerning, small spaces).
    gaps = [(a, b) if b >= a else ((a + b) // 2,) * 2 for a, b in _blanks(inner) if b >= a - 3]
    spaces = [(prev[1], nxt[0]) for prev, nxt in zip(tokens, tokens[1:])]
    seen = len(char_x) == len(text)
    # Where the recogniser saw each space: sharper than its place by character count (wide digits, narrow 'i').
    where = [line[0] + float(np.mean(char_x[e:s_])) for e, s_ in spaces] if seen else None
    aligned = _align_spaces(spaces, gaps, x0, (x1 - x0) / n, where)
    for (e, s_), (g0, g1) in aligned:
        anchors += [(float(e), float(g0)), (float(s_), float(g1))]
    if seen:
        placed = {sp for sp, _ in aligned}
        anchors += _seen_spaces([sp for sp in spaces if sp not in placed], char_x, line[0], (float(x0), float(x1)))
    anchors.sort()
    cs, xs = [a[0] for a in anchors], [a[1] for a in anchors]
    xs = list(np.maximum.accumulate(xs))  # keep x monotonic in character order
    out = []
    for start, end, t in tokens:
        wx0, wx1 = float(np.interp(start, cs, xs)), float(np.interp(end, cs, xs))
        out.append(OcrWord(t, (int(wx0), line[1], max(int(wx0) + 1, int(round(wx1))), line[3]), conf))
    return out


def _seen_spaces(spaces: list[tuple[int, int]], char_x: tuple[float, ...], left: int,
                 span: tuple[float, float]) -> list[tuple[float, float]]:
    """Anchors (character index, page x) at both sides of each space, half a character from the centres of the
    characters around it: where the word before it ends and the next begins. Inside `span` (the line's ink)."""
    steps = np.diff(char_x)
    half = float(np.median(steps[steps > 0])) / 2 if (steps > 0).any() else 0.0
    out = []
    for e, s in spaces:
        end = min(left + char_x[e - 1] + half, left + (char_x[e - 1] + char_x[s]) / 2)
        start = max(left + char_x[s] - half, end)
        if span[0] < end and start < span[1]:
            out += [(float(e), end), (float(s), start)]
    return out


def _align_spaces(spaces: list[tuple[int, int]], gaps: list[tuple[int, int]], x0: float, cw: float,
                  where: list[float] | None = None) -> list:
    """Monotonic alignment (edit-distance DP) of text spaces (char spans) to pixel gaps between word boxes, by
    distance between the space's x (`where`, else proportional) and the gap's middle, in characters. Returns
    matched pairs."""
    if not spaces or not gaps or cw <= 0:
        return []
    pos = where if where is not None else [x0 + (e + s) / 2 * cw for e, s in spaces]
    mid = [(g0 + g1) / 2 for g0, g1 in gaps]
    ns, ng = len(spaces), len(gaps)
    inf = float("inf")
    # A space seen by the recogniser lies within a character of its gap: a gap farther off is another one (CRAFT
    # cut a word), however cheap matching it would be.
    far = SEEN_SPACE_CHARS if where is not None else inf
    cost = np.full((ns + 1, ng + 1), inf)
    cost[0, :] = np.arange(ng + 1) * GAP_SKIP_COST
    cost[:, 0] = np.arange(ns + 1) * GAP_SKIP_COST
    for i in range(1, ns + 1):
        for j in range(1, ng + 1):
            d = abs(pos[i - 1] - mid[j - 1]) / cw
            d = d if d <= far else inf
            cost[i, j] = min(cost[i - 1, j - 1] + d, cost[i - 1, j] + GAP_SKIP_COST, cost[i, j - 1] + GAP_SKIP_COST)
    pairs = []
    i, j = ns, ng
    while i > 0 and j > 0:
        d = abs(pos[i - 1] - mid[j - 1]) / cw
        if d <= far and cost[i, j] == cost[i - 1, j - 1] + d:
            pairs.append((spaces[i - 1], gaps[j - 1]))
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + GAP_SKIP_COST:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def text_lines(words: list[OcrWord]) -> list[list[OcrWord]]:
    """Words grouped into text lines (rows of vertically overlapping words, top to bottom, left to right). Words far
    apart on one row (columns) start a new line, so entities don't run across columns."""
    items = sorted((w for w in words if w.text.strip()), key=lambda w: ((w.box[1] + w.box[3]) / 2, w.box[0]))
    rows: list[list[OcrWord]] = []
    for w in items:
        cy = (w.box[1] + w.box[3]) / 2
        h = w.box[3] - w.box[1]
        for row in rows:
            ry0 = min(r.box[1] for r in row)
            ry1 = max(r.box[3] for r in row)
            rh = ry1 - ry0
            if ry0 <= cy <= ry1 and 0.5 * rh <= h <= 2 * rh:
                row.append(w)
                break
        else:
            rows.append([w])
    pieces: list[list[OcrWord]] = []
    for row in sorted(rows, key=lambda r: min(w.box[1] for w in r)):
        row.sort(key=lambda w: w.box[0])
        height = max(w.box[3] - w.box[1] for w in row)
        current = [row[0]]
        for prev, w in zip(row, row[1:]):
            # A long '<' run of an MRZ line is often not detected at all: that gap is not a column break.
            if w.box[0] - prev.box[2] > 3 * height and not prev.text.rstrip("-").endswith("<"):
                pieces.append(current)
                current = []
            current.append(w)
        pieces.append(current)
    return pieces


def numbered(words: list[OcrWord]) -> list[OcrWord]:
    """Words of a page read level (turned or deskewed), in reading order and numbered by text line: once their
    boxes are mapped back to the page, the boxes no longer show the lines."""
    return [OcrWord(w.text, w.box, w.confidence, n) for n, line in enumerate(text_lines(words)) for w in line]


def reading_order(words: list[OcrWord]) -> list[OcrWord]:
    """Rows of vertically overlapping words, top to bottom; left to right within a row (text_lines, flattened)."""
    return [w for line in text_lines(words) for w in line]


def dedupe_boxes(boxes: list[Box]) -> list[Box]:
    """Drop boxes mostly inside a bigger one (words seen twice in tile overlaps)."""
    boxes = sorted(set(boxes), key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
    kept: list[Box] = []
    rects = np.empty((len(boxes), 4), np.int64)  # kept boxes as rows, for one vectorised overlap test per box
    for b in boxes:
        area = max(1, (b[2] - b[0]) * (b[3] - b[1]))
        if b[2] - b[0] < 2 or b[3] - b[1] < 2:
            continue
        k = rects[: len(kept)]
        iw = np.minimum(k[:, 2], b[2]) - np.maximum(k[:, 0], b[0])
        ih = np.minimum(k[:, 3], b[3]) - np.maximum(k[:, 1], b[1])
        if np.any((iw > 0) & (ih > 0) & (iw * ih > 0.7 * area)):
            continue
        rects[len(kept)] = b
        kept.append(b)
    return kept


def box_intersection(a: Box, b: Box) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
