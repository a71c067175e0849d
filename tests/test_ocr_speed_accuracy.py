"""The fast OCR path (CRAFT on ONNX Runtime, int8) keeps EasyOCR's accuracy: same boxes as torch, cached export,
fallbacks, small text, rotated pages and tiled large images. Speed itself is measured by bench/, not asserted here."""

from __future__ import annotations

import difflib
import glob
import logging
import os
import resource

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from gateway.inspection import craft_onnx
from gateway.inspection.ocr import (
    COARSE_PIXELS,
    MAX_REGIONS,
    REGION_PAD,
    TILE_OVERLAP,
    TILE_PX,
    OcrEngine,
    _dedupe_polys,
    detection_scale,
    group_boxes,
    line_batches,
    looks_like_text,
    projection_tilt,
    break_glued,
    split_line,
    text_regions,
    tile_spans,
)
from gateway.inspection.ppocr import RECOG_BATCH, RECOG_BATCH_PX

pytestmark = pytest.mark.slow

SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
EMAIL = "dana.whitfield@acmecorp.io"


def render(lines: list[str], size: int, canvas: tuple[int, int], at: tuple[int, int] = (20, 16)) -> np.ndarray:
    if not os.path.exists(SANS):
        pytest.skip("DejaVu fonts not installed (apt-get install fonts-dejavu-core)")
    f = ImageFont.truetype(SANS, size)
    img = Image.new("RGB", canvas, "white")
    d = ImageDraw.Draw(img)
    x, y = at
    for line in lines:
        d.text((x, y), line, font=f, fill=(25, 25, 25))
        y += int(size * 1.8)
    return np.asarray(img)


def form() -> np.ndarray:
    img = Image.fromarray(render(["Vendor registration form"], 28, (1240, 800), (60, 40)))
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(SANS, 22)
    y = 120
    for label, value in [("Company", "Northwind Traders Ltd"), ("Contact e-mail", "jane.doe@corpmail.com"),
                         ("Phone", "+1 415 555 0142"), ("Street", "18 Harbour Road"), ("Signed on", "12 March 2024")]:
        d.text((60, y + 8), label, font=f, fill=(60, 60, 60))
        d.rectangle((360, y, 1160, y + 44), outline=(120, 120, 120), width=2)
        d.text((372, y + 8), value, font=f, fill=(15, 15, 15))
        y += 76
    return np.asarray(img)


def rects(polys: list[np.ndarray]) -> list[tuple[int, int, int, int]]:
    return [(int(p[:, 0].min()), int(p[:, 1].min()), int(p[:, 0].max()), int(p[:, 1].max())) for p in polys]


def text_of(words) -> str:
    return " ".join(w.text for w in words)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("ocr-cache"))


@pytest.fixture(scope="module")
def engine(cache: str) -> OcrEngine:
    return OcrEngine(cache_dir=cache)


@pytest.fixture(scope="module")
def torch_net():
    return craft_onnx.torch_craft(weights())


def weights() -> str:
    import easyocr_en_models

    return os.path.join(easyocr_en_models.model_dir(), "craft_mlt_25k.pth")


def detect_with(engine: OcrEngine, run, rgb: np.ndarray):
    fast, engine._craft = engine._craft, run
    try:
        return engine._detect(rgb, detection_scale(rgb[:, :, 0]))
    finally:
        engine._craft = fast


def test_float_onnx_and_torch_detectors_find_the_same_boxes(engine: OcrEngine, cache: str, monkeypatch, torch_net):
    rgb = form()
    float_onnx, backend = craft_onnx.load_detector(torch_net, weights(), 1, cache, int8=False)
    assert backend == "onnxruntime"
    onnx_boxes = rects(detect_with(engine, float_onnx, rgb))
    torch_boxes = rects(detect_with(engine, craft_onnx.torch_runner(torch_net), rgb))
    assert len(torch_boxes) >= 12 and len(onnx_boxes) == len(torch_boxes)
    for b in torch_boxes:
        assert max(craft_onnx._iou(b, o) for o in onnx_boxes) > 0.9, b


