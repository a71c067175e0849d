"""Detection benchmark: our Inspector vs Presidio's image redactor on the labelled corpus.

    python -m bench.detection --corpus bench/out/corpus [--limit N] [--no-presidio] [--out bench/out/detection.json]

Per entity type: recall and precision with box overlap; image-level false-positive rate on clean images; per-image
latency; and redaction leakage, checked by tools independent of both detectors (Tesseract on a crop around each
found item, OpenCV's Haar cascade for faces, zxing for QR codes, Pillow for EXIF GPS).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

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
TARGETS = {"EMAIL_ADDRESS": 0.95, "CREDIT_CARD": 0.95, "US_SSN": 0.95, "IBAN_CODE": 0.95, "PHONE_NUMBER": 0.95,
           "SECRET": 0.95, "MRZ": 0.95, "PERSON": 0.85, "FACE": 0.85}
CLEAN_FP_TARGET = 0.03
NUMERIC = {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER"}


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


# ------------------------------------------------------------------------------------------------ leakage

def normalize(value: str, numeric: bool) -> str:
    return re.sub(r"\D", "", value) if numeric else re.sub(r"[^a-z0-9]", "", value.lower())


def _is_numeric(entity: str, value: str) -> bool:
    return entity in NUMERIC or (not re.search(r"[A-Za-z]", value) and len(re.sub(r"\D", "", value)) >= 6)


def readable(value: str, ocr_text: str, numeric: bool) -> bool:
    """Is (most of) value in the OCR text? Short values must appear whole; long ones as any 60% window."""
    v, t = normalize(value, numeric), normalize(ocr_text, numeric)
    if not v:
        return False
    k = len(v) if len(v) <= 8 else max(8, math.ceil(0.6 * len(v)))
    return any(v[i:i + k] in t for i in range(len(v) - k + 1))


class LeakProbe:
    """Independent readers: Tesseract, Haar cascade, zxing, Pillow EXIF."""

    def __init__(self) -> None:
        import cv2
        import pytesseract

        pytesseract.get_tesseract_version()
        self._tess = pytesseract
        self._cv2 = cv2
        self._faces = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if self._faces.empty():
            raise RuntimeError("OpenCV Haar cascade missing")

    def _crop(self, img: Image.Image, box, geometry: str) -> Image.Image:
        x0, y0, x1, y1 = box
        pad = int(min(x1 - x0, y1 - y0) * 0.5) + 8
        crop = img.crop((max(0, x0 - pad), max(0, y0 - pad), min(img.width, x1 + pad), min(img.height, y1 + pad)))
        if geometry == "rot90":  # the corpus turned these pages counter-clockwise; turn the crop back
            crop = crop.transpose(Image.Transpose.ROTATE_270)
        short = min(crop.size)
        if short < 60:
            crop = crop.resize((crop.width * 2, crop.height * 2), Image.LANCZOS)
        return crop

    def text_visible(self, img: Image.Image, item: dict, geometry: str, psms=("6", "11")) -> str | None:
        """The Tesseract page-segmentation mode that reads the item (block, then sparse text), or None."""
        crop = self._crop(img, item["box"], geometry)
        numeric = _is_numeric(item["entity"], item["text"])
        for psm in psms:
            if readable(item["text"], self._tess.image_to_string(crop, config=f"--psm {psm}"), numeric):
                return psm
        return None

    def face_visible(self, img: Image.Image, box) -> bool:
        x0, y0, x1, y1 = box
        s = max(x1 - x0, y1 - y0)
        cx0, cy0 = max(0, int(x0 - s * 0.6)), max(0, int(y0 - s * 0.6))
        crop = img.crop((cx0, cy0, min(img.width, int(x1 + s * 0.6)), min(img.height, int(y1 + s * 0.6))))
        gray = self._cv2.cvtColor(np.asarray(crop.convert("RGB")), self._cv2.COLOR_RGB2GRAY)
        dets = self._faces.detectMultiScale(gray, 1.1, 4, minSize=(max(20, s // 3), max(20, s // 3)))
        shifted = [x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0]
        return any(iou(shifted, [x, y, x + w, y + h]) >= IOU_MIN for x, y, w, h in dets)

    @staticmethod
    def code_visible(img: Image.Image, value: str) -> bool:
        import zxingcpp

        return any(value in r.text for r in zxingcpp.read_barcodes(img.convert("RGB")))

    @staticmethod
    def gps_visible(data: bytes | None) -> bool:
        if data is None:
            return False
        try:
            return bool(Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825))
        except Exception:
            return False

    def visible(self, img: Image.Image, data: bytes | None, item: dict, geometry: str,
                psms=("6", "11")) -> str | None:
        """How the item can be read from the image (a truthy token), or None when it cannot."""
        src = item.get("source", "text")
        if src == "metadata":
            return "exif" if self.gps_visible(data) else None
        if src == "face":
            return "haar" if self.face_visible(img, item["box"]) else None
        if src == "barcode":
            return "zxing" if self.code_visible(img, item["text"]) else None
        return self.text_visible(img, item, geometry, psms)


# ------------------------------------------------------------------------------------------------ runner

class InspectorLike(Protocol):
    def inspect(self, data: bytes) -> Any: ...
    def redact(self, data: bytes, findings: list) -> bytes: ...


@dataclass
class ToolRun:
    findings: list[dict] = field(default_factory=list)
    found: list[bool] = field(default_factory=list)
    tp: list[bool] = field(default_factory=list)
    leaked: dict[int, bool] = field(default_factory=dict)  # item index -> still readable; found+measurable only
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    error: str = ""


def _load(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def run_ours(insp: InspectorLike, data: bytes) -> tuple[ToolRun, Image.Image | None, bytes | None]:
    t0 = time.perf_counter()
    report = insp.inspect(data)
    run = ToolRun(seconds=time.perf_counter() - t0, stage_seconds=dict(getattr(report, "stage_seconds", {}) or {}))
    if getattr(report, "error", None) is not None:
        run.error = f"{getattr(report.error, 'value', report.error)}: {getattr(report, 'error_detail', '')}"
    run.findings = [f.to_json() for f in report.findings]
    if not report.findings:
        return run, None, None
    try:
        red_bytes = insp.redact(data, list(report.findings))
        return run, _load(red_bytes), red_bytes
    except Exception as err:
        run.error = (run.error + "; " if run.error else "") + f"redact: {type(err).__name__}: {err}"
        return run, None, None


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def benchmark(corpus: Path, inspector: InspectorLike | None, baseline=None, limit: int | None = None,
              probe: LeakProbe | None = None, log=print, checkpoint: Path | None = None) -> dict:
    """Run the tools over the corpus; returns per-image results and the summary.

    With `checkpoint`, the partial result is rewritten after every image (a long run can be read while it runs).
    """
    manifest = json.loads((corpus / "manifest.json").read_text())
    probe = probe or LeakProbe()
    tools = {k: v for k, v in (("ours", inspector), ("presidio", baseline)) if v is not None}
    images = manifest["images"][:limit]
    results = []
    t_start = time.perf_counter()
    for n, entry in enumerate(images):
        data = (corpus / entry["file"]).read_bytes()
        original = _load(data)
        per_tool: dict[str, ToolRun] = {}
        redacted: dict[str, tuple[Image.Image | None, bytes | None]] = {}
        for name, tool in tools.items():
            if name == "ours":
                try:
                    run, red_img, red_bytes = run_ours(tool, data)
                except Exception as err:  # a crash is a miss, never the end of the benchmark
                    run, red_img, red_bytes = ToolRun(error=f"crash: {type(err).__name__}: {err}"), None, None
            else:
                res = tool.run(original)
                run = ToolRun(findings=res.findings, seconds=res.seconds, error=res.error)
                red_img, red_bytes = res.redacted, None
                if red_img is not None:
                    buf = io.BytesIO()
                    red_img.save(buf, "PNG")
                    red_bytes = buf.getvalue()
            run.found, run.tp = match_image(entry["items"], run.findings)
            per_tool[name] = run
            redacted[name] = (red_img, red_bytes)
        # leakage: only for items some tool found, and only if the item is measurable on the original
        for idx, item in enumerate(entry["items"]):
            if not any(per_tool[t].found[idx] for t in per_tool):
                continue
            measurable = probe.visible(original, data, item, entry["geometry"])
            for name, run in per_tool.items():
                if not run.found[idx] or not measurable:
                    continue
                img, blob = redacted[name]
                # found but no redacted output: everything is still there. Otherwise read the redacted image the
                # way the original was readable (one Tesseract mode, not both, to halve the OCR time).
                run.leaked[idx] = img is None or bool(
                    probe.visible(img, blob, item, entry["geometry"], (measurable,)))
        results.append({"file": entry["file"], "category": entry["category"], "clean": entry["clean"],
                        "tools": {k: v.__dict__ for k, v in per_tool.items()}})
        if checkpoint is not None:
            partial = {"corpus": str(corpus), "partial": n + 1 < len(images), "images": results,
                       "summary": summarize(images[:n + 1], results, list(tools))}
            checkpoint.write_text(json.dumps(partial, indent=1, default=str))
        if log:
            log(f"[{n + 1}/{len(images)}] {entry['file']} {time.perf_counter() - t_start:.0f}s", file=sys.stderr)
    return {"corpus": str(corpus), "images": results, "summary": summarize(images, results, list(tools))}


def summarize(images: list[dict], results: list[dict], tools: list[str]) -> dict:
    classes = sorted({it["entity"] for e in images for it in e["items"]})
    summary: dict[str, Any] = {"entities": {}, "tools": tools}
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
        summary["entities"][cls] = row
    clean = [r for r in results if r["clean"]]
    for t in tools:
        flagged = [r["file"] for r in clean
                   if any(f.get("score", 1.0) >= FLAG_SCORE for f in r["tools"][t]["findings"])]
        secs = [r["tools"][t]["seconds"] for r in results]
        leaks = [x for r in results for x in r["tools"][t]["leaked"].values()]
        leak_by: dict[str, list[int]] = {}  # entity -> [leaked, checked]
        for e, r in zip(images, results):
            for idx, x in r["tools"][t]["leaked"].items():
                counts = leak_by.setdefault(e["items"][int(idx)]["entity"], [0, 0])
                counts[0] += bool(x)
                counts[1] += 1
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
            "leak_checked": len(leaks), "leaked": sum(bool(x) for x in leaks),
            "leakage": sum(bool(x) for x in leaks) / len(leaks) if leaks else None,
            "leak_by_entity": leak_by,
            "errors": sum(bool(r["tools"][t]["error"]) for r in results),
            "other_findings": other,
            "stage_seconds_mean": {k: statistics.fmean(v) for k, v in stages.items()},
        }
    if "ours" in tools and "presidio" in tools:
        summary["latency_ratio_p50"] = summary["ours"]["latency_p50"] / summary["presidio"]["latency_p50"]
        summary["latency_ratio_p95"] = summary["ours"]["latency_p95"] / summary["presidio"]["latency_p95"]
    return summary


def _fmt(x, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.2f}" if not pct else f"{100 * x:.1f}%"


def markdown(summary: dict) -> str:
    """The results table, ready to paste into the README."""
    tools = summary["tools"]
    both = "ours" in tools and "presidio" in tools
    head = ["Entity", "GT"] + [f"{t} recall" for t in tools] + [f"{t} precision" for t in tools] + ["target"]
    if both:
        head.append("ours ≥ Presidio")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cls, row in summary["entities"].items():
        cells = [cls, str(row["gt"])]
        cells += [f"{_fmt(row[t]['recall'])} ({row[t]['found']})" for t in tools]
        cells += [_fmt(row[t]["precision"]) for t in tools]
        target = TARGETS.get(cls)
        ok = target is None or ("ours" in tools and (row["ours"]["recall"] or 0) >= target)
        cells.append(f"≥ {target:.2f} {'✅' if ok else '❌'}" if target else "")
        if both:
            cells.append("✅" if (row["ours"]["recall"] or 0) >= (row["presidio"]["recall"] or 0) else "❌")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    head2 = ["Metric"] + tools + ["target"]
    lines += ["| " + " | ".join(head2) + " |", "|" + "---|" * len(head2)]
    s = summary
    fp_ok = "ours" in tools and (s["ours"]["clean_fp_rate"] or 0) <= CLEAN_FP_TARGET
    lines.append("| clean images flagged (score ≥ 0.5) | " + " | ".join(
        f"{_fmt(s[t]['clean_fp_rate'], True)} ({s[t]['clean_flagged']}/{s[t]['clean_images']})" for t in tools)
        + f" | ≤ 3% {'✅' if fp_ok else '❌'} |")
    lines.append("| redaction leakage (found items still readable) | " + " | ".join(
        f"{_fmt(s[t]['leakage'], True)} ({s[t]['leaked']}/{s[t]['leak_checked']})" for t in tools)
        + f" | 0 {'✅' if 'ours' in tools and not s['ours']['leaked'] else '❌'} |")
    lines.append("| latency p50 (s/image) | " + " | ".join(_fmt(s[t]["latency_p50"]) for t in tools) + " | |")
    lines.append("| latency p95 (s/image) | " + " | ".join(_fmt(s[t]["latency_p95"]) for t in tools) + " | |")
    if both:
        lines.append(f"| latency ratio ours/Presidio p50, p95 | {_fmt(s['latency_ratio_p50'])}, "
                     f"{_fmt(s['latency_ratio_p95'])} | | |")
    lines.append("| errors | " + " | ".join(str(s[t]["errors"]) for t in tools) + " | 0 |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("bench/out/corpus"))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--no-ours", action="store_true", help="baseline only (e.g. before the Inspector exists)")
    ap.add_argument("--out", type=Path, default=Path("bench/out/detection.json"))
    ap.add_argument("--report", type=Path, help="only print the tables of an existing (even partial) result file")
    args = ap.parse_args(argv)
    if args.report:
        print(markdown(json.loads(args.report.read_text())["summary"]))
        return 0
    if not (args.corpus / "manifest.json").exists():
        ap.error(f"no manifest in {args.corpus}: run python -m bench.corpus --out {args.corpus}")
    inspector = baseline = None
    if not args.no_ours:
        from gateway.inspection import Inspector
        from gateway.models import InspectOptions

        inspector = Inspector(InspectOptions())
    if not args.no_presidio:
        from bench.presidio_baseline import PresidioBaseline

        baseline = PresidioBaseline()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = benchmark(args.corpus, inspector, baseline, args.limit, checkpoint=args.out)
    print(markdown(result["summary"]))
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
