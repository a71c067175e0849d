"""The detection benchmark's scoring: reading CER, leakage over every readable item, policy outcomes, the multi-split
CLI, its tables and bench.compare. Fast: fake inspectors and readers on images drawn here (real models only in the
two tests marked slow)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from bench import compare, detection, reading, tables
from bench.detection import RecordingOcr, parse_corpora, run_splits, score_image, summarize
from bench.leakage import Forwarded, still_readable
from bench.outcomes import Destination, acting_entities, expected, outcome_summary
from gateway.models import Finding, ImageReport
from gateway.policy import load_default_policy, load_policy_text
from tests.support.images import gps_exif

INK = (120, 120, 120)
DEST = Destination()


@pytest.fixture(scope="module")
def policy():
    return load_default_policy()


# ------------------------------------------------------------------------------------------------ CER

def _reference_distance(ref: str, hyp: str, partial: bool = False) -> int:
    prev = [0] * (len(hyp) + 1) if partial else list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        cur = [i]
        for j, b in enumerate(hyp, 1):
            cur.append(min(prev[j - 1] + (a != b), prev[j] + 1, cur[j - 1] + 1))
        prev = cur
    return min(prev) if partial else prev[-1]


def test_edit_distance_matches_the_textbook_recurrence():
    assert reading.edit_distance("kitten", "sitting") == 3
    assert reading.edit_distance("abc", "") == 3 and reading.edit_distance("", "abc") == 3
    assert reading.edit_distance("abc", "xxabcxx", partial=True) == 0
    assert reading.edit_distance("abc", "xxabxx", partial=True) == 1
    rng = random.Random(3)
    for _ in range(300):
        ref = "".join(rng.choice("ab@._ 1") for _ in range(rng.randint(0, 12)))
        hyp = "".join(rng.choice("ab@._ 1") for _ in range(rng.randint(0, 15)))
        for partial in (False, True):
            assert reading.edit_distance(ref, hyp, partial=partial) == _reference_distance(ref, hyp, partial), \
                (ref, hyp, partial)


def test_runs_get_the_words_whose_centres_fall_inside_joined_in_reading_order():
    texts = [{"text": "Jane  Roe", "box": [10, 10, 110, 30]},          # whitespace collapses
             {"text": "jane.roe@corp.io", "box": [130, 10, 300, 30]},
             {"text": "Tel: 555", "box": [10, 60, 110, 80]}]           # nothing read there
    words = [("Jane", (10, 11, 50, 29)), ("Roe", (55, 11, 108, 29)),
             ("jane.roe@corp", (130, 12, 260, 30)), (".io", (262, 12, 299, 31)),  # OCR split at the dot
             ("noise", (400, 300, 450, 320))]                           # outside every run
    reads = reading.read_runs(texts, words)
    assert [r.hyp for r in reads] == ["Jane Roe", "jane.roe@corp .io", ""]
    assert [r.distance for r in reads] == [0, 1, 8]
    assert [r.length for r in reads] == [8, 16, 8]
    t = reading.tally([("form", r.to_json()) for r in reads])
    assert t["all"]["cer"] == pytest.approx(9 / 32)  # summed distances / summed lengths, not a mean of ratios
    assert t["all"]["exact"] == 1 and t["all"]["runs"] == 3 and t["form"]["exact_share"] == pytest.approx(1 / 3)


def test_a_word_between_two_padded_runs_goes_to_the_nearer_one_only():
    boxes = [[0, 0, 100, 20], [104, 0, 200, 20]]
    # padded by 6 px (0.3 x 20), the areas overlap between x=98 and x=106
    words = [("left", (60, 2, 101, 18)), ("right", (103, 2, 140, 18))]
    assert reading.assign_words(boxes, words) == ["left", "right"]
    overlap = [("mid", (98, 2, 104, 18))]  # centre x=101: inside both padded areas, 1 px from the first box
    assert reading.assign_words(boxes, overlap) == ["mid", ""]


def test_labelled_values_score_the_best_matching_stretch_of_their_box():
    items = [{"entity": "US_SSN", "text": "536-22-1947", "box": [10, 10, 200, 30], "source": "text"},
             {"entity": "SECRET", "text": "MIIEabc", "box": [10, 50, 300, 120], "source": "text"},
             {"entity": "FACE", "text": None, "box": [400, 10, 500, 110], "source": "face"},
             {"entity": "EMAIL_ADDRESS", "text": "a@b.io", "box": [10, 200, 100, 220], "source": "barcode"}]
    words = [("SSN:", (10, 10, 50, 30)), ("536-22-1941", (55, 10, 200, 30)),
             ("MIIEabc", (10, 50, 120, 70)), ("defghij", (10, 75, 120, 95)), ("klm", (10, 100, 60, 120))]
    reads = reading.read_items(items, words)
    assert set(reads) == {0, 1}  # faces and codes are not read by OCR
    assert reads[0].hyp == "SSN: 536-22-1941" and reads[0].distance == 1 and reads[0].length == 11
    assert reads[1].distance == 0  # the first line of a PEM-like block, the rest of the block costs nothing


# ------------------------------------------------------------------------------------------------ leakage

class FakeProbe:
    """Reads a text/face item when its box still holds INK pixels, and GPS when the bytes carry a GPS IFD."""

    def __init__(self) -> None:
        self.calls = 0

    def visible(self, img, data, item, geometry, psms=("6", "11")):
        self.calls += 1
        if item.get("source") == "metadata":
            return "exif" if Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825) else None
        x0, y0, x1, y1 = item["box"]
        region = img.crop((x0, y0, x1, y1)).convert("RGB")
        return "6" if INK in [c for _, c in region.getcolors(1 << 16)] else None


class FakeInspector:
    """Reports the findings it is given; redacts by painting their boxes black and dropping metadata."""

    def __init__(self, findings: list[Finding], crash: bool = False, broken_redact: bool = False) -> None:
        self.findings, self.crash, self.broken_redact = findings, crash, broken_redact

    def inspect(self, data: bytes) -> ImageReport:
        if self.crash:
            raise RuntimeError("boom")
        return ImageReport(sha256="x", size_bytes=len(data), findings=list(self.findings))

    def redact(self, data: bytes, findings) -> bytes:
        if self.broken_redact:
            raise ValueError("cannot encode")
        img = Image.open(io.BytesIO(data)).convert("RGB")
        draw = ImageDraw.Draw(img)
        for f in findings:
            if f.box:
                draw.rectangle(f.box, fill=(0, 0, 0))
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return buf.getvalue()


def _image(items: list[dict], unreadable: tuple[int, ...] = (), gps: bool = False, mark: int = 0) -> bytes:
    img = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(img)
    draw.point((mark, 799), fill=(0, 0, 255))  # a different image for each mark: fakes tell images by their bytes
    for i, it in enumerate(items):
        if it.get("box") and i not in unreadable:
            draw.rectangle(it["box"], fill=INK)
    buf = io.BytesIO()
    img.save(buf, "PNG", **({"exif": gps_exif()} if gps else {}))
    return buf.getvalue()


def _item(entity: str, box, text: str | None = "value", source: str = "text") -> dict:
    return {"entity": entity, "box": box, "text": text, "source": source}


def _entry(items: list[dict], name: str = "a.png", clean: bool = False, category: str = "form") -> dict:
    return {"file": name, "category": category, "clean": clean, "geometry": "none", "items": items}


def _finding(entity: str, box, score: float = 0.9, source: str = "ocr") -> Finding:
    return Finding(entity, source, score, tuple(box) if box else None)


def test_leakage_counts_every_readable_item_in_what_the_policy_forwards(policy):
    items = [_item("EMAIL_ADDRESS", [100, 100, 300, 120]),   # found: redacted by the policy
             _item("PERSON", [100, 300, 300, 320]),          # found at 0.4 (a lone name): under min_score
             _item("PERSON", [600, 100, 800, 120]),          # missed
             _item("IP_ADDRESS", [600, 300, 800, 320]),      # missed, and the policy allows it anyway
             _item("LOCATION", [600, 500, 800, 520])]        # not readable on the original: not counted
    insp = FakeInspector([_finding("EMAIL_ADDRESS", items[0]["box"]), _finding("PERSON", items[1]["box"], 0.4)])
    probe = FakeProbe()
    rec = score_image(_entry(items), _image(items, unreadable=(4,)), {"ours": insp}, probe, policy, DEST)
    ours = rec["tools"]["ours"]
    assert ours["action"] == "redact" and ours["rule"] == "redact-pii-public-chatbots"
    assert sorted(rec["readable"]) == [0, 1, 2, 3]
    assert ours["leaked_forwarded"] == {0: False, 1: True, 2: True, 3: True}
    assert ours["leaked"] == {0: False, 1: False, 2: True, 3: True}  # every finding redacted
    # 5 reads on the original, then only the crops a painted box touches: e-mail (forwarded), e-mail + name (all)
    assert probe.calls == 5 + 1 + 2
    assert rec["expected"] == "redact" and ours["found"] == [True, True, False, False, False]


def test_blocked_images_leak_nothing_and_allowed_ones_everything(policy):
    items = [_item("SECRET", [100, 100, 400, 120]), _item("EMAIL_ADDRESS", [100, 400, 300, 420]),
             _item("EXIF_GPS", None, None, "metadata")]
    data = _image(items, gps=True)
    blocked = score_image(_entry(items), data, {"ours": FakeInspector([_finding("SECRET", items[0]["box"])])},
                          FakeProbe(), policy, DEST)["tools"]["ours"]
    assert blocked["action"] == "block"
    assert blocked["leaked_forwarded"] == {0: False, 1: False, 2: False}
    assert blocked["leaked"] == {0: False, 1: True, 2: False}  # redaction drops all metadata
    allowed = score_image(_entry(items), data, {"ours": FakeInspector([])}, FakeProbe(), policy,
                          DEST)["tools"]["ours"]
    assert allowed["action"] == "allow"
    assert allowed["leaked_forwarded"] == allowed["leaked"] == {0: True, 1: True, 2: True}


def test_a_crash_or_a_failed_redaction_gets_the_policys_on_error(policy):
    items = [_item("EMAIL_ADDRESS", [100, 100, 300, 120])]
    crashed = score_image(_entry(items), _image(items), {"ours": FakeInspector([], crash=True)}, FakeProbe(), policy,
                          DEST)["tools"]["ours"]
    assert crashed["action"] == "block" and crashed["rule"] == "on_error" and "crash" in crashed["error"]
    assert crashed["leaked_forwarded"] == {0: False}
    broken = FakeInspector([_finding("EMAIL_ADDRESS", items[0]["box"])], broken_redact=True)
    rec = score_image(_entry(items), _image(items), {"ours": broken}, FakeProbe(), policy, DEST)["tools"]["ours"]
    assert rec["action"] == "block" and rec["rule"] == "on_error" and "redact" in rec["error"]
    assert rec["leaked_forwarded"] == {0: False}


def test_untouched_crops_stay_readable_without_reading_them_again():
    probe = FakeProbe()
    item = _item("PERSON", [100, 100, 200, 120])
    far = Forwarded("redacted", Image.new("RGB", (800, 600), "black"), b"", painted=[(500, 400, 600, 420)])
    assert still_readable(probe, item, "none", far, (800, 600)) and probe.calls == 0
    near = Forwarded("redacted", Image.new("RGB", (800, 600), "black"), b"", painted=[(205, 100, 300, 120)])
    assert not still_readable(probe, item, "none", near, (800, 600)) and probe.calls == 1


def test_summary_reports_leakage_per_entity_and_for_the_policys_targets(policy):
    items = [_item("EMAIL_ADDRESS", [100, 100, 300, 120]), _item("PERSON", [600, 100, 800, 120]),
             _item("IP_ADDRESS", [600, 300, 800, 320])]
    entry = _entry(items)
    rec = score_image(entry, _image(items), {"ours": FakeInspector([_finding("EMAIL_ADDRESS", items[0]["box"])])},
                      FakeProbe(), policy, DEST)
    s = summarize([entry], [rec], ["ours"], policy=policy)
    assert {"EMAIL_ADDRESS", "PERSON"} <= set(s["redaction_targets"]) and "IP_ADDRESS" not in s["redaction_targets"]
    assert s["ours"]["forwarded_leak_by_entity"] == {"EMAIL_ADDRESS": [0, 1], "IP_ADDRESS": [1, 1],
                                                     "PERSON": [1, 1]}
    assert s["ours"]["forwarded_leak_targeted"] == [1, 2]
    assert s["readable_by_entity"] == {"EMAIL_ADDRESS": [1, 1], "IP_ADDRESS": [1, 1], "PERSON": [1, 1]}
    assert s["ours"]["policy"]["must_redact"] == 1 and s["ours"]["policy"]["must_redact_untouched"] == 0


# ------------------------------------------------------------------------------------------------ policy outcomes

def test_must_block_is_what_the_policy_blocks_on_the_ground_truth(policy):
    def action(*items):
        return expected(policy, DEST, list(items)).action.value

    for entity in ("CREDIT_CARD", "US_SSN", "IBAN_CODE", "SECRET", "MRZ"):
        assert action(_item(entity, [0, 0, 10, 10])) == "block", entity
    face = _item("FACE", [0, 0, 50, 50], None, "face")
    assert action(face) == "redact"
    assert action(face, _item("DATE_OF_BIRTH", [60, 0, 90, 10])) == "block"  # a face next to a birth date
    assert action(_item("LOCATION", [0, 0, 10, 10])) == "allow"
    assert action(_item("EXIF_GPS", None, None, "metadata")) == "redact"
    sources = {"CREDIT_CARD": "text", "US_SSN": "text", "IBAN_CODE": "text", "SECRET": "text", "MRZ": "text",
               "EMAIL_ADDRESS": "text", "PHONE_NUMBER": "text", "PERSON": "text", "FACE": "face",
               "EXIF_GPS": "metadata", "LOCATION": "text", "IP_ADDRESS": "text", "DATE_OF_BIRTH": "text"}
    acting = acting_entities(policy, DEST, sources)
    assert acting["block"] == ["CREDIT_CARD", "IBAN_CODE", "MRZ", "SECRET", "US_SSN"]
    assert acting["redact"] == ["EMAIL_ADDRESS", "EXIF_GPS", "FACE", "PERSON", "PHONE_NUMBER"]


def test_must_block_follows_the_policy_file_not_a_list_in_the_scorer():
    text = """