def test_int8_detector_reads_the_same_words_as_torch(engine: OcrEngine, torch_net):
    """The int8 model moves box edges by at most about one score-map pixel; the words read are the same."""
    assert engine.detector_backend == "onnxruntime"
    rgb = form()
    int8_boxes = rects(engine._detect(rgb, detection_scale(rgb[:, :, 0])))
    exact = craft_onnx.torch_runner(torch_net)
    torch_boxes = rects(detect_with(engine, exact, rgb))
    assert len(int8_boxes) == len(torch_boxes)
    for b in torch_boxes:
        assert max(craft_onnx._iou(b, o) for o in int8_boxes) > 0.8, b
    fast_words = [w.text for w in engine.read(rgb)]
    fast, engine._craft = engine._craft, exact
    try:
        torch_words = [w.text for w in engine.read(rgb)]
    finally:
        engine._craft = fast
    assert "doe@corpmail.com" in " ".join(fast_words), fast_words
    similarity = difflib.SequenceMatcher(None, " ".join(fast_words), " ".join(torch_words)).ratio()
    assert similarity > 0.97, (fast_words, torch_words)


def test_export_is_cached_and_reused(engine: OcrEngine, cache: str, monkeypatch, torch_net):
    files = sorted(glob.glob(os.path.join(cache, "craft-*.onnx")))
    assert len(files) == 2 and any(f.endswith(craft_onnx.INT8 + ".onnx") for f in files), files  # float + int8, one of each
    mtimes = [os.path.getmtime(f) for f in files]

    def no_export(*a, **k):
        raise AssertionError("exported again")

    monkeypatch.setattr(craft_onnx, "_export", no_export)
    monkeypatch.setattr(craft_onnx, "_quantize", no_export)
    run, backend = craft_onnx.load_detector(torch_net, weights(), 1, cache)
    assert backend == "onnxruntime"
    assert [os.path.getmtime(f) for f in files] == mtimes
    maps = run(craft_onnx.preprocess(craft_onnx.test_image()))
    assert maps.shape[-1] == 2 and maps[..., 0].max() > 0.7  # it still finds the test text


def test_int8_detector_does_not_dequantise_for_nothing(engine: OcrEngine, cache: str):
    """The int8 CRAFT reads the Resize sizes off int8 tensors and has only the score-map output: no tensor is
    dequantised just to take its shape, and the unused `feature` output is gone (4% of its run time)."""
    import onnx

    path = next(f for f in glob.glob(os.path.join(cache, "craft-*.onnx")) if f.endswith(craft_onnx.INT8 + ".onnx"))
    graph = onnx.load(path).graph
    dequantised = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    shapes = [n for n in graph.node if n.op_type == "Shape"]
    assert shapes and not [n.name for n in shapes if n.input[0] in dequantised]
    assert [o.name for o in graph.output] == ["y"]


def test_export_failure_falls_back_to_torch(engine: OcrEngine, tmp_path, monkeypatch, caplog, torch_net):
    def broken(*a, **k):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(craft_onnx, "_export", broken)
    with caplog.at_level(logging.WARNING, logger="gateway.inspection.craft_onnx"):
        run, backend = craft_onnx.load_detector(torch_net, weights(), 1, str(tmp_path))
    assert backend == "torch"
    assert "exporter broke" in caplog.text
    assert not glob.glob(str(tmp_path / "*.onnx"))
    x = craft_onnx.preprocess(craft_onnx.test_image())
    assert run(x)[0, ..., 0].max() > 0.7


def test_quantisation_failure_falls_back_to_float_onnx(engine: OcrEngine, cache: str, tmp_path, monkeypatch, caplog, torch_net):
    float_model = next(f for f in glob.glob(os.path.join(cache, "craft-*.onnx")) if not f.endswith(craft_onnx.INT8 + ".onnx"))
    os.link(float_model, tmp_path / os.path.basename(float_model))  # exported already: only quantisation runs

    def broken(*a, **k):
        raise RuntimeError("quantiser broke")

    monkeypatch.setattr(craft_onnx, "_quantize", broken)
    with caplog.at_level(logging.WARNING, logger="gateway.inspection.craft_onnx"):
        run, backend = craft_onnx.load_detector(torch_net, weights(), 1, str(tmp_path))
    assert backend == "onnxruntime" and "quantiser broke" in caplog.text
    x = craft_onnx.preprocess(craft_onnx.test_image())
    exact = craft_onnx.torch_runner(torch_net)(x)
    assert np.abs(run(x) - exact).max() < craft_onnx.MAX_ABS_DIFF  # the float model: torch's maps


