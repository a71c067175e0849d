"""Detection benchmark: our Inspector vs Presidio's image redactor on labelled corpora, split by split.

    python -m bench.detection --corpus dev=bench/out/dev --corpus test=bench/out/test [--corpus real=bench/real]
                              [--limit N] [--no-presidio] [--policy FILE] [--host chatgpt.com]
                              [--out bench/out/detection.json]
    python -m bench.detection --report bench/out/detection.json     # the tables of an existing (even partial) run

Per split, for ours and for Presidio measured in the same run: recall and precision per entity (box overlap),
clean images flagged, latency (p50/p95 and the ratio ours/Presidio), reading quality (character error rate of the
OCR words against the manifest's ground-truth text), what the policy (the shipped default) decides for every image
(must-block images that went out), and leakage: every labelled item an independent reader (Tesseract on a crop,
Haar, zxing, Pillow) reads on the original, looked for again in what the gateway would forward. Definitions:
bench/README.md, "Scoring".
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from bench import reading  # noqa: E402
from bench.manifest import is_document  # noqa: E402
from bench.leakage import (  # noqa: E402,F401 - LeakProbe, readable and normalize are this module's API too
    Forwarded,
    LeakProbe,
    leak_table,
    measurable,
    normalize,
    readable,
    still_readable,
)
from bench.outcomes import (  # noqa: E402
    Destination,
    acting_entities,
    decide,
    error_report,
    expected,
    ground_truth_report,
    outcome_summary,
)
from bench.tables import CLEAN_FP_TARGET, TARGETS  # noqa: E402,F401 - the targets live with the tables

IOU_MIN = 0.3
COVER_MIN = 0.5
FLAG_SCORE = 0.5  # a finding at or above this score is one the default policy would act on

# Ground-truth entity -> finding entities that count as detecting it.
SYNONYMS: dict[str, set[str]] = {
    "PERSON": {"PERSON", "PER"},
    "EMAIL_ADDRESS": {"EMAIL_ADDRESS", "EMAIL"},
    "PHONE_NUMBER": {"PHONE_NUMBER"},
    "US_SSN": {"US_SSN"},
    "CREDIT_CARD": {"CREDIT_CARD"},
    "IBAN_CODE": {"IBAN_CODE"},
    "IP_ADDRESS": {"IP_ADDRESS"},
    "LOCATION": {"LOCATION", "ADDRESS", "STREET_ADDRESS", "US_ADDRESS"},
    "DATE_OF_BIRTH": {"DATE_OF_BIRTH", "DATE_TIME", "DOB"},
    "SECRET": {"SECRET", "API_KEY", "PRIVATE_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "JWT", "CREDENTIAL",
               "CREDENTIALS", "PASSWORD", "CONNECTION_STRING"},
    "MRZ": {"MRZ", "US_PASSPORT", "ID_DOCUMENT_NUMBER", "PASSPORT"},
    "ID_DOCUMENT_NUMBER": {"ID_DOCUMENT_NUMBER", "US_PASSPORT", "PASSPORT", "MRZ"},
    "FACE": {"FACE"},
    "EXIF_GPS": {"EXIF_GPS", "GPS", "GPS_LOCATION"},
}
# The row a finding entity is counted under for precision (first class listing it, unless stated here).
CANONICAL = {"US_PASSPORT": "MRZ", "PASSPORT": "MRZ"}


def entity_matches(gt_entity: str, finding_entity: str) -> bool:
    return finding_entity in SYNONYMS.get(gt_entity, {gt_entity}) or (
        gt_entity == "SECRET" and finding_entity.startswith("SECRET"))


def canonical(finding_entity: str) -> str:
    if finding_entity in CANONICAL:
        return CANONICAL[finding_entity]
    if finding_entity in SYNONYMS:
        return finding_entity
    if finding_entity.startswith("SECRET"):
        return "SECRET"
    for gt, names in SYNONYMS.items():
        if finding_entity in names:
            return gt
    return "OTHER"


# ------------------------------------------------------------------------------------------------ scoring

def _area(b) -> float:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _inter(a, b) -> float:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def iou(a, b) -> float:
    i = _inter(a, b)
    u = _area(a) + _area(b) - i
    return i / u if u > 0 else 0.0


def coverage(gt_box, boxes) -> float:
    """Fraction of gt_box covered by the union of boxes (word-level findings together cover a multi-word item)."""
    x0, y0, x1, y1 = (int(v) for v in gt_box)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for b in boxes:
        bx0, by0 = max(x0, int(math.floor(b[0]))), max(y0, int(math.floor(b[1])))
        bx1, by1 = min(x1, int(math.ceil(b[2]))), min(y1, int(math.ceil(b[3])))
        if bx1 > bx0 and by1 > by0:
            mask[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0] = True
    return float(mask.mean())


def match_image(items: list[dict], findings: list[dict], min_score: float = 0.0) -> tuple[list[bool], list[bool]]:
    """Which ground-truth items are found, and which findings are true positives.

    An item is found by findings of a synonym entity when one has IoU >= 0.3 with it, or together they cover
    >= 50% of its box; a box-less item (EXIF_GPS) by any synonym finding. A finding is a true positive when it
    has IoU >= 0.3 with a synonym item or lies >= 50% inside one (a word of a multi-word name); a box-less
    finding when a box-less synonym item exists.
    """
    findings = [f for f in findings if f.get("score", 1.0) >= min_score]
    found = []
    for it in items:
        cands = [f for f in findings if entity_matches(it["entity"], f["entity"])]
        if it["box"] is None:
            found.append(bool(cands))
            continue
        boxes = [f["box"] for f in cands if f.get("box") is not None]
        found.append(any(iou(it["box"], b) >= IOU_MIN for b in boxes) or
                     (bool(boxes) and coverage(it["box"], boxes) >= COVER_MIN))
    tp = []
    for f in findings:
        ok = False
        for it in items:
            if not entity_matches(it["entity"], f["entity"]):
                continue
            if it["box"] is None or f.get("box") is None:
                ok = it["box"] is None and f.get("box") is None
            else:
                a = _area(f["box"])
                ok = iou(it["box"], f["box"]) >= IOU_MIN or (a > 0 and _inter(it["box"], f["box"]) / a >= COVER_MIN)
            if ok:
                break
        tp.append(ok)
    return found, tp


# ------------------------------------------------------------------------------------------------ runner

class InspectorLike(Protocol):
    def inspect(self, data: bytes) -> Any: ...
    def redact(self, data: bytes, findings: list) -> bytes: ...


class RecordingOcr:
    """An OCR engine that keeps what it read: the Inspector analyses these very words, so CER costs no second OCR."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.reads: list[list] = []  # one entry per read() since the last clear (frame 0 first)

    def read(self, rgb: np.ndarray) -> list:
        words = self.engine.read(rgb)
        self.reads.append(words)
        return words


