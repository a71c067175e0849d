"""Fast checks of the benchmark corpus generator and of the benchmark's scoring and leakage measurement."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps

from bench import corpus
from bench.detection import SYNONYMS, benchmark, match_image, readable, summarize

LIMIT = 16  # the corpus is interleaved by category: the first 14 images cover every category once


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    return out, corpus.generate(out, seed=corpus.DEFAULT_SEED, limit=LIMIT)


def _items(manifest: dict, entity: str) -> list[dict]:
    return [it for e in manifest["images"] for it in e["items"] if it["entity"] == entity]


# ------------------------------------------------------------------------------------------------ generator

def test_full_corpus_plan_size_and_clean_share():
    specs = corpus.build_specs()
    assert 190 <= len(specs) <= 230
    assert 0.2 <= sum(s.clean for s in specs) / len(specs) <= 0.3
    assert {s.category for s in specs[:len(corpus.CATEGORIES)]} == set(corpus.CATEGORIES)
    geos = {s.geometry for s in specs}
    assert {"rotate", "rot90", "phone", "large", "exif_orient"} <= geos


def test_manifest_schema_and_boxes_inside(small):
    out, manifest = small
    assert manifest["version"] == corpus.MANIFEST_VERSION and len(manifest["images"]) == LIMIT
    assert json.loads((out / "manifest.json").read_text()) == manifest
    for e in manifest["images"]:
        img = ImageOps.exif_transpose(Image.open(out / e["file"]))
        assert img.size == (e["width"], e["height"]), e["file"]
        assert isinstance(e["clean"], bool) and e["clean"] == (not e["items"])
        for it in e["items"]:
            assert set(it) == {"entity", "box", "text", "source"}
            assert it["entity"] in SYNONYMS, it
            assert it["source"] in {"text", "face", "barcode", "metadata"}
            if it["source"] in ("text", "barcode"):
                assert isinstance(it["text"], str) and it["text"]
            if it["source"] == "metadata":
                assert it["box"] is None
                assert Image.open(out / e["file"]).getexif().get_ifd(0x8825), e["file"]
                continue
            x0, y0, x1, y1 = it["box"]
            assert 0 <= x0 < x1 <= e["width"] and 0 <= y0 < y1 <= e["height"], (e["file"], it)


def test_every_category_and_key_entity_present(small):
    _, manifest = small
    assert {e["category"] for e in manifest["images"]} == set(corpus.CATEGORIES)
    entities = {it["entity"] for e in manifest["images"] for it in e["items"]}
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "SECRET", "MRZ", "FACE",
            "PERSON", "EXIF_GPS"} <= entities


def test_mrz_check_digits():
    # ICAO 9303 part 4 and 5 specimens: the checker must accept them and reject a changed digit
    td3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    td1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
    assert corpus.mrz_valid(td3) and corpus.mrz_valid(td1)
    assert not corpus.mrz_valid([td3[0], td3[1].replace("7408122", "7408123")])
    assert corpus.mrz_td3("UTO", "Eriksson", "Anna Maria", "L898902C3", "UTO", "740812", "F", "120415")[0] == td3[0]


def test_generated_mrz_valid(small):
    _, manifest = small
    docs = [e for e in manifest["images"] if e["category"] in ("passport", "id_card")]
    assert docs
    for e in docs:
        lines = [it["text"] for it in e["items"] if it["entity"] == "MRZ"]
        assert len(lines) == (2 if e["category"] == "passport" else 3)
        assert corpus.mrz_valid(lines), lines
        for ln in lines:
            assert re.fullmatch(r"[A-Z0-9<]+", ln)


def test_cards_luhn_valid_and_accepted_by_presidio(small):
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    rec = CreditCardRecognizer()
    cards = _items(small[1], "CREDIT_CARD")
    assert cards
    for it in cards:
        assert corpus.luhn_ok(it["text"]) and rec.validate_result(it["text"]), it
    assert corpus.luhn_ok("4111 1111 1111 1111") and not corpus.luhn_ok("4111 1111 1111 1112")
    import random

    rng = random.Random(1)
    assert not any(corpus.luhn_ok(corpus.card(rng, valid=False)) for _ in range(50))


def test_ibans_mod97_valid_and_accepted_by_presidio(small):
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    rec = IbanRecognizer()
    ibans = _items(small[1], "IBAN_CODE")
    assert ibans
    for it in ibans:
        assert corpus.iban_ok(it["text"]) and rec.validate_result(it["text"]), it
    assert corpus.iban_ok("GB82 WEST 1234 5698 7654 32") and not corpus.iban_ok("GB82 WEST 1234 5698 7654 33")
    import random

    rng = random.Random(3)
    for country, length in (("DE", 22), ("GB", 22), ("FR", 27)):
        value = corpus.iban(rng, country).replace(" ", "")
        assert len(value) == length and corpus.iban_ok(value) and rec.validate_result(value)


def test_ssns_valid_and_not_well_known(small):
    from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

    rec = UsSsnRecognizer()
    import random

    rng = random.Random(5)
    values = [it["text"] for it in _items(small[1], "US_SSN")] + [corpus.ssn(rng) for _ in range(300)]
    for v in values:
        area, group, serial = v.split("-")
        assert area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000", v
        assert v.replace("-", "") not in corpus.WELL_KNOWN_SSNS
        assert not rec.invalidate_result(v), v


def test_deterministic_with_same_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ma = corpus.generate(a, seed=11, limit=5)
    mb = corpus.generate(b, seed=11, limit=5)
    mc = corpus.generate(c, seed=12, limit=5)
    assert ma["images"] == mb["images"]
    for e in ma["images"]:
        assert (a / e["file"]).read_bytes() == (b / e["file"]).read_bytes(), e["file"]
    assert ma["images"] != mc["images"]


# ------------------------------------------------------------------------------------------------ scoring

def test_match_iou_coverage_synonyms_and_precision():
    items = [
        {"entity": "PERSON", "box": [100, 100, 300, 120], "text": "Anna Maria Eriksson"},
        {"entity": "DATE_OF_BIRTH", "box": [100, 200, 200, 220], "text": "01/02/1980"},
        {"entity": "EMAIL_ADDRESS", "box": [100, 300, 400, 320], "text": "a@b.io"},
        {"entity": "EXIF_GPS", "box": None, "text": None},
        {"entity": "US_SSN", "box": [500, 500, 600, 520], "text": "536-22-1947"},
    ]
    findings = [
        # three word boxes: none alone has IoU >= 0.3, together they cover the name -> found, each a TP
        {"entity": "PERSON", "box": [100, 100, 160, 120], "score": 0.85},
        {"entity": "PERSON", "box": [165, 100, 230, 120], "score": 0.85},
        {"entity": "PERSON", "box": [235, 100, 300, 120], "score": 0.85},
        {"entity": "DATE_TIME", "box": [105, 198, 205, 222], "score": 0.6},  # synonym, IoU ~0.8
        {"entity": "PHONE_NUMBER", "box": [100, 300, 400, 320], "score": 0.9},  # right place, wrong entity
        {"entity": "EXIF_GPS", "box": None, "score": 1.0},
        {"entity": "US_SSN", "box": [590, 500, 700, 520], "score": 0.9},  # only 10% overlap -> miss and FP
    ]
    found, tp = match_image(items, findings)
    assert found == [True, True, False, True, False]
    assert tp == [True, True, True, True, False, True, False]


def test_match_single_word_is_not_enough_for_long_item_and_score_filter():
    items = [{"entity": "PERSON", "box": [0, 0, 300, 20], "text": "Anna Maria Eriksson"}]
    word = [{"entity": "PERSON", "box": [0, 0, 80, 20], "score": 0.85}]  # IoU 0.27, covers 27%
    assert match_image(items, word) == ([False], [True])  # a true word, but not 50% of the name
    whole = [{"entity": "PERSON", "box": [0, 0, 300, 20], "score": 0.3}]
    assert match_image(items, whole) == ([True], [True])
    assert match_image(items, whole, min_score=0.5) == ([False], [])


def test_readable_normalizes_and_needs_most_of_value():
    assert readable("536-22-1947", "SSN: 536 22 1947.", numeric=True)
    assert not readable("536-22-1947", "SSN: ***-**-1947", numeric=True)
    assert readable("jane.roe@corp.io", "Email jane.roe@corp.io", numeric=False)
    key = "AKIAZ7QWERTYUIOPLKJH"
    assert readable(key, "export KEY=" + key[:14] + "#######", numeric=False)  # 70% visible is a leak
    assert not readable(key, "export KEY=" + key[:6] + "##############", numeric=False)


def test_summary_counts_clean_false_positives():
    images = [{"file": "a", "clean": True, "items": []}, {"file": "b", "clean": True, "items": []}]
    results = [{"file": "a", "clean": True, "tools": {"ours": {"findings": [{"entity": "PERSON", "box": [0, 0, 1, 1],
                                                                            "score": 0.4}],
                                                               "found": [], "tp": [False], "leaked": {},
                                                               "seconds": 1.0, "error": ""}}},
               {"file": "b", "clean": True, "tools": {"ours": {"findings": [{"entity": "URL", "box": [0, 0, 1, 1],
                                                                            "score": 0.5}],
                                                               "found": [], "tp": [False], "leaked": {},
                                                               "seconds": 3.0, "error": ""}}}]
    s = summarize(images, results, ["ours"])
    assert s["ours"]["clean_flagged"] == 1 and s["ours"]["clean_flagged_files"] == ["b"]
    assert s["ours"]["latency_p50"] == 1.0 and s["ours"]["latency_p95"] == 3.0


# ------------------------------------------------------------------------------------------------ leakage

class _GroundTruthInspector:
    """Finds exactly the ground truth; redacts by painting boxes black and dropping metadata."""

    def __init__(self, manifest: dict, root: Path) -> None:
        self.by_bytes = {(root / e["file"]).read_bytes(): e for e in manifest["images"]}

    def inspect(self, data: bytes):
        from gateway.models import Finding, ImageReport

        e = self.by_bytes[data]
        findings = [Finding(it["entity"], it["source"], 0.9, tuple(it["box"]) if it["box"] else None)
                    for it in e["items"]]
        return ImageReport(sha256="", size_bytes=len(data), findings=findings)

    def redact(self, data: bytes, findings) -> bytes:
        img = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        draw = ImageDraw.Draw(img)
        for f in findings:
            if f.box:
                draw.rectangle(f.box, fill=(0, 0, 0))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return buf.getvalue()


class _LeakyBaseline:
    """Claims the ground truth but returns the image unredacted: the probe must see the leak."""

    def __init__(self, manifest: dict) -> None:
        self.items = {e["width"] * 100000 + e["height"]: e["items"] for e in manifest["images"]}

    def run(self, image: Image.Image):
        from bench.presidio_baseline import BaselineResult

        items = self.items[image.width * 100000 + image.height]
        return BaselineResult([{"entity": it["entity"], "box": it["box"], "score": 0.9} for it in items],
                              image.copy(), 0.01)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Debian tesseract-ocr")
def test_leakage_probe_sees_unredacted_text_and_not_redacted(small):
    pytest.importorskip("pytesseract")
    out, manifest = small
    sub = {**manifest, "images": [e for e in manifest["images"] if e["category"] in ("hr_form",
                                                                                  "face_photo", "qr_card")]}
    assert len({e["width"] * 100000 + e["height"] for e in sub["images"]}) == len(sub["images"])
    root = out / "sub"
    root.mkdir()
    for e in sub["images"]:
        shutil.copy(out / e["file"], root / e["file"])
    (root / "manifest.json").write_text(json.dumps(sub))
    result = benchmark(root, _GroundTruthInspector(sub, root), _LeakyBaseline(sub), log=None)
    s = result["summary"]
    assert all(row["ours"]["recall"] == 1.0 for row in s["entities"].values())
    assert s["ours"]["leak_checked"] >= 10
    assert s["ours"]["leaked"] == 0, s["ours"]["leak_by_entity"]
    # most of what the probe could read on the original it must read again on the unredacted copy
    assert s["presidio"]["leaked"] >= 0.9 * s["presidio"]["leak_checked"] > 0
    assert "FACE" in s["presidio"]["leak_by_entity"] or "EMAIL_ADDRESS" in s["presidio"]["leak_by_entity"]