def test_small_11px_text_is_read(engine: OcrEngine):
    rgb = render(["Invoice for jane.doe@corpmail.com due 12 March 2024", "Reference 77821 approved by Martin"],
                 11, (520, 70))
    text = text_of(engine.read(rgb))
    assert "corpmail" in text and "@" in text, text
    assert "Invoice" in text and "77821" in text and "Martin" in text, text


@pytest.mark.parametrize("k", [1, 3])
def test_rotated_document_yields_the_email(engine: OcrEngine, k: int):
    upright = render([f"Contact: {EMAIL} for access", "Please charge the company card for the travel booking",
                      "Call me at +1 415-555-0132 after lunch"], 18, (760, 130))
    rgb = np.ascontiguousarray(np.rot90(upright, k))
    words = engine.read(rgb)
    email = [w for w in words if "acmecorp" in w.text]
    assert email and "@" in email[0].text, text_of(words)
    # The box is mapped back onto the turned page: tall, inside the image.
    x0, y0, x1, y1 = email[0].box
    assert 0 <= x0 < x1 <= rgb.shape[1] and 0 <= y0 < y1 <= rgb.shape[0]
    assert y1 - y0 > 2 * (x1 - x0)


@pytest.mark.parametrize("k", [1, 3])
def test_turned_page_keeps_its_lines(engine: OcrEngine, k: int):
    """A page turned by 90 degrees is read in the turned frame's lines: short words of one row (an IBAN's groups)
    come out on one numbered line, in order, so the analyser sees the whole IBAN (benchmark invoice 0123)."""
    from gateway.inspection.text import TextAnalyzer

    upright = render(["INVOICE No. INV-2019-2547", "Bill to: Sven Wang", "Phone: +44 20 7297 9604",
                      "Please pay by bank transfer to IBAN GB19 HBUK 7939 4128 6370 35"], 20, (900, 200))
    words = engine.read(np.ascontiguousarray(np.rot90(upright, k)))
    assert words and all(w.line >= 0 for w in words), words
    iban = [w for w in words if w.text.replace("l", "1") in ("GB19", "HBUK", "7939", "4128", "6370", "35")]  # 'GBl9
    assert len({w.line for w in iban}) == 1 and len(iban) == 6, text_of(words)
    found = {f.entity for f in TextAnalyzer().analyze_words(words)}
    assert {"IBAN_CODE", "PHONE_NUMBER"} <= found, found


def test_large_image_with_small_text_is_tiled(engine: OcrEngine, monkeypatch):
    big = Image.new("RGB", (4000, 3000), "white")
    d = ImageDraw.Draw(big)
    f = ImageFont.truetype(SANS, 16)
    spots = {"Quarterly figures attached": (60, 60), "Contact jane.doe@corpmail.com today": (3500, 2900),
             "Invoice 48213 approved": (2100, 1500)}
    for text, at in spots.items():
        d.text(at, text, font=f, fill=(20, 20, 20))
    rgb = np.asarray(big)
    tiles: list[tuple[int, int]] = []
    original = engine._craft_boxes

    def spy(tile, **kw):
        tiles.append(tile.shape[:2])
        return original(tile, **kw)

    monkeypatch.setattr(engine, "_craft_boxes", spy)
    reset_peak_rss()  # earlier tests (the one-time export) must not count
    before = rss_gb()  # nor what they left loaded in this process (the whole suite: other engines, analysers)
    text = text_of(engine.read(rgb))
    assert len(tiles) >= 2 and all(h <= TILE_PX and w <= TILE_PX for h, w in tiles), tiles
    for needle in ("Quarterly", "corpmail", "48213"):
        assert needle in text, text
    # Tiled, the read adds about 0.1 GB; untiled, the 4000x3000 canvas's first feature maps alone are several GB.
    assert peak_rss_gb() - before < 1.0, (before, peak_rss_gb())


def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (Linux >= 4.0)
    except OSError:
        pass  # then the lifetime peak is checked: stricter


