"""Text lines on tilted and photographed pages: CRAFT's boxes turned level with a deskewed page, and lines on a
slant of their own (a photo's perspective) chained from their pieces, cut out along that slant and numbered as lines
of their own."""

from __future__ import annotations

import math

import cv2
import numpy as np

from gateway.inspection.layout import OcrWord, numbered, text_lines
from gateway.inspection.orientation import SKEW_MAX_DEG, SKEW_MIN_DEG
from gateway.models import Box

# On a deskewed page, a long box still this slanted is a line of its own slant (perspective), read along it; CRAFT's
# angles scatter by up to ~2 degrees around the page's on a plainly tilted one.
RESIDUAL_SLANT_DEG = 3.0
RESIDUAL_MIN_LENGTH = 8.0  # ... and this many heights long (an MRZ line is ~20): short ones are CRAFT's angle noise
SLANTED_MIN_LENGTH = 8.0  # a slanted line, its pieces chained, is at least this many heights long (else: noise)
MIN_DRIFT = 0.5  # ... and climbs or falls at least this many heights from end to end


def upright_box(p: np.ndarray) -> bool:
    """A CRAFT box with a level top edge (CRAFT draws short words upright whatever their slant)."""
    q = p.reshape(4, 2).astype(np.float32)
    dx, dy = q[1] - q[0]
    return abs(math.degrees(math.atan2(dy, dx))) < 0.5


def numbered_with(words: list[OcrWord], slanted: list[list[OcrWord]]) -> list[OcrWord]:
    """`words` numbered by text line (their boxes show the lines), with each slanted line a line of its own: the
    bounding rectangles of slanted lines overlap their neighbours', so their boxes cannot tell the lines apart."""
    if not any(slanted):
        return numbered(words)
    lines = text_lines(words) + [line for line in slanted if line]
    lines.sort(key=lambda line: (min(w.box[1] + w.box[3] for w in line), min(w.box[0] for w in line)))
    return [OcrWord(w.text, w.box, w.confidence, n) for n, line in enumerate(lines) for w in line]


def split_slanted(polys: list[np.ndarray], min_deg: float = SKEW_MIN_DEG,
                   min_length: float = 2.5) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(level boxes, slanted line boxes): a box is a slanted line when it is long (min_length heights) and its top
    edge climbs or falls min_deg..SKEW_MAX_DEG. Slanted boxes are never grouped into lines (their bounding
    rectangle holds parts of the lines above and below): they are read one by one, cut along their slant."""
    level, slanted = [], []
    for p in polys:
        q = p.reshape(4, 2).astype(np.float32)
        dx, dy = q[1] - q[0]
        length, height = math.hypot(dx, dy), math.hypot(*(q[3] - q[0]))
        angle = abs(math.degrees(math.atan2(dy, dx)))
        (slanted if length > min_length * height and min_deg <= angle <= SKEW_MAX_DEG else level).append(p)
    return level, slanted


def chain_slanted(slanted: list[np.ndarray], level: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(level boxes left, slanted lines): CRAFT cuts a long slanted line at its gaps ("P<USAHARTL", "EY<<JOANNA",
    "<<<<<<<<"); pieces that continue one another along one slant become one line, and short upright boxes on the
    line's course (CRAFT boxes short words upright: the last digits of an MRZ line) join it."""
    chains: list[list[np.ndarray]] = []
    for q in sorted((p.reshape(4, 2).astype(np.float32) for p in slanted), key=lambda q: float(q[:, 0].min())):
        for chain in chains:
            if _on_course(chain[0], chain[-1], q):
                chain.append(q)
                break
        else:
            chains.append([q])
    lines, rest = [], list(level)
    for c in chains:
        line = np.array([c[0][0], c[-1][1], c[-1][2], c[0][3]], np.float32)
        _, d, _, h = _frame(line)
        length = float(np.linalg.norm(line[1] - line[0]))
        # Short: CRAFT's angle noise on a level line. Drifting less than half a line height from end to end: its
        # bounding rectangle holds no part of another line, and it is grouped and read as a level one.
        if length >= SLANTED_MIN_LENGTH * h and length * abs(float(d[1])) >= MIN_DRIFT * h:
            lines.append(line)
        else:
            rest += c
    level, rest = rest, []
    for p in level:
        q = p.reshape(4, 2).astype(np.float32)
        for i, line in enumerate(lines):
            if _on_course(line, line, q, upright=True):
                lines[i] = _extended(line, q)
                break
        else:
            rest.append(p)
    return rest, lines