version: 1
name: strict-email
settings: {default_action: allow, on_error: block, min_score: 0.5}
destinations:
  - {name: openai, tags: [chatbot], hosts: [chatgpt.com]}
rules:
  - {name: block-email, action: block, when: {entity: EMAIL_ADDRESS}}
"""
    strict = load_policy_text(text, "strict.yaml")
    assert expected(strict, DEST, [_item("EMAIL_ADDRESS", [0, 0, 10, 10])]).action.value == "block"
    assert expected(strict, DEST, [_item("CREDIT_CARD", [0, 0, 10, 10])]).action.value == "allow"


def test_outcome_summary_lists_must_block_images_that_went_out():
    records = [
        {"file": "a", "clean": False, "expected": "block", "expected_rule": "block-secrets", "action": "block",
         "rule": "block-secrets"},
        {"file": "b", "clean": False, "expected": "block", "expected_rule": "block-secrets", "action": "redact",
         "rule": "redact-pii-public-chatbots"},
        {"file": "c", "clean": False, "expected": "redact", "expected_rule": "r", "action": "allow", "rule": None},
        {"file": "d", "clean": True, "expected": "allow", "expected_rule": None, "action": "redact", "rule": "r"},
        {"file": "e", "clean": True, "expected": "allow", "expected_rule": None, "action": "allow", "rule": None},
    ]
    s = outcome_summary(records)
    assert (s["must_block"], s["must_block_unblocked"]) == (2, 1)
    assert s["must_block_unblocked_files"][0].startswith("b (redact by redact-pii-public-chatbots")
    assert (s["must_redact"], s["must_redact_untouched"]) == (1, 1)
    assert (s["clean"], s["clean_not_allowed"]) == (2, 1)
    assert s["expected_vs_actual"]["block"] == {"block": 1, "redact": 1}


# ------------------------------------------------------------------------------------------------ CLI, tables, compare

def test_corpus_arguments_name_the_splits(tmp_path):
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "manifest.json").write_text(json.dumps({"version": 2, "split": "test", "images": []}))
    (tmp_path / "plain").mkdir()
    assert parse_corpora(None) == {"corpus": Path("bench/out/corpus")}
    assert parse_corpora(["dev=/x/dev", "real=/x/r"]) == {"dev": Path("/x/dev"), "real": Path("/x/r")}
    assert parse_corpora([str(tmp_path / "gen"), str(tmp_path / "plain")]) == \
        {"test": tmp_path / "gen", "plain": tmp_path / "plain"}
    assert parse_corpora(["/data/a=b"]) == {"a=b": Path("/data/a=b")}  # a path with '=' is still a path
    with pytest.raises(ValueError, match="two corpora named 'dev'"):
        parse_corpora(["dev=/a", "dev=/b"])


def test_cli_refuses_a_corpus_without_manifest(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        detection.main(["--corpus", f"dev={tmp_path}", "--no-ours", "--no-presidio"])
    assert exc.value.code == 2 and "no manifest in" in capsys.readouterr().err


class FakeBaseline:
    """Presidio's shape: finds e-mails only, returns a redacted copy and the words it 'read'."""

    def run(self, image: Image.Image):
        from bench.presidio_baseline import BaselineResult

        return BaselineResult([], image.copy(), 0.5, words=[("jane.roe@corp", (100, 100, 300, 120))])