def rss_gb() -> float:
    """This process's resident memory now."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 2**20


def peak_rss_gb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


@pytest.mark.parametrize("n", [300, 1024, 1025, 1263, 2000, 4000, 9000])
def test_tiles_are_equal_bounded_and_cover_with_overlap(n: int):
    spans = tile_spans(n)
    assert spans[0][0] == 0 and spans[-1][0] + spans[-1][1] == n
    assert all(size <= TILE_PX for _, size in spans)
    assert len({size for _, size in spans}) == 1
    for (a, sa), (b, _) in zip(spans, spans[1:]):
        assert a + sa - b >= TILE_OVERLAP  # every word narrower than the overlap is whole in one tile
    # no more tiles than needed: one fewer could not cover n with the overlap
    k = len(spans)
    assert k == 1 or (k - 1) * TILE_PX - (k - 2) * TILE_OVERLAP < n


def test_lines_are_read_whole_with_their_punctuation(engine: OcrEngine):
    """The recogniser reads a form's lines with the characters PII lives on (`.` `@` `+` `_`), only printable ASCII
    comes out, and batching (lines padded to the widest of their call) reads each line as it reads alone."""
    page = form()
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    lines, _ = group_boxes(engine._detect(page, detection_scale(grey)), grey.shape)
    got = engine._recognize(grey, lines)
    assert sorted(b for b, _, _, _ in got) == sorted(lines)
    text = " ".join(t for _, t, _, _ in got)
    for value in ("jane.doe@corpmail.com", "+1 415 555 0142", "Northwind Traders Ltd", "18 Harbour Road"):
        assert value in text, text
    assert all(32 <= ord(c) < 127 for c in text)
    alone = {b: engine._recognize(grey, [b])[0][1] for b in lines}
    assert sum(alone[b] == t for b, t, _, _ in got) >= len(got) - 1, [(alone[b], t) for b, t, _, _ in got]


def test_recogniser_gives_each_character_its_place():
    """Character positions from the CTC frames lie in the crop, left to right, one per character."""
    from gateway.inspection.ppocr import PpOcrRecognizer

    crop = cv2.cvtColor(render(["user=omar_petrova@protonmail.com"], 20, (420, 44), (6, 8)), cv2.COLOR_RGB2GRAY)
    reading = PpOcrRecognizer().read([crop])[0]
    assert reading.text == "user=omar_petrova@protonmail.com"
    assert len(reading.char_x) == len(reading.text)
    assert list(reading.char_x) == sorted(reading.char_x) and 0 < reading.char_x[0] < reading.char_x[-1] < 420
    assert reading.confidence > 0.8


def test_reads_do_not_depend_on_the_core_count(engine: OcrEngine, cache: str):
    """One lane or several, the same words, boxes and confidences: the recogniser always runs on one thread (so a
    batch is never split between threads), and a CRAFT call on every core gives the maps of a one-thread call."""
    lanes = engine if engine._lanes.width > 1 else OcrEngine(cache_dir=cache, threads=2)
    one = OcrEngine(cache_dir=cache, threads=1)
    assert lanes._lanes.width > 1 and one._lanes.width == 1
    rng = np.random.default_rng(7)
    words = ["invoice", "Northwind", "jane.doe@corpmail.com", "+1 415 555 0142", "IBAN", "DE89 3704 0044 0532 0130 00",
             "approved", "ref", "0x3f9a", "Harbour", "Road", "total", "EUR", "1,284.50", "due", "12/03/2024"]
    lines = [" ".join(rng.choice(words, int(rng.integers(1, 9)))) for _ in range(26)]
    pages = [render(lines, 15, (1000, 760)), form()]
    for page in pages:
        got = [(w.text, w.box, w.confidence) for w in lanes.read(page)]
        assert got == [(w.text, w.box, w.confidence) for w in one.read(page)]
        assert len(got) > 20
    x = craft_onnx.preprocess(np.ascontiguousarray(pages[0][:512, :768]))
    assert np.array_equal(lanes._craft(x), lanes._craft(x, wide=True))


def test_line_batches_keep_widths_close_and_calls_bounded():
    """Lines are batched by similar width, at most RECOG_BATCH lines and RECOG_BATCH_PX of padded width per call, in
    width order, every line exactly once."""
    rng = np.random.default_rng(2)
    crops = [((i,), np.zeros((48, int(w)), np.uint8)) for i, w in enumerate(rng.integers(20, 3000, 300))]
    crops += [((300 + i,), np.zeros((48, 40), np.uint8)) for i in range(70)]  # many short lines: count-bound
    crops.append(((999,), np.zeros((48, 9000), np.uint8)))  # wider than a call's budget: a call of its own
    crops.append(((998,), np.zeros((96, 200), np.uint8)))  # taller: batched by its width at the model's height
    batches = line_batches(crops)
    flat = [c for b in batches for c in b]
    assert sorted(c[0] for c in flat) == sorted(c[0] for c in crops)
    width = lambda c: c[1].shape[1] * 48 // c[1].shape[0]  # noqa: E731
    widths = [width(c) for c in flat]
    assert widths == sorted(widths)
    for b in batches:
        w = [width(c) for c in b]
        assert len(b) <= RECOG_BATCH and (len(b) == 1 or len(b) * max(w) <= RECOG_BATCH_PX)
        assert max(w) <= 1.4 * min(w) + 8
    assert max(len(b) for b in batches) == RECOG_BATCH
    assert [c[0] for c in batches[-1]] == [(999,)]


def test_preprocess_is_easyocrs_normalisation():
    """The table lookup gives exactly EasyOCR's float maths: (v - mean) / std per channel, zero-padded to 32."""
    rgb = np.random.default_rng(3).integers(0, 256, (70, 101, 3), dtype=np.uint8)
    x = craft_onnx.preprocess(rgb)
    assert x.shape == (1, 3, 96, 128) and x.dtype == np.float32
    want = np.zeros((96, 128, 3), np.float32)
    want[:70, :101] = rgb
    want -= np.array([0.485 * 255, 0.456 * 255, 0.406 * 255], dtype=np.float32)
    want /= np.array([0.229 * 255, 0.224 * 255, 0.225 * 255], dtype=np.float32)
    assert np.array_equal(x[0], want.transpose(2, 0, 1))