def _frame(line: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(origin, unit direction along the line, unit normal, height) of a line quadrilateral."""
    d = line[1] - line[0]
    length = float(np.linalg.norm(d)) or 1.0
    d = d / length
    n = np.array([-d[1], d[0]], np.float32)
    return line[0], d, n, float(abs(np.dot(line[3] - line[0], n))) or 1.0


def _on_course(first: np.ndarray, last: np.ndarray, q: np.ndarray, upright: bool = False) -> bool:
    """Whether box `q` continues the line running from `first` to `last`: its middle on the line's middle (within
    0.4 heights), 0.4 to 1.6 times as high, starting between 2 heights before and 4 heights after the line's end
    (an upright box: anywhere within 3 heights of either end) and, if slanted, at the same slant (3 degrees)."""
    o, d, n, h = _frame(np.array([first[0], last[1], last[2], first[3]], np.float32))
    centre = q.mean(axis=0) - o
    if abs(float(np.dot(centre, n)) - h / 2) > 0.4 * h:
        return False
    qh = float(np.ptp(q[:, 1])) if upright else float(np.linalg.norm(q[3] - q[0]))
    if not 0.4 * h <= qh <= 1.6 * h:  # a run of "<" is boxed lower than letters
        return False
    along = [float(np.dot(c - o, d)) for c in q]
    end = float(np.dot(last[1] - o, d))
    if upright:
        return -3 * h <= min(along) and max(along) <= end + 3 * h
    qd = q[1] - q[0]
    same_slant = abs(math.degrees(math.atan2(qd[1], qd[0]) - math.atan2(d[1], d[0]))) <= 3.0
    return same_slant and -2 * h <= min(along) - end <= 4 * h


def _extended(line: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The line quadrilateral stretched along its course over box `q`."""
    o, d, n, h = _frame(line)
    along = [float(np.dot(c - o, d)) for c in q] + [0.0, float(np.dot(line[1] - o, d))]
    t0, t1 = min(along), max(along)
    return np.array([o + d * t0, o + d * t1, o + d * t1 + n * h, o + d * t0 + n * h], np.float32)


def bounding_box(q: np.ndarray, shape: tuple[int, ...]) -> Box:
    h, w = shape[:2]
    x0, y0 = np.floor(q.reshape(4, 2).min(axis=0)).astype(int)
    x1, y1 = np.ceil(q.reshape(4, 2).max(axis=0)).astype(int)
    return max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))


def warp_line(grey: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The quadrilateral `q` (top-left first, clockwise) of `grey` cut out and made a level rectangle."""
    q = q.reshape(4, 2).astype(np.float32)
    width = int(round(max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))))
    height = int(round(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))))
    if width < 2 or height < 2:
        return np.zeros((0, 0), np.uint8)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    return cv2.warpPerspective(grey, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def level_box(p: np.ndarray, q: np.ndarray, angle: float) -> np.ndarray:
    """A CRAFT box `p` of a page tilted by `angle` degrees, turned level (`q`), as an upright rectangle.

    CRAFT boxes long words along their slant but short ones upright, around the tilted word; turned level, those
    would slant the other way, and slanted boxes are never grouped into lines. Their bounding rectangle would be
    too tall (a 300 px upright box of a 6-degree line: 33 px more), so they become the rectangle of the tilted word
    that such an upright box holds, about their centre."""
    dx, dy = q[1] - q[0]
    if abs(math.degrees(math.atan2(dy, dx))) < 0.5:  # drawn along the slant: level now
        x0, y0 = q.min(axis=0)
        x1, y1 = q.max(axis=0)
    else:
        w, h = np.ptp(p[:, 0]), np.ptp(p[:, 1])
        a = math.radians(abs(angle))
        cos, sin, cos2 = math.cos(a), math.sin(a), math.cos(2 * a)
        length = max((w * cos - h * sin) / cos2, 0.5 * w)
        thick = max((h * cos - w * sin) / cos2, 0.5 * h)
        cx, cy = q.mean(axis=0)
        x0, x1, y0, y1 = cx - length / 2, cx + length / 2, cy - thick / 2, cy + thick / 2
    return rect_poly((x0, y0, x1, y1))


def rect_poly(b: tuple[float, float, float, float]) -> np.ndarray:
    """The rectangle (x0, y0, x1, y1) as four corners, top-left first, clockwise (CRAFT's order)."""
    x0, y0, x1, y1 = b
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