def _corpus(root: Path, split: str, n_email_found: int) -> tuple[Path, list]:
    root.mkdir()
    images, findings = [], []
    for k in range(2):
        items = [_item("EMAIL_ADDRESS", [100, 100, 300, 120], "jane.roe@corp.io"),
                 _item("SECRET", [100, 400, 500, 420], "ghp_abc")]
        name = f"{k}.png"
        (root / name).write_bytes(_image(items, mark=10 * len(split) + k))
        images.append({**_entry(items, name, category="chat"), "split": split,
                       "texts": [{"text": "jane.roe@corp.io", "box": [100, 100, 300, 120]}]})
        findings.append([_finding("EMAIL_ADDRESS", items[0]["box"])] if k < n_email_found else [])
    images.append({**_entry([], "clean.png", clean=True), "split": split})
    (root / "clean.png").write_bytes(_image([], mark=10 * len(split) + 5))
    findings.append([])
    (root / "manifest.json").write_text(json.dumps({"version": 2, "split": split, "images": images}))
    return root, findings


class ByFileInspector(FakeInspector):
    """Different findings per image (matched by bytes), each read as the words given."""

    def __init__(self, by_bytes: dict[bytes, list[Finding]], words) -> None:
        super().__init__([])
        self.by_bytes, self.ocr = by_bytes, RecordingOcr(type("E", (), {"read": lambda s, rgb: words})())

    def inspect(self, data: bytes) -> ImageReport:
        self.ocr.read(None)  # as the Inspector does: one read of frame 0
        return ImageReport(sha256="x", size_bytes=len(data), findings=list(self.by_bytes[data]))