def test_detect_boxes_are_easyocrs_boxes(engine: OcrEngine):
    """Our ROI-limited CRAFT post-processing gives EasyOCR's getDetBoxes boxes, in its order, on real score maps
    (a form, a dark chat-like page, a turned page) and on random blobs that make diamonds, links and tiny parts."""
    from easyocr.craft_utils import getDetBoxes

    dark = 255 - render(["Re: invoice 2024-0042", "call me on +1 415 555 0142", "ok!"], 18, (640, 240))
    maps = [engine._craft(craft_onnx.preprocess(img))[0] for img in (form(), dark, np.rot90(form()).copy())]
    rng = np.random.default_rng(7)
    for _ in range(20):
        noise = rng.random((2, 96, 160)).astype(np.float32)
        blur = [np.clip(cv2.GaussianBlur(n, (0, 0), 3) * 3 - 1, 0, 1) for n in noise]
        maps.append(np.stack(blur, axis=2))
    count = 0
    for m in maps:
        want, _, _ = getDetBoxes(m[:, :, 0], m[:, :, 1], 0.7, 0.4, 0.4, False)
        got = craft_onnx.detect_boxes(m[:, :, 0], m[:, :, 1])
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert a.dtype == np.float32 and np.array_equal(a, np.asarray(b))
        count += len(got)
    assert count > 50