@dataclass
class ToolRun:
    findings: list[dict] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    tp: list[bool] = field(default_factory=list)
    # item index -> still readable, for every item readable on the original: after redacting every finding ...
    leaked: dict[int, bool] = field(default_factory=dict)
    # ... and in what the policy forwards (blocked: nothing; allowed: the original; redacted: the policy's redaction)
    leaked_forwarded: dict[int, bool] = field(default_factory=dict)
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    error: str = ""
    action: str | None = None  # the policy's decision (ours only; Presidio's redactor redacts whatever it finds)
    rule: str | None = None
    reads: dict | None = None  # {"texts": [read per text run] | None, "items": {item index: read}}; None: no OCR words


def _load(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def _redacted(insp: InspectorLike, data: bytes, findings: list) -> Forwarded:
    blob = insp.redact(data, findings)
    return Forwarded("redacted", _load(blob), blob, [f.box for f in findings if f.box is not None])


def _on_error(policy) -> Forwarded:
    """A redaction that fails gets the policy's on_error, as in the proxy (a warning can be clicked through)."""
    return Forwarded.nothing() if policy.on_error.value == "block" else Forwarded.original()


def run_ours(insp: InspectorLike, data: bytes, policy, dest: Destination,
             ocr_log: RecordingOcr | None = None) -> tuple[ToolRun, list | None, Forwarded, Forwarded]:
    """Inspect and decide one image: the run, the OCR words (None without a recorder), and two outputs: every
    finding redacted, and what the policy forwards."""
    if ocr_log is not None:
        ocr_log.reads.clear()
    t0 = time.perf_counter()
    try:
        report = insp.inspect(data)
    except Exception as err:  # a crash is a miss (and the policy's on_error), never the end of the benchmark
        report = error_report(len(data), f"crash: {type(err).__name__}: {err}")
    run = ToolRun(seconds=time.perf_counter() - t0, stage_seconds=dict(getattr(report, "stage_seconds", {}) or {}))
    if getattr(report, "error", None) is not None:
        run.error = f"{getattr(report.error, 'value', report.error)}: {getattr(report, 'error_detail', '')}"
    run.findings = [f.to_json() for f in report.findings]
    words = None
    if ocr_log is not None:  # no read at all (an image that failed to decode): nothing was read
        words = [(w.text, w.box) for w in ocr_log.reads[0]] if ocr_log.reads else []
    decision = decide(policy, dest, report)
    run.action, run.rule = decision.action.value, decision.rule
    every = Forwarded.original()
    if report.findings:
        try:
            every = _redacted(insp, data, list(report.findings))
        except Exception as err:
            run.error = (run.error + "; " if run.error else "") + f"redact: {type(err).__name__}: {err}"
            every = _on_error(policy)
    if decision.action.value == "block":
        forwarded = Forwarded.nothing()
    elif decision.action.value == "redact":
        chosen = decision.redactions.get(0, [])
        if {id(f) for f in chosen} == {id(f) for f in report.findings} and every.kind == "redacted":
            forwarded = every
        else:
            try:
                forwarded = _redacted(insp, data, list(chosen))
            except Exception as err:  # the proxy then applies on_error
                run.error = (run.error + "; " if run.error else "") + f"redact: {type(err).__name__}: {err}"
                forwarded, run.action, run.rule = _on_error(policy), policy.on_error.value, "on_error"
    else:  # allow, audit, and warn (the user may proceed with the original)
        forwarded = Forwarded.original()
    return run, words, every, forwarded


def run_presidio(baseline, original: Image.Image) -> tuple[ToolRun, list | None, Forwarded]:
    res = baseline.run(original)
    run = ToolRun(findings=res.findings, seconds=res.seconds, error=res.error)
    if res.redacted is None:  # it failed: nothing was redacted
        return run, getattr(res, "words", None), Forwarded.original()
    buf = io.BytesIO()
    res.redacted.save(buf, "PNG")
    painted = [f["box"] for f in res.findings if f.get("box") is not None]
    return run, getattr(res, "words", None), Forwarded("redacted", res.redacted, buf.getvalue(), painted)


def _reads(entry: dict, words: list | None) -> dict | None:
    if words is None:
        return None
    texts = entry.get("texts")
    return {"texts": [r.to_json() for r in reading.read_runs(texts, words)] if texts else None,
            "items": {i: r.to_json() for i, r in reading.read_items(entry["items"], words).items()}}


def score_image(entry: dict, data: bytes, tools: dict, probe: LeakProbe, policy, dest: Destination,
                ocr_log: RecordingOcr | None = None) -> dict:
    """Every tool on one image, and the per-image record the summaries (and bench.compare) read."""
    original = _load(data)
    items = entry["items"]
    per_tool: dict[str, ToolRun] = {}
    outputs: dict[str, dict[str, Forwarded]] = {}
    for name, tool in tools.items():
        if name == "ours":
            run, words, every, forwarded = run_ours(tool, data, policy, dest, ocr_log)
            outputs[name] = {"leaked": every, "leaked_forwarded": forwarded}
        else:
            run, words, every = run_presidio(tool, original)
            outputs[name] = {"leaked": every, "leaked_forwarded": every}  # the redactor forwards its redaction
        run.found, run.tp = match_image(items, run.findings)
        run.reads = _reads(entry, words)
        per_tool[name] = run
    how = {}  # item index -> how the independent reader reads it on the original
    for idx, item in enumerate(items):
        if measurable(item):
            token = probe.visible(original, data, item, entry.get("geometry", "none"))
            if token:
                how[idx] = token
    for name, run in per_tool.items():
        seen: dict[tuple[int, int], bool] = {}
        for key, fwd in outputs[name].items():
            for idx in how:
                if (id(fwd), idx) not in seen:
                    seen[(id(fwd), idx)] = still_readable(probe, items[idx], entry.get("geometry", "none"), fwd,
                                                          original.size)
                getattr(run, key)[idx] = seen[(id(fwd), idx)]
    want = expected(policy, dest, items)
    return {"file": entry["file"], "category": entry["category"], "clean": entry["clean"],
            "geometry": entry.get("geometry"), "split": entry.get("split"),
            "items": [{k: it.get(k) for k in ("entity", "text", "box", "source")} for it in items],
            "readable": how, "expected": want.action.value, "expected_rule": want.rule,
            "tools": {k: v.__dict__ for k, v in per_tool.items()}}


# ------------------------------------------------------------------------------------------------ documents

DOCUMENT_TYPES = {"pdf_text": "PDF", "pdf_scan": "PDF", "docx": "DOCX", "xlsx": "XLSX", "pptx": "PPTX",
                  "zip": "ZIP"}


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def finding_texts(data: bytes, findings: list, limits) -> list[list[str]]:
    """Per finding, the text its span covers in the document's text (read again with gateway.documents, outside
    the timing); [] for a finding without a span (one read on an image or a rendered page)."""
    from gateway.documents import TextRun, read_document

    runs: dict[tuple, list] = {}
    try:
        _, parts = read_document(data, limits)
        for part in parts:
            if isinstance(part, TextRun):
                runs.setdefault((part.member, part.page), []).append(part)
    except Exception:  # noqa: BLE001, S110 - what the Inspector could not read either: its findings keep no text
        pass
    out = []
    for f in findings:
        if getattr(f, "span", None) is None:
            out.append([])
            continue
        a, b = f.span
        out.append([r.text[a - r.offset:b - r.offset] for r in runs.get((f.member, f.page), [])
                    if r.offset <= a and b <= r.offset + len(r.text)])
    return out


def _same_place(item: dict, finding: dict) -> bool:
    """The finding is where the item is: the same page and archive member, where both say."""
    if item.get("page") is not None and finding.get("page") is not None and item["page"] != finding["page"]:
        return False
    member = item.get("member")
    return member is None or (finding.get("member") or "").split("!/")[0] == member


def _text_match(item: dict, texts: list[str]) -> bool:
    """A finding's text is the item's value, or at least half of it (one word of a two-word name)."""
    want = _squash(item.get("text") or "")
    for text in texts:
        got = _squash(text)
        if got and want and (want in got or (got in want and 2 * len(got) >= len(want))):
            return True
    return False


def match_document(items: list[dict], findings: list[dict]) -> tuple[list[bool], list[bool]]:
    """Which items are found, and which findings are right, in one document (no boxes: by value and place).

    A finding from the document's text (it has `texts`, the text its span covers) finds the synonym items in the
    same place whose value it spells (or half of it). A finding read on an image (a scan, an embedded picture: no
    span) finds one synonym item in the same place that nothing else found, one item per finding. A text finding
    is right when it finds an item; an image finding when a synonym item is in its place.
    """
    found = [False] * len(items)
    tp = [False] * len(findings)
    image_findings = []
    for j, f in enumerate(findings):
        if f.get("texts"):
            for i, it in enumerate(items):
                if entity_matches(it["entity"], f["entity"]) and _same_place(it, f) and _text_match(it, f["texts"]):
                    found[i] = tp[j] = True
        else:
            image_findings.append(j)
    for j in image_findings:
        f = findings[j]
        places = [i for i, it in enumerate(items) if entity_matches(it["entity"], f["entity"]) and _same_place(it, f)]
        tp[j] = bool(places)
        free = [i for i in places if not found[i]]
        if free:
            found[free[0]] = True
    return found, tp


def expected_document(policy, dest: Destination, entry: dict):
    """The policy's decision on the document's ground truth (as a document report of its type)."""
    from gateway.documents import REDACTABLE_DOCUMENT_TYPES
    from gateway.models import DocumentFacts

    report = ground_truth_report(entry["items"])
    kind = DOCUMENT_TYPES.get(entry["kind"], "PDF")
    report.format = kind
    report.document = DocumentFacts(kind, pages=entry["pages"], redactable=kind in REDACTABLE_DOCUMENT_TYPES)
    return decide(policy, dest, report)


def score_document(entry: dict, data: bytes, inspector, policy, dest: Destination,
                   ocr_log: RecordingOcr | None = None) -> dict:
    """Ours on one document (`Inspector.inspect_document`) and its record; Presidio's redactor reads no documents."""
    if ocr_log is not None:
        ocr_log.reads.clear()
    t0 = time.perf_counter()
    try:
        report = inspector.inspect_document(data)
    except Exception as err:  # a crash is a miss (and the policy's on_error), never the end of the benchmark
        report = error_report(len(data), f"crash: {type(err).__name__}: {err}")
    run = ToolRun(seconds=time.perf_counter() - t0, stage_seconds=dict(getattr(report, "stage_seconds", {}) or {}))
    if ocr_log is not None:
        ocr_log.reads.clear()
    if getattr(report, "error", None) is not None:
        run.error = f"{getattr(report.error, 'value', report.error)}: {getattr(report, 'error_detail', '')}"
    texts = finding_texts(data, list(report.findings), inspector.options.limits)
    run.findings = [{**f.to_json(), "texts": t} for f, t in zip(report.findings, texts)]
    items = entry["items"]
    run.found, run.tp = match_document(items, run.findings)
    decision = decide(policy, dest, report)
    run.action, run.rule = decision.action.value, decision.rule
    want = expected_document(policy, dest, entry)
    return {"file": entry["file"], "category": entry["category"], "clean": entry["clean"], "geometry": None,
            "split": entry.get("split"), "kind": entry["kind"], "pages": entry["pages"],
            "items": [{k: it.get(k) for k in ("entity", "text", "page", "member", "source")} for it in items],
            "readable": {}, "expected": want.action.value, "expected_rule": want.rule,
            "tools": {"ours": run.__dict__}}


def document_summary(images: list[dict], results: list[dict]) -> dict:
    """Recall per kind and seconds per page (ours), for a document corpus."""
    def row(pairs: list[tuple[dict, dict]]) -> dict:
        per_page = [r["tools"]["ours"]["seconds"] / max(1, e["pages"]) for e, r in pairs]
        gt = sum(len(e["items"]) for e, _ in pairs)
        found = sum(sum(r["tools"]["ours"]["found"]) for _, r in pairs)
        return {"documents": len(pairs), "pages": sum(e["pages"] for e, _ in pairs), "gt": gt, "found": found,
                "recall": found / gt if gt else None, "page_p50": percentile(per_page, 0.5),
                "page_p95": percentile(per_page, 0.95)}

    pairs = list(zip(images, results))
    kinds = sorted({e["kind"] for e in images})
    return {"all": row(pairs), "kinds": {k: row([(e, r) for e, r in pairs if e["kind"] == k]) for k in kinds}}


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def benchmark(corpus: Path, inspector: InspectorLike | None, baseline=None, limit: int | None = None,
              probe: LeakProbe | None = None, log=print, checkpoint: Path | None = None, *, policy=None,
              dest: Destination = Destination(), ocr_log: RecordingOcr | None = None, split: str | None = None,
              progress: Callable[[dict], None] | None = None) -> dict:
    """Run the tools over one corpus; returns its per-image results and summary.

    `policy` defaults to the shipped default policy. With `checkpoint`, the partial result is rewritten after every
    image (a long run can be read while it runs); `progress` gets the partial result instead.
    """
    from gateway.policy import load_default_policy

    manifest = json.loads((corpus / "manifest.json").read_text())
    policy = policy or load_default_policy()
    tools = {k: v for k, v in (("ours", inspector), ("presidio", baseline)) if v is not None}
    images = manifest["images"][:limit]
    split = split or manifest.get("split") or corpus.name
    documents = any(is_document(e) for e in images)
    if documents and not all(is_document(e) for e in images):
        raise ValueError(f"{corpus}: a corpus holds images or documents, not both")
    if documents and "ours" not in tools:
        raise ValueError(f"{corpus}: documents are scored with our Inspector only (drop --no-ours)")
    probe = probe or (None if documents else LeakProbe())  # documents get no leak check: no Tesseract needed
    results = []
    t_start = time.perf_counter()
    # Presidio's image redactor cannot read a document: its column says n/a
    scored = ["ours"] if documents else list(tools)
    na = [t for t in tools if t not in scored]

    def partial(n: int) -> dict:
        summary = summarize(images[:n], results, scored, policy=policy, dest=dest)
        if documents:
            summary["documents"] = document_summary(images[:n], results)
            summary["na_tools"] = na
        return {"corpus": str(corpus), "split": split, "partial": n < len(images), "images": results,
                "summary": summary}

    for n, entry in enumerate(images):
        data = (corpus / entry["file"]).read_bytes()
        if documents:
            results.append(score_document(entry, data, tools["ours"], policy, dest, ocr_log))
        else:
            results.append(score_image(entry, data, tools, probe, policy, dest, ocr_log))
        if checkpoint is not None or progress is not None:
            part = partial(n + 1)
            if checkpoint is not None:
                checkpoint.write_text(json.dumps(part, indent=1, default=str))
            if progress is not None:
                progress(part)
        if log:
            log(f"[{split} {n + 1}/{len(images)}] {entry['file']} {time.perf_counter() - t_start:.0f}s",
                file=sys.stderr)
    return partial(len(images))


# ------------------------------------------------------------------------------------------------ summary

def _entity_rows(images: list[dict], results: list[dict], tools: list[str]) -> dict:
    classes = sorted({it["entity"] for e in images for it in e["items"]})
    rows: dict[str, Any] = {}
    for cls in classes:
        row: dict[str, Any] = {"gt": sum(it["entity"] == cls for e in images for it in e["items"])}
        for t in tools:
            found = sum(r["tools"][t]["found"][i] for e, r in zip(images, results)
                        for i, it in enumerate(e["items"]) if it["entity"] == cls)
            tp = fp = 0
            for r in results:
                for f, ok in zip(r["tools"][t]["findings"], r["tools"][t]["tp"]):
                    if canonical(f["entity"]) == cls:
                        tp, fp = tp + ok, fp + (not ok)
            row[t] = {"recall": found / row["gt"] if row["gt"] else None, "found": found,
                      "precision": tp / (tp + fp) if tp + fp else None, "tp": tp, "fp": fp}
        rows[cls] = row
    return rows


def _leaks(images: list[dict], results: list[dict], tool: str, key: str, targets: list[str]) -> dict:
    rows = [(e["items"][int(i)]["entity"], x) for e, r in zip(images, results)
            for i, x in (r["tools"][tool].get(key) or {}).items()]
    aimed = [x for ent, x in rows if ent in targets]
    return {"by_entity": leak_table(rows), "leaked": sum(bool(x) for _, x in rows), "checked": len(rows),
            "targeted_leaked": sum(bool(x) for x in aimed), "targeted_checked": len(aimed)}


def _cer(images: list[dict], results: list[dict], tool: str) -> dict:
    texts, values = [], []
    for e, r in zip(images, results):
        reads = r["tools"][tool].get("reads")
        if not reads:
            continue
        texts += [(e["category"], x) for x in reads.get("texts") or []]
        values += [(e["items"][int(i)]["entity"], x) for i, x in (reads.get("items") or {}).items()]
    return {"texts": reading.tally(texts), "items": reading.tally(values)}


def summarize(images: list[dict], results: list[dict], tools: list[str], *, policy=None,
              dest: Destination = Destination()) -> dict:
    """Every measure of one split, from its per-image records."""
    summary: dict[str, Any] = {"entities": _entity_rows(images, results, tools), "tools": tools,
                               "images": len(results)}
    targets = list(summary["entities"])
    if policy is not None:
        acting = acting_entities(policy, dest, {it["entity"]: it.get("source", "text")
                                                for e in images for it in e["items"]})
        targets = acting["redact"]
        summary["blocking_entities"] = acting["block"]
    summary["redaction_targets"] = targets
    readable_rows = []
    for e, r in zip(images, results):
        how = {int(i) for i in r.get("readable", {})}  # int keys, or str once read back from JSON
        readable_rows += [(it["entity"], i in how) for i, it in enumerate(e["items"])]
    summary["readable_by_entity"] = leak_table(readable_rows)  # {entity: [readable, labelled]}
    clean = [r for r in results if r["clean"]]
    for t in tools:
        flagged = [r["file"] for r in clean
                   if any(f.get("score", 1.0) >= FLAG_SCORE for f in r["tools"][t]["findings"])]
        secs = [r["tools"][t]["seconds"] for r in results]
        redaction = _leaks(images, results, t, "leaked", targets)
        forwarded = _leaks(images, results, t, "leaked_forwarded", targets)
        stages: dict[str, list[float]] = {}
        for r in results:
            for k, v in (r["tools"][t].get("stage_seconds") or {}).items():
                stages.setdefault(k, []).append(v)
        other = sum(canonical(f["entity"]) == "OTHER" for r in results for f in r["tools"][t]["findings"])
        summary[t] = {
            "clean_images": len(clean), "clean_flagged": len(flagged),
            "clean_fp_rate": len(flagged) / len(clean) if clean else None, "clean_flagged_files": flagged,
            "latency_p50": percentile(secs, 0.5), "latency_p95": percentile(secs, 0.95),
            "latency_mean": statistics.fmean(secs) if secs else None,
            # redaction leakage: readable items still readable after every finding is redacted
            "leak_checked": redaction["checked"], "leaked": redaction["leaked"],
            "leakage": redaction["leaked"] / redaction["checked"] if redaction["checked"] else None,
            "leak_by_entity": redaction["by_entity"],
            "leak_targeted": [redaction["targeted_leaked"], redaction["targeted_checked"]],
            "forwarded_leak_by_entity": forwarded["by_entity"],
            "forwarded_leaked": [forwarded["leaked"], forwarded["checked"]],
            "forwarded_leak_targeted": [forwarded["targeted_leaked"], forwarded["targeted_checked"]],
            "cer": _cer(images, results, t),
            "errors": sum(bool(r["tools"][t]["error"]) for r in results),
            "other_findings": other,
            "stage_seconds_mean": {k: statistics.fmean(v) for k, v in stages.items()},
        }
        if any(r["tools"][t].get("action") for r in results):
            summary[t]["policy"] = outcome_summary([
                {"file": r["file"], "clean": r["clean"], "expected": r.get("expected"),
                 "expected_rule": r.get("expected_rule"), "action": r["tools"][t]["action"],
                 "rule": r["tools"][t].get("rule")} for r in results])
    if "ours" in tools and "presidio" in tools and results:
        summary["latency_ratio_p50"] = summary["ours"]["latency_p50"] / summary["presidio"]["latency_p50"]
        summary["latency_ratio_p95"] = summary["ours"]["latency_p95"] / summary["presidio"]["latency_p95"]
    return summary


def markdown(summary_or_result: dict) -> str:
    """The result tables, ready to paste into the README (one summary, or a whole multi-split result)."""
    from bench.tables import markdown as tables

    return tables(summary_or_result)


# ------------------------------------------------------------------------------------------------ CLI

def parse_corpora(values: list[str] | None) -> dict[str, Path]:
    """`--corpus` values, `NAME=PATH` or a bare `PATH` (named by its manifest's split, else its directory)."""
    out: dict[str, Path] = {}
    for value in values or ["bench/out/corpus"]:
        name, sep, path = value.partition("=")
        if not sep or "/" in name or not name:
            path = value
            name = _split_name(Path(path))
        if name in out:
            raise ValueError(f"two corpora named {name!r}: name them, e.g. --corpus dev=PATH --corpus test=PATH")
        out[name] = Path(path)
    return out


def _split_name(path: Path) -> str:
    try:
        return json.loads((path / "manifest.json").read_text()).get("split") or path.name or "corpus"
    except (OSError, ValueError):
        return path.name or "corpus"


def run_splits(corpora: dict[str, Path], inspector, baseline, limit: int | None, policy, dest: Destination,
               ocr_log: RecordingOcr | None = None, out: Path | None = None, probe: LeakProbe | None = None,
               meta: dict | None = None, log=print) -> dict:
    """Every corpus in turn with the same tools; the result holds them all (rewritten to `out` after each image)."""
    probe = probe or LeakProbe()
    result: dict[str, Any] = {"version": 2, **(meta or {}), "partial": True, "splits": {}}

    def save(name: str, part: dict) -> None:
        result["splits"][name] = part
        if out is not None:
            out.write_text(json.dumps(result, indent=1, default=str))

    for name, path in corpora.items():
        benchmark(path, inspector, baseline, limit, probe, log, policy=policy, dest=dest, ocr_log=ocr_log,
                  split=name, progress=lambda part, name=name: save(name, part))
    result["partial"] = False
    if out is not None:
        out.write_text(json.dumps(result, indent=1, default=str))
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", metavar="[NAME=]PATH",
                    help="a corpus directory with manifest.json (repeatable: one column per split; "
                         "default bench/out/corpus)")
    ap.add_argument("--limit", type=int, default=None, help="first N images of each corpus")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--no-ours", action="store_true", help="baseline only (e.g. before the Inspector exists)")
    ap.add_argument("--policy", default="", help="policy YAML deciding every image (default: the shipped default)")
    ap.add_argument("--host", default=Destination.host, help="destination host decided for (as dlp-gateway scan)")
    ap.add_argument("--out", type=Path, default=Path("bench/out/detection.json"))
    ap.add_argument("--report", type=Path, help="only print the tables of an existing (even partial) result file")
    args = ap.parse_args(argv)
    if args.report:
        print(markdown(json.loads(args.report.read_text())))
        return 0
    try:
        corpora = parse_corpora(args.corpus)
    except ValueError as err:
        ap.error(str(err))
    for name, path in corpora.items():
        if not (path / "manifest.json").exists():
            ap.error(f"no manifest in {path} ({name}): run python -m bench.corpus --out {path}")
    from gateway.cli import load_policy_or_report

    policy = load_policy_or_report(args.policy)
    if policy is None:
        return 2
    inspector = baseline = ocr_log = None
    if not args.no_ours:
        from gateway.inspection import Inspector
        from gateway.inspection.ocr import OcrEngine

        ocr_log = RecordingOcr(OcrEngine()) if policy.inspect_options.ocr else None
        inspector = Inspector(policy.inspect_options, ocr=ocr_log)
    if not args.no_presidio:
        from bench.presidio_baseline import PresidioBaseline

        baseline = PresidioBaseline()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"policy": args.policy or "policies/default.yaml", "host": args.host, "limit": args.limit,
            "command": "python -m bench.detection " + " ".join(argv if argv is not None else sys.argv[1:])}
    result = run_splits(corpora, inspector, baseline, args.limit, policy, Destination(args.host), ocr_log,
                        args.out, meta=meta)
    print(markdown(result))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