def _two_split_run(tmp_path: Path, policy, found_in_test: int) -> dict:
    from gateway.inspection.ocr import OcrWord

    corpora, by_bytes = {}, {}
    for split, n in (("dev", 2), ("test", found_in_test)):
        root, findings = _corpus(tmp_path / f"{split}{found_in_test}", split, n)
        corpora[split] = root
        manifest = json.loads((root / "manifest.json").read_text())
        for e, f in zip(manifest["images"], findings):
            by_bytes[(root / e["file"]).read_bytes()] = f
    words = [OcrWord("jane.roe@corp", (100, 100, 250, 120), 0.9), OcrWord(".io", (252, 100, 300, 120), 0.9)]
    insp = ByFileInspector(by_bytes, words)
    out = tmp_path / f"run{found_in_test}.json"
    run_splits(corpora, insp, FakeBaseline(), None, policy, DEST, insp.ocr, out, FakeProbe(), log=None)
    return json.loads(out.read_text())


def test_a_two_split_run_is_reported_side_by_side(tmp_path, policy, capsys):
    result = _two_split_run(tmp_path, policy, found_in_test=1)
    assert list(result["splits"]) == ["dev", "test"] and result["partial"] is False
    dev, test = (result["splits"][n]["summary"] for n in ("dev", "test"))
    assert dev["entities"]["EMAIL_ADDRESS"]["ours"]["found"] == 2 and test["entities"]["EMAIL_ADDRESS"]["ours"][
        "found"] == 1
    # two images, each read "jane.roe@corp .io" (an inserted space) by ours and "jane.roe@corp" by Presidio's OCR
    assert dev["ours"]["cer"]["texts"]["chat"]["distance"] == 2
    assert dev["presidio"]["cer"]["texts"]["all"]["distance"] == 6 and dev["presidio"]["cer"]["texts"]["all"][
        "length"] == 32
    assert test["ours"]["policy"]["must_block_unblocked"] == 2  # the secrets were never found
    md = tables.markdown(result)
    assert "| Entity | target | dev ours | dev Presidio | test ours | test Presidio |" in md
    assert "| EMAIL_ADDRESS | ≥ 0.95 | 1.00 (2/2) ✅ | 0.00 (0/2) | 0.50 (1/2) ❌ | 0.00 (0/2) |" in md
    assert "| Category | dev ours (CRAFT + PP-OCRv6) | dev Tesseract | test ours (CRAFT + PP-OCRv6) | test Tesseract |" in md
    assert "* test, must-block, not blocked: 0.png (redact by redact-pii-public-chatbots; expected block by " \
           "block-secrets)" in md
    assert "| Entity | dev readable | dev ours forwarded | dev ours all redacted | dev Presidio redacted | " \
           "test readable |" in md
    # the unfound secrets go out with the redacted e-mails (dev) or the allowed image (test)
    assert "| SECRET † | 2/2 | 100.0% (2/2) | 100.0% (2/2) | 100.0% (2/2) | 2/2 | 100.0% (2/2) |" in md
    assert "| EMAIL_ADDRESS * | 2/2 | 0.0% (0/2) | 0.0% (0/2) | 100.0% (2/2) | 2/2 | 50.0% (1/2) |" in md
    detection.main(["--report", str(tmp_path / "run1.json")])
    assert capsys.readouterr().out.strip() == md.strip()