def test_text_regions_skip_blank_space_and_rules():
    """CRAFT looks only where something has edges: two blocks of text far apart are two regions even with a rule
    and a box border running between them; each region holds its text with REGION_PAD px around it, is a multiple of
    32 px (CRAFT's input unit) and much smaller than the page; a flat tile has none, and noise under 16 is flat."""
    page = Image.new("RGB", (900, 600), (240, 240, 240))
    d = ImageDraw.Draw(page)
    font = ImageFont.truetype(SANS, 12)
    d.text((60, 100), "Invoice 48213 approved", font=font, fill=(20, 20, 20))
    d.text((560, 420), "jane.doe@corpmail.com", font=font, fill=(200, 40, 40))  # colour, not just dark ink
    d.line((0, 300, 899, 300), fill=(120, 120, 120), width=2)
    d.rectangle((40, 80, 860, 560), outline=(150, 150, 150))
    tile = np.asarray(page)[:, :]
    regions = text_regions(tile)
    assert len(regions) == 2, regions
    for (x0, y0, x1, y1), (tx, ty) in zip(regions, ((60, 100), (560, 420))):
        assert x0 <= tx - REGION_PAD + 2 and y0 <= ty - REGION_PAD + 2 and x1 >= tx + 150 and y1 >= ty + 12
        assert (x1 - x0) % 32 == 0 and (y1 - y0) % 32 == 0
        assert (x1 - x0) * (y1 - y0) < 0.05 * tile.shape[0] * tile.shape[1]
    view = np.asarray(page)[50:550, 30:880]  # a strided view, as tiles are: region coordinates are the view's
    assert [(a + 30, b + 50, c + 30, e + 50) for a, b, c, e in text_regions(view)] == regions
    flat = np.full((300, 400, 3), 240, np.uint8)
    assert text_regions(flat) == []
    flat[10:20, 10:20] = 228  # a difference under 16 is noise, not ink
    assert text_regions(flat) == []
    assert text_regions(np.asarray(page.convert("L"))) == regions  # grey tiles too


def test_text_regions_of_a_photo_and_of_scattered_marks_are_bounded():
    """A photo's texture is one region (CRAFT sees it whole, as before); a page of scattered dots cannot make CRAFT
    run more than MAX_REGIONS times per tile."""
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 255, (700, 900, 3), dtype=np.uint8)
    assert text_regions(photo) == [(0, 0, 900, 700)]
    dots = np.full((1024, 1024), 255, np.uint8)
    dots[20::40, 20::40] = 0
    regions = text_regions(dots)
    assert 1 <= len(regions) <= MAX_REGIONS
    covered = np.zeros_like(dots, bool)
    for x0, y0, x1, y1 in regions:
        covered[y0:y1, x0:x1] = True
    assert covered[dots == 0].all()  # every mark is still looked at


def test_word_cut_by_a_tile_edge_is_one_box(engine: OcrEngine):
    """A long word across the seam of two tiles comes back as one word, not two halves. (13 px text is enlarged
    x1.29 for CRAFT: 1671 px, two tiles meeting between x=600 and x=700 of the page.)"""
    rgb = render(["Ref: jane.whitfield-consulting@corpmail.com was here"], 13, (1300, 80), (450, 30))
    scale = detection_scale(np.asarray(Image.fromarray(rgb).convert("L")))
    assert len(tile_spans(round(1300 * scale))) == 2
    words = engine.read(rgb)
    emails = [w for w in words if "consulting" in w.text or "corpmail" in w.text]
    assert len(emails) == 1 and "corpmail" in emails[0].text, words
    assert emails[0].box[0] <= 520 and emails[0].box[2] >= 735, words  # the seam is at 600..700


def test_turned_word_cut_by_a_tile_edge_is_one_box():
    """On a page turned by 90 degrees the tiles' seam runs across the text lines: the two halves of a word are tall
    boxes on one column, from different tiles, and are joined as wide halves on one row are."""
    def quad(x0, y0, x1, y1):
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)

    halves = [quad(100, 400, 118, 1030), quad(101, 1010, 119, 1300)]  # tiles 0 and 1, overlapping at 1010..1030
    joined = _dedupe_polys(halves, [0, 1])
    assert len(joined) == 1 and joined[0][:, 1].min() == 400 and joined[0][:, 1].max() == 1300
    # neighbouring columns (two turned lines) stay apart, and so do boxes of one tile
    assert len(_dedupe_polys([quad(100, 400, 118, 1030), quad(124, 1010, 142, 1300)], [0, 1])) == 2
    assert len(_dedupe_polys(halves, [0, 0])) == 2


