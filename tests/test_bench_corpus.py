"""Fast checks of the benchmark corpus generator (both splits, no OCR) and of the benchmark's scoring and leakage
measurement."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from PIL import Image, ImageDraw, ImageOps

from bench import corpus, manifest as contract, scenes
from bench.detection import benchmark, match_image, readable, summarize

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 18  # the dev split's first 18 images: the 14 manifest-version-1 categories once, 4 widened ones
TEST_LIMIT = 24  # the test split is interleaved by category: its first 21 images cover every category once
# Items and pixels of dev-split images at seed 7 as bench/corpus.py rendered them before the splits existed
# (manifest version 1, main at fe04a3e): sha256 of the items' JSON (sorted keys) and of the decoded pixels.
GOLDEN_V1 = {
    "0000_letter.jpg": ("1d6df766c1021a58", "90e43689deec7834"),
    "0001_invoice.jpg": ("8cb644e6554ecf7e", "b65fda21d20b9a79"),
    "0002_hr_form.png": ("cb88391b0d53549d", "3d48b2e3cae9f435"),
    "0003_it_ticket.jpg": ("d94caf33e0665f6b", "ed28fbd28f22bd60"),
    "0004_directory.png": ("d95ce6390576105d", "430effad8e1c0562"),
    "0005_chat_light.png": ("077bab3d8504edbe", "23857a3218fffc63"),
    "0006_chat_dark.png": ("d250b1ba563878f3", "41e3b29a76c75082"),
    "0007_code_editor.jpg": ("9e744f3ac77cace3", "e6be40f11e6e3dad"),
    "0008_terminal.png": ("4f53cda18c2baa0c", "5c040bc87f48b1ca"),
    "0009_passport.jpg": ("11fa42ab01568bcc", "61f0ef4cc7ed4815"),
    "0010_id_card.png": ("a2d6c0c14510cdc2", "2301525eeb636752"),
    "0011_face_photo.jpg": ("e29c1bae43aed36d", "88a8c7b8d3bb09bc"),
    "0012_gps_photo.jpg": ("4f53cda18c2baa0c", "ef806745ef915f25"),
    "0013_qr_card.png": ("4f53cda18c2baa0c", "1b60ad9608073712"),
    "0029_invoice.jpg": ("2c0b6d737de82938", "aacd3134e92d348e"),  # rotated
    "0058_hr_form.png": ("f75205c41c206ce2", "5375a89727ecf916"),  # turned 90 degrees
    "0065_passport.png": ("b05f7e159387724a", "617e5bc3d4ce20e6"),  # 3000x2000
    "0078_terminal.png": ("1deee3fa9d61c49b", "5fbe4c50d3989847"),  # turned 90 degrees
    "0106_id_card.jpg": ("74a1a6d785506f3e", "ce6bca84718f277e"),  # EXIF-rotated
    "0196_terminal.jpg": ("8c9c3a989ba3c565", "6bfae33881a5a239"),  # phone photo, a PEM block over 7 lines
}
PROJECTIVE = {"rotate", "tilt", "phone", "photo"}  # geometries that do not keep boxes axis-aligned


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    return out, corpus.generate(out, seed=corpus.DEFAULT_SEED, limit=LIMIT)


@pytest.fixture(scope="module")
def small_test(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus_test")
    return out, corpus.generate(out, limit=TEST_LIMIT, split="test")


@pytest.fixture(scope="module")
def one_per_category() -> list[tuple[corpus.Spec, corpus.Scene]]:
    """Every template of both splits once with labelled items (and once clean where it has clean images),
    undegraded, plus each degradation once."""
    out = []
    for split in corpus.SPLITS:
        for name, cat in scenes.split_categories(split).items():
            for clean in ([False, True] if cat.n_clean else [False]):
                spec = corpus.Spec(5000 + len(out), name, clean, split=split)
                out.append((spec, corpus.render_scene(spec)))
    for k, geometry in enumerate(corpus.GEOMETRIES[1:]):
        spec = corpus.Spec(6000 + k, ["bank_letter", "log_tail", "id_card_pair", "sms_thread"][k % 4], False,
                           geometry=geometry, split="test")
        out.append((spec, corpus.render_scene(spec)))
    return out


def _items(manifest: dict, entity: str) -> list[dict]:
    return [it for e in manifest["images"] for it in e["items"] if it["entity"] == entity]


def _squash(s: str) -> str:
    return re.sub(r"[\s-]+", "", s).upper()


def _assert_drawn(entry: dict) -> None:
    """Every text item lies inside the union of the runs that spell it, and inside the image."""
    w, h = entry["width"], entry["height"]
    for it in entry["items"]:
        if it["box"] is None:
            continue
        x0, y0, x1, y1 = it["box"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (entry["file"], it)
        if it["source"] != "text":
            continue
        runs = [t for t in entry["texts"] if t["box"][0] >= x0 - 1 and t["box"][1] >= y0 - 1
                and t["box"][2] <= x1 + 1 and t["box"][3] <= y1 + 1]
        assert runs, (entry["file"], it)
        assert _squash(it["text"]) in _squash("".join(t["text"] for t in runs)), (entry["file"], it, runs)
        # a multi-line item's box is the bounding box of its transformed corners: on a tilted or photographed
        # page that reaches past its lines' own boxes by at most about one line
        tol = 1 + (max(t["box"][3] - t["box"][1] for t in runs) if entry["geometry"] in PROJECTIVE else 0)
        union = [min(t["box"][0] for t in runs), min(t["box"][1] for t in runs),
                 max(t["box"][2] for t in runs), max(t["box"][3] for t in runs)]
        assert (x0 >= union[0] - tol and y0 >= union[1] - tol and x1 <= union[2] + tol and y1 <= union[3] + tol), \
            (entry["file"], it, union)


def _entry(spec: corpus.Spec, scene: corpus.Scene) -> dict:
    return {"file": f"{spec.index}_{spec.category}", "geometry": spec.geometry, "width": scene.img.width,
            "height": scene.img.height, "items": [i.to_json() for i in scene.items],
            "texts": [t.to_json() for t in scene.texts]}


# ------------------------------------------------------------------------------------------------ generator

def test_import_needs_no_fonts_or_photos_and_generating_names_the_package(tmp_path):
    # a machine with none of the files: importing (pytest collection) works, generating fails with the apt package
    code = ("import pathlib, runpy, sys; pathlib.Path.exists = lambda self: False\n"
            "import bench.corpus, bench.scenes\n"
            f"sys.argv = ['bench.corpus', '--limit', '1', '--out', {str(tmp_path)!r}]\n"
            "runpy.run_module('bench.corpus', run_name='__main__')\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert re.search(r"error: font \S+ is missing: apt-get install fonts-(dejavu-core|liberation)", run.stderr)
    assert "Traceback" not in run.stderr


def test_missing_photo_names_opencv_doc(monkeypatch, tmp_path):
    monkeypatch.setattr(corpus, "_OPENCV_DATA", tmp_path)
    monkeypatch.setattr(corpus, "_photo_paths_cache", {})
    monkeypatch.setattr(corpus, "_photo_cache", {})
    with pytest.raises(corpus.MissingAsset, match="apt-get install opencv-doc"):
        corpus.photo("messi")
    assert corpus.photo("astronaut").size == (512, 512)  # scikit-image's own sample is still there


def test_plans_sizes_clean_share_and_degradations():
    dev, test = corpus.build_specs(split="dev"), corpus.build_specs(split="test")
    assert 260 <= len(dev) <= 300 and 220 <= len(test) <= 270
    for specs in (dev, test):
        assert 0.2 <= sum(s.clean for s in specs) / len(specs) <= 0.3
        assert len({s.index for s in specs}) == len(specs)
    assert {s.index for s in dev if s.category in scenes.LEGACY} == set(range(203))
    assert {s.category for s in dev[:LIMIT]} >= set(scenes.LEGACY)
    assert {s.category for s in test[:len(scenes.TEST)]} == set(scenes.TEST)
    text_like = [s for s in test if scenes.TEST[s.category].text_like]
    assert 0.4 <= sum(s.geometry != "none" for s in text_like) / len(text_like) <= 0.65
    assert {"photo", "tilt", "downscale", "upscale", "rescreen"} <= {s.geometry for s in test}
    assert {"rotate", "rot90", "phone", "large", "exif_orient", "photo", "downscale"} <= {s.geometry for s in dev}
    assert any(s.jpeg_quality is not None and s.jpeg_quality <= 35 for s in test)


def test_dev_and_test_share_no_template_and_no_font_family():
    dev, test = {**scenes.LEGACY, **scenes.DEV}, scenes.TEST
    assert not set(dev) & set(test)
    assert not {c.render for c in dev.values()} & {c.render for c in test.values()}
    assert corpus.split_families("dev") & corpus.split_families("test") == corpus.SHARED_FAMILIES == {"OCR-B"}
    lineage = lambda split: {corpus.FACES[n].lineage for n in corpus.split_faces(split)}  # noqa: E731
    assert lineage("dev") & lineage("test") == {"OCR-B"}
    assert len(corpus.split_families("dev")) >= 15 and len(corpus.split_families("test")) >= 15
    for split in corpus.SPLITS:
        roles = corpus.FONT_ROLES[split]
        assert {"sans", "serif", "mono", "condensed", "hand", "ocrb"} <= set(roles)


def test_dev_and_test_share_no_theme(one_per_category, small, small_test):
    themes = {split: {sc.theme for s, sc in one_per_category if s.split == split} for split in corpus.SPLITS}
    for _, m in (small, small_test):
        themes[m["split"]] |= {e["theme"] for e in m["images"]}
    assert len(themes["test"] - {None}) >= 15 and not (themes["dev"] & themes["test"]) - {None}


def test_a_template_cannot_draw_with_the_other_splits_fonts():
    from bench.scenes import documents, tables

    corpus._ACTIVE_SPLIT.append("test")
    try:
        with pytest.raises(AssertionError, match="not a test-split font"):
            documents.letter(random.Random(1), False)
    finally:
        corpus._ACTIVE_SPLIT.pop()
    corpus._ACTIVE_SPLIT.append("dev")
    try:
        with pytest.raises(AssertionError, match="not a dev-split font"):
            tables.crm_table(random.Random(1), False)
    finally:
        corpus._ACTIVE_SPLIT.pop()


def test_every_template_draws_exactly_what_it_labels(one_per_category):
    seen = set()
    for spec, scene in one_per_category:
        entry = _entry(spec, scene)
        assert spec.clean == (not scene.items), spec
        assert scene.faces <= corpus.split_faces(spec.split), (spec, scene.faces - corpus.split_faces(spec.split))
        if scenes.category(spec.split, spec.category).text_like:
            assert scene.texts and scene.theme, spec
        for t in scene.texts:
            x0, y0, x1, y1 = t.box
            assert 0 <= x0 < x1 <= scene.img.width and 0 <= y0 < y1 <= scene.img.height and t.text.strip(), (spec, t)
        _assert_drawn(entry)
        seen |= {it.entity for it in scene.items}
        if spec.geometry != "none":
            assert scene.items and all(it.box is None or it.box[2] <= scene.img.width for it in scene.items)
    assert seen == contract.ENTITIES


def test_widened_templates_draw_what_the_issue_names(one_per_category):
    texts = {(s.split, s.category): " ".join(t.text for t in sc.texts) for s, sc in one_per_category if not s.clean}
    joined = " ".join(texts.values())
    emails = [it.text for _, sc in one_per_category for it in sc.items if it.entity == "EMAIL_ADDRESS"]
    assert {c for e in emails for c in "_+-." if c in e.split("@")[0]} == set("_+-.")
    ips = [it.text for _, sc in one_per_category for it in sc.items if it.entity == "IP_ADDRESS"]
    assert any("::" in ip for ip in ips) and any(re.fullmatch(r"[\d.]+", ip) for ip in ips)
    secrets = [it.text for _, sc in one_per_category for it in sc.items if it.entity == "SECRET"]
    assert any(re.search(r"://[^:]+:[^@]*[%!][^@]*@", s) for s in secrets)
    assert "user=" in joined
    xh = [sc.min_xheight for s, sc in one_per_category if sc.min_xheight and s.geometry == "none"]
    assert min(xh) <= 7 and max(sc.min_xheight or 0 for _, sc in one_per_category) >= 25
    mrz_faces = {corpus.FACES[n].family for s, sc in one_per_category
                 if s.category in ("id_card_pair", "passport_td3", "residence_permit", "id_td2") for n in sc.faces}
    assert "OCR-B" in mrz_faces


def test_manifests_validate_against_the_contract(small, small_test):
    for out, m in (small, small_test):
        assert contract.validate(m, out) == []
        assert json.loads((out / "manifest.json").read_text()) == m
        assert all(e["split"] == m["split"] for e in m["images"])
        for e in m["images"]:
            _assert_drawn(e)
            for it in e["items"]:
                if it["source"] == "metadata":
                    assert Image.open(out / e["file"]).getexif().get_ifd(0x8825), e["file"]
    broken = json.loads(json.dumps(small[1]))
    broken["images"][0]["texts"].append({"text": "x", "box": [0, 0, 10**6, 5]})
    broken["images"][1]["items"].append({"entity": "NAME", "box": None, "text": None, "source": "text"})
    del broken["images"][2]["split"]
    errs = contract.validate(broken, small[0])
    assert len(errs) == 5, errs
    assert "text 67: box [0, 0, 1000000, 5] is empty or outside" in errs[0] or any("outside" in e for e in errs)
    assert any("unknown entity 'NAME'" in e for e in errs) and any("needs its text" in e for e in errs)
    assert any("0002" in e and "split must be str" in e for e in errs)


def test_every_category_and_key_entity_present(small, small_test):
    assert {e["category"] for e in small[1]["images"]} >= set(scenes.LEGACY)
    assert {e["category"] for e in small_test[1]["images"]} == set(scenes.TEST)
    for _, m in (small, small_test):
        entities = {it["entity"] for e in m["images"] for it in e["items"]}
        assert {"EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "SECRET", "MRZ", "FACE",
                "PERSON", "LOCATION", "IP_ADDRESS"} <= entities


def test_dev_seed7_keeps_the_manifest_v1_images_and_items():
    specs = {f"{s.index:04d}_{s.category}": s for s in corpus.build_specs(corpus.DEFAULT_SEED, "dev")}
    for name, (items_sha, pixels_sha) in GOLDEN_V1.items():
        stem, ext = name.rsplit(".", 1)
        data, got_ext, entry = corpus.render(specs[stem], corpus.DEFAULT_SEED)
        assert got_ext == ext, name
        assert hashlib.sha256(json.dumps(entry["items"], sort_keys=True).encode()).hexdigest()[:16] == items_sha, name
        assert hashlib.sha256(Image.open(io.BytesIO(data)).tobytes()).hexdigest()[:16] == pixels_sha, name


def test_mrz_check_digits():
    # ICAO 9303 part 4 and 5 specimens: the checker must accept them and reject a changed digit
    td3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    td1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
    td2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]  # part 6 specimen
    mrvb = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"]  # part 7 specimen
    assert corpus.mrz_valid(td3) and corpus.mrz_valid(td1) and corpus.mrz_valid(td2) and corpus.mrz_valid(mrvb)
    assert not corpus.mrz_valid([td3[0], td3[1].replace("7408122", "7408123")])
    assert not corpus.mrz_valid([td2[0], td2[1][:-1] + "5"]) and not corpus.mrz_valid([mrvb[0], mrvb[1].replace("8F", "9F")])
    assert corpus.mrz_td3("UTO", "Eriksson", "Anna Maria", "L898902C3", "UTO", "740812", "F", "120415")[0] == td3[0]
    assert list(corpus.mrz_td2("UTO", "Eriksson", "Anna Maria", "D23145890", "UTO", "740812", "F", "120415")) == td2
    assert list(corpus.mrz_mrvb("UTO", "Eriksson", "Anna Maria", "L8988901C", "XXX", "400907", "F", "961210")) == mrvb


def test_generated_mrz_valid(small, small_test):
    docs = [e for _, m in (small, small_test) for e in m["images"] if any(it["entity"] == "MRZ" for it in e["items"])]
    assert len({e["category"] for e in docs}) >= 4
    for e in docs:
        lines = [it["text"] for it in e["items"] if it["entity"] == "MRZ"]
        assert len(lines) in (2, 3) and corpus.mrz_valid(lines), lines
        for ln in lines:
            assert re.fullmatch(r"[A-Z0-9<]+", ln)


def test_cards_luhn_valid_and_accepted_by_presidio(small, small_test):
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    rec = CreditCardRecognizer()
    cards = _items(small[1], "CREDIT_CARD") + _items(small_test[1], "CREDIT_CARD")
    assert cards
    for it in cards:
        assert corpus.luhn_ok(it["text"]) and rec.validate_result(it["text"]), it
    assert corpus.luhn_ok("4111 1111 1111 1111") and not corpus.luhn_ok("4111 1111 1111 1112")
    rng = random.Random(1)
    assert not any(corpus.luhn_ok(corpus.card(rng, valid=False)) for _ in range(50))


def test_ibans_mod97_valid_and_accepted_by_presidio(small, small_test):
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    rec = IbanRecognizer()
    ibans = _items(small[1], "IBAN_CODE") + _items(small_test[1], "IBAN_CODE")
    assert ibans
    for it in ibans:
        assert corpus.iban_ok(it["text"]) and rec.validate_result(it["text"]), it
        assert all(len(g) == 4 for g in it["text"].split(" ")[:-1]), it  # printed in groups of four
    assert corpus.iban_ok("GB82 WEST 1234 5698 7654 32") and not corpus.iban_ok("GB82 WEST 1234 5698 7654 33")
    rng = random.Random(3)
    for country, length in (("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18), ("BE", 16), ("ES", 24), ("AT", 20),
                            ("CH", 21)):
        for _ in range(20):
            value = corpus.iban_wide(rng, country).replace(" ", "")
            assert len(value) == length and corpus.iban_ok(value) and rec.validate_result(value), value
    es = corpus.iban_wide(rng, "ES").replace(" ", "")
    assert corpus._es_check("00" + es[4:12]) == es[12] and corpus._es_check(es[14:]) == es[13]
    be = corpus.iban_wide(rng, "BE").replace(" ", "")
    assert int(be[4:14]) % 97 == int(be[14:]) % 97 or int(be[14:]) == 97


def test_ssns_valid_and_not_well_known(small, small_test):
    from presidio_analyzer.predefined_recognizers import UsSsnRecognizer

    rec = UsSsnRecognizer()
    rng = random.Random(5)
    values = [it["text"] for _, m in (small, small_test) for it in _items(m, "US_SSN")]
    values += [corpus.ssn(rng) for _ in range(300)]
    for v in values:
        area, group, serial = v.split("-")
        assert area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000", v
        assert v.replace("-", "") not in corpus.WELL_KNOWN_SSNS
        assert not rec.invalidate_result(v), v


def test_phones_valid_for_phonenumbers(small, small_test):
    regions = [None, "US", "GB", "DE", "FR", "NL", "IT", "ES", "CA", "AU", "CH"]

    def valid(text: str) -> bool:
        for r in regions:
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(text, r)):
                    return True
            except phonenumbers.NumberParseException:
                continue
        return False

    rng = random.Random(9)
    values = [it["text"] for _, m in (small, small_test) for it in _items(m, "PHONE_NUMBER") if it["source"] == "text"]
    values += [corpus.phone_wide(rng, r) for r in regions[1:] for _ in range(20)]
    assert len(values) > 200
    assert all(valid(v) for v in values), [v for v in values if not valid(v)]


def test_splits_deterministic_and_seeded(tmp_path):
    for split in corpus.SPLITS:
        a, b, c = tmp_path / f"{split}a", tmp_path / f"{split}b", tmp_path / f"{split}c"
        seed = corpus.SPLIT_SEEDS[split]
        ma, mb = corpus.generate(a, seed, 5, split), corpus.generate(b, seed, 5, split)
        mc = corpus.generate(c, seed + 1, 5, split)
        assert ma == mb and ma["split"] == split and ma["seed"] == seed
        for e in ma["images"]:
            assert (a / e["file"]).read_bytes() == (b / e["file"]).read_bytes(), e["file"]
        assert ma["images"] != mc["images"]
    assert corpus.SPLIT_SEEDS["dev"] != corpus.SPLIT_SEEDS["test"]


def test_limit_is_a_prefix(tmp_path, small_test):
    m = corpus.generate(tmp_path, limit=7, split="test")
    assert m["images"] == small_test[1]["images"][:7]
    names = [f"{s.index:04d}_{s.category}" for s in corpus.build_specs(split="dev")[:LIMIT]]
    assert [e["file"].rsplit(".", 1)[0] for e in corpus.generate(tmp_path / "d", limit=4)["images"]] == names[:4]


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