def test_compare_lists_items_found_and_lost_between_runs(tmp_path, policy):
    a = _two_split_run(tmp_path, policy, found_in_test=2)
    b = _two_split_run(tmp_path, policy, found_in_test=0)
    lines = compare.diff_runs(a, b)
    assert lines[0].startswith("dev (ours, 3 images in both): 0 found, 0 lost")
    test = lines[lines.index(next(x for x in lines if x.startswith("test"))):]
    assert test[0].startswith("test (ours, 3 images in both): 0 found, 2 lost, 2 actions changed, 2 new leaks")
    assert "  - 0.png EMAIL_ADDRESS 'jane.roe@corp.io'" in test
    assert "  ~ 0.png redact (redact-pii-public-chatbots) -> allow (default)" in test
    assert "  ! 1.png EMAIL_ADDRESS 'jane.roe@corp.io'" in test
    back = compare.diff_runs(b, a)
    assert any(x.startswith("test (ours, 3 images in both): 2 found, 0 lost") for x in back)


def test_old_single_corpus_results_still_render():
    images = [{"file": "a", "clean": True, "items": []}]
    results = [{"file": "a", "clean": True, "tools": {"ours": {"findings": [], "found": [], "tp": [], "leaked": {},
                                                               "seconds": 1.0, "error": ""}}}]
    md = detection.markdown({"corpus": "x", "images": results, "summary": summarize(images, results, ["ours"])})
    assert "| clean images flagged (score ≥ 0.5) | ≤ 3% | 0.0% (0/1) |" in md