def test_photo_without_text_skips_full_detection(engine: OcrEngine, monkeypatch):
    """A big text-free photo costs one coarse CRAFT pass, not a full-size one; text in a photo is still read."""
    rng = np.random.default_rng(1)  # smooth colour fields and blurred shapes, like sky, walls and foliage
    photo = np.asarray(Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize((2000, 1500), Image.BICUBIC))
    canvases: list[int] = []
    original = engine._craft_boxes

    def spy(tile, **kw):
        canvases.append(tile.shape[0] * tile.shape[1])
        return original(tile, **kw)

    monkeypatch.setattr(engine, "_craft_boxes", spy)
    assert not looks_like_text(np.asarray(Image.fromarray(photo).convert("L")))
    assert engine.read(photo) == []
    assert sum(canvases) <= COARSE_PIXELS * 1.2, canvases
    sign = Image.fromarray(photo.copy())
    d = ImageDraw.Draw(sign)
    d.rectangle((300, 500, 1500, 700), fill="white")
    d.text((330, 540), "ALL VISITORS MUST SIGN IN", font=ImageFont.truetype(SANS, 80), fill=(10, 10, 10))
    assert "VISITORS" in text_of(engine.read(np.asarray(sign))).upper()


def test_small_print_on_a_sheet_in_a_photo_passes_the_coarse_check(engine: OcrEngine):
    """The coarse pass only decides whether to look closer: 14 px print on a sheet of paper in a 2000x1500 photo
    (under 5 px on the coarse canvas) must still lead to the full read."""
    rng = np.random.default_rng(1)
    photo = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).resize((2000, 1500), Image.BICUBIC)
    d = ImageDraw.Draw(photo)
    d.rectangle((500, 400, 1400, 1000), fill=(235, 232, 225))
    font = ImageFont.truetype(SANS, 14)
    for i, line in enumerate(["Please contact our office", EMAIL, "Phone 555 0142 ext 12"]):
        d.text((540, 450 + i * 25), line, font=font, fill=(30, 30, 40))
    text = text_of(engine.read(np.asarray(photo)))
    assert "whitfield@acmecorp.io" in text and "contact" in text, text


def test_spaces_align_to_gaps_when_craft_merges_words():
    """CRAFT merged two words into one box and split another: each word still gets its own place."""
    words = split_line("Email: jane.doe@corp.com or call", (0, 0, 330, 20), 0.9,
                        [(0, 0, 60, 20), (70, 0, 240, 20), (250, 0, 330, 20)])
    boxes = {w.text: w.box for w in words}
    assert boxes["jane.doe@corp.com"][:1] == (70,) and boxes["jane.doe@corp.com"][2] == 240
    assert boxes["Email:"][2] == 60 and boxes["call"][2] == 330
    assert 250 <= boxes["or"][0] < boxes["call"][0]


def test_words_craft_boxed_together_are_placed_where_the_recogniser_read_them():
    """Small print: CRAFT boxed a whole sentence as one word, so no gap places its spaces; by character count the
    narrow 'on' would push the wide date left. The recogniser's character positions put each word where it is."""
    text = "Born on 12-Dec-1997 in"
    widths = [9, 9, 9, 9, 5, 9, 9, 5] + [12] * 11 + [5, 4, 9]  # px per character as printed (wide digits)
    lefts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    char_x = tuple(float(x + w / 2) for x, w in zip(lefts, widths))
    line = (10, 0, 10 + int(sum(widths)), 20)
    words = {w.text: w.box for w in split_line(text, line, 0.9, [line], char_x)}
    date_left = 10 + int(lefts[8])
    assert abs(words["12-Dec-1997"][0] - date_left) <= 3 and abs(words["12-Dec-1997"][2] - (date_left + 132)) <= 3
    by_count = {w.text: w.box for w in split_line(text, line, 0.9, [line])}
    assert abs(by_count["12-Dec-1997"][0] - date_left) > 3  # without positions: placed by character count


def test_table_cells_read_without_a_space_are_split_at_the_wide_blank():
    """Two cells read as one token ("...7539igarcia@..."): the wide blank between their CRAFT boxes is a word break.
    Blanks narrower than GLUE_GAP line-heights (the '@' and '.' of an address, a space that was read) stay as read."""
    text = "4454505122907539igarcia@web.de"
    char_x = tuple(5.0 + 10 * i for i in range(16)) + tuple(190.0 + 10 * i for i in range(14))
    line = (100, 0, 440, 20)
    boxes = [(100, 0, 262, 20), (282, 0, 340, 20), (342, 0, 440, 20)]  # 20 px blank, then a 2 px one at the '@'
    broken, xs = break_glued(text, char_x, line, boxes)
    assert broken == "4454505122907539 igarcia@web.de" and xs == char_x[:16] + (172.0,) + char_x[16:]
    assert break_glued("4454505122907539 igarcia@web.de", char_x[:16] + (180.0,) + char_x[16:], line, boxes)[0] \
        == "4454505122907539 igarcia@web.de"  # the space was read: nothing added
    assert break_glued(text, char_x, line, [(100, 0, 262, 20), (272, 0, 440, 20)])[0] == text  # 10 px: a space at most
    assert break_glued(text, char_x[:-1], line, boxes)[0] == text  # positions do not match the text: left alone


