"""Glyphs CRAFT left out at a line's end: a narrow last character (`45.57.98.1`, `Schillerweg 7`) or an IBAN's short
last group (`... 0026 4`) that no CRAFT box holds, so the recogniser never saw it and the value failed its check.

Past the right end of each line box, the ink on the line's band is looked at: a run of glyph-high ink that starts
within a word space of the box, is at most TAIL_MAX_HEIGHTS wide, is followed by blank (not the start of the next
word or column) and is in no other box, is taken into the line (and given a word box of its own). A table rule right
after the text runs above and below the line and is not taken.
"""

from __future__ import annotations

import numpy as np

from gateway.models import Box

TAIL_GAP_HEIGHTS = 0.8  # the tail starts within a word space (0.25-0.6 line heights) of the box
TAIL_MAX_HEIGHTS = 1.6  # ... is at most a short group wide (one to three glyphs)
TAIL_BLANK_HEIGHTS = 0.6  # ... and blank follows it for this long (else it is the start of more text)
GLYPH_GAP_HEIGHTS = 0.25  # a blank this narrow inside the tail is the space between two of its glyphs
INK_CONTRAST = 40  # grey levels from the line's background that are ink
GLYPH_HEIGHTS = 0.35  # the tail's ink is at least this high (a digit's or a capital's height, not a speck)
RULE_OVERHANG = 0.4  # ink this far (line heights) above or below the line in the same columns: a rule, no glyph


def extend_tails(grey: np.ndarray, lines: list[Box], word_boxes: list[Box]) -> tuple[list[Box], list[Box]]:
    """The lines with the tails CRAFT left out taken in, and a word box for each tail."""
    out, tails = [], []
    others = [*lines, *word_boxes]
    for line in lines:
        tail = _tail(grey, line, others)
        if tail is None:
            out.append(line)
        else:
            out.append((line[0], line[1], tail[2], line[3]))
            tails.append(tail)
    return out, word_boxes + tails


def _tail(grey: np.ndarray, line: Box, boxes: list[Box]) -> Box | None:
    x0, y0, x1, y1 = line
    h = y1 - y0
    reach = int(np.ceil((TAIL_GAP_HEIGHTS + TAIL_MAX_HEIGHTS + TAIL_BLANK_HEIGHTS) * h))
    if h < 6 or x1 >= grey.shape[1]:
        return None
    band = grey[y0:y1, x0 : min(grey.shape[1], x1 + reach)].astype(np.int16)
    background = int(np.median(band))
    ink = (np.abs(band - background) >= INK_CONTRAST)[:, x1 - x0 :]
    span = _glyph_run(ink.sum(axis=0) >= max(2, h // 8), h)
    if span is None:
        return None
    start, end = span
    rows = np.flatnonzero(ink[:, start : end + 1].any(axis=1))
    if rows.size == 0 or rows[-1] - rows[0] + 1 < GLYPH_HEIGHTS * h:
        return None  # a dot, a speck of noise
    tail = (x1 + start, y0, x1 + end + 1, y1)
    if _is_rule(grey, tail, background) or any(_overlaps(tail, b) for b in boxes if b != line):
        return None
    return tail


def _glyph_run(cols: np.ndarray, h: int) -> tuple[int, int] | None:
    """First and last inked column of the tail in `cols` (inked columns past the box), or None: no ink within a
    word space, wider than a short group, or more ink right after it (the next word)."""
    start = _first(cols, 0)
    if start is None or start > TAIL_GAP_HEIGHTS * h:
        return None
    end = start
    while True:  # ink runs apart by less than a glyph gap
        run_end = _first(~cols, end)
        if run_end is None:
            return None  # ink up to the end of the look: a longer word, not a tail
        end = run_end - 1
        following = _first(cols, run_end)
        if following is None or following - run_end > GLYPH_GAP_HEIGHTS * h:
            break
        end = following
    if end - start + 1 > TAIL_MAX_HEIGHTS * h or (following is not None and following - end < TAIL_BLANK_HEIGHTS * h):
        return None
    return start, end


def _first(mask: np.ndarray, start: int) -> int | None:
    """Index of the first True of mask at or after start."""
    hits = np.flatnonzero(mask[start:])
    return int(hits[0]) + start if hits.size else None


def _is_rule(grey: np.ndarray, tail: Box, background: int) -> bool:
    """Ink in the tail's columns well above and below the line: a table's or a field's vertical rule."""
    x0, y0, x1, y1 = tail
    over = max(1, int(RULE_OVERHANG * (y1 - y0)))
    above = grey[max(0, y0 - over) : y0, x0:x1].astype(np.int16)
    below = grey[y1 : y1 + over, x0:x1].astype(np.int16)
    def inked(part: np.ndarray) -> bool:
        return part.size > 0 and bool((np.abs(part - background) >= INK_CONTRAST).any(axis=1).all())
    return inked(above) and inked(below)


def _overlaps(a: Box, b: Box) -> bool:
    """b holds part of a, over more than half of a's height (the line above or below only touches it)."""
    return a[0] < b[2] and b[0] < a[2] and min(a[3], b[3]) - max(a[1], b[1]) > (a[3] - a[1]) / 2