# ------------------------------------------------------------------------------------------------ real models

@pytest.mark.slow
def test_the_inspector_analyses_the_words_the_benchmark_records(policy):
    from gateway.inspection import Inspector
    from gateway.inspection.ocr import OcrWord
    from gateway.models import InspectOptions

    word = OcrWord("jane.roe@contoso-health.org", (40, 40, 400, 70), 0.95)
    engine = type("Engine", (), {"read": lambda self, rgb: [word]})()
    log = RecordingOcr(engine)
    insp = Inspector(InspectOptions(faces=False, barcodes=False, metadata=False), ocr=log)
    run, words, every, forwarded = detection.run_ours(insp, _image([]), policy, DEST, log)
    assert words == [(word.text, word.box)] and len(log.reads) == 1
    assert [f["entity"] for f in run.findings] == ["EMAIL_ADDRESS"]
    assert detection.iou(run.findings[0]["box"], word.box) > 0.8  # the analyser's box around that very word
    assert run.action == "redact" and every.kind == forwarded.kind == "redacted"


@pytest.mark.slow
def test_real_ocr_reads_a_clean_line_with_a_low_error_rate():
    import numpy as np

    from gateway.inspection.ocr import OcrEngine
    from tests.support.images import text_image

    data = text_image(["Invoice for Maria Lopez"], size=(700, 120), font_size=30)
    log = RecordingOcr(OcrEngine())
    log.read(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    words = [(w.text, w.box) for w in log.reads[0]]
    # text_image draws at (30, 30); DejaVu Sans 30 px: the line's ink is about 30..420 x 33..60
    run = reading.read_runs([{"text": "Invoice for Maria Lopez", "box": [30, 30, 430, 62]}], words)[0]
    assert run.distance / run.length <= 0.1, run


@pytest.mark.slow
def test_presidio_baseline_keeps_the_words_tesseract_read():
    pytest.importorskip("presidio_image_redactor")
    from bench.presidio_baseline import PresidioBaseline
    from tests.support.images import text_image

    data = text_image(["Invoice for Maria Lopez"], size=(700, 120), font_size=30)
    res = PresidioBaseline().run(Image.open(io.BytesIO(data)).convert("RGB"))
    assert not res.error and res.words
    run = reading.read_runs([{"text": "Invoice for Maria Lopez", "box": [30, 30, 430, 62]}], res.words)[0]
    assert run.distance / run.length <= 0.1, run


def test_runs_one_word_covers_are_scored_as_one():
    # an editor draws KEY, = and the value as three runs; the reader reads one word KEY=value
    texts = [{"text": "AWS_KEY", "box": [10, 10, 80, 30]}, {"text": "=", "box": [80, 10, 90, 30]},
             {"text": "abc123", "box": [90, 10, 150, 30]}, {"text": "next", "box": [200, 10, 240, 30]},
             {"text": "line two", "box": [10, 60, 90, 80]}]
    words = [("AWS_KEY=abc128", (10, 11, 150, 29)), ("next", (200, 11, 240, 29)), ("line", (10, 61, 45, 79))]
    reads = reading.read_runs(texts, words)
    assert [(r.hyp, r.distance, r.length, r.joined) for r in reads] == [
        ("AWS_KEY=abc128", 1, 14, False), ("", 0, 0, True), ("", 0, 0, True), ("next", 0, 4, False),
        ("line", 4, 8, False)]
    t = reading.tally([("code", r.to_json()) for r in reads])["all"]
    assert (t["distance"], t["length"], t["runs"], t["exact"]) == (5, 26, 3, 1)  # joined runs count in their group
    # apart by more than a fifth of the line height: joined with a space, which the reader must also read
    apart = [{"text": "commit", "box": [10, 10, 70, 30]}, {"text": "8711c06", "box": [80, 10, 150, 30]}]
    assert reading.read_runs(apart, [("commit8711c06", (10, 11, 150, 29))])[0].distance == 1