def test_text_lines_are_told_from_photos():
    page = render(["Quarterly figures attached", "Contact the finance team today", "Invoice 48213"], 20, (800, 300))
    assert looks_like_text(np.asarray(Image.fromarray(page).convert("L")))
    turned = np.rot90(np.asarray(Image.fromarray(page).convert("L")))
    assert looks_like_text(np.ascontiguousarray(turned))


@pytest.mark.parametrize("degrees", [-4, 3])
def test_tilted_page_is_read_level_with_lines_kept(engine: OcrEngine, degrees: int):
    """A page tilted by a few degrees (photo of a screen, crooked scan) is read level: the e-mail comes out whole,
    on one numbered line, and its box (in the tilted image) covers where it is."""
    page = Image.fromarray(render(["Invoice 48213 for March", f"Contact {EMAIL} today", "Total EUR 3958.00"],
                                  22, (900, 260), (40, 40)))
    tilted = page.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor="white")
    words = engine.read(np.asarray(tilted))
    assert words and all(w.line >= 0 for w in words), words
    email = [w for w in words if "@" in w.text]
    assert len(email) == 1 and "acmecorp" in email[0].text, text_of(words)
    contact = [w for w in words if w.text == "Contact"]
    assert contact and contact[0].line == email[0].line
    # the e-mail is drawn at x 140..470 on the untilted page: its box in the tilted image spans most of that width
    x0, _, x1, _ = email[0].box
    assert x1 - x0 >= 250, email


def test_tilted_log_of_short_tokens_is_read_line_by_line(engine: OcrEngine):
    """A tilted dense log: CRAFT boxes its short tokens upright around the tilted words and its long ones along the
    slant. Turned level, every box must be level too, or the short ones are read one by one and the addresses
    between them fall apart ("84", ".55.174.90")."""
    ips = ["91.233.55.182", "52.191.21.143", "31.37.12.172", "63.114.146.59", "198.167.184.132", "78.224.21.186",
           "203.92.224.228", "185.91.120.44"]
    lines = [f"08:0{i}:45Z  INFO  gw  ok  peer={ip}  port {5200 + 7 * i}  ssh2" for i, ip in enumerate(ips)]
    page = Image.fromarray(render(lines, 17, (820, 30 * len(lines) + 30), (20, 14)))
    tilted = page.rotate(-6, resample=Image.BICUBIC, expand=True, fillcolor="white")
    words = engine.read(np.asarray(tilted))
    found = [ip for ip in ips if any(ip in w.text for w in words)]
    assert len(found) >= len(ips) - 1, text_of(words)
    by_line: dict[int, list[str]] = {}
    for w in words:
        by_line.setdefault(w.line, []).append(w.text)
    assert len(by_line) <= len(lines) + 2, by_line  # lines, not tokens


def test_level_page_has_no_line_numbers(engine: OcrEngine):
    words = engine.read(render([f"Contact {EMAIL} today"], 22, (700, 80)))
    assert words and all(w.line == -1 for w in words)


def test_level_code_screenshot_is_not_taken_for_tilted(engine: OcrEngine):
    """CRAFT boxes that join two tight lines look slanted; the page's rows of ink say it is level."""
    lines = [f'{i}  DATABASE_URL = "postgres://app:LvuVeREARNFFzmjY@billing-db.eu-west-1.rds.net:5432/app"'
             for i in range(1, 9)]
    page = render(lines, 15, (1000, 260), (20, 10))
    grey = np.asarray(Image.fromarray(page).convert("L"))
    assert projection_tilt(grey, 2.5) == 0.0
    assert all(w.line == -1 for w in engine.read(page))
