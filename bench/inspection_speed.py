"""Per-image inspection latency of `Inspector().inspect(data)` vs EasyOCR's default `reader.readtext(image)`.

    python -m bench.inspection_speed [--images DIR] [--repeats 3] [--easyocr-repeats 1] [--quick]

Both run in this one process with the same torch thread count, on the same images, with the same EasyOCR weights
(the offline `easyocr_en_models` package). The Inspector number is the whole pipeline (decode, metadata, OCR,
Presidio, faces, barcodes); the EasyOCR number is only `readtext` on already-decoded pixels, so the ratio is
conservative. Target: EasyOCR default / Inspector >= 4. Writes bench/out/inspection_speed.json.

The image renderers here are also used by bench/proxy.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
OUT = Path(__file__).resolve().parent / "out"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


# --------------------------------------------------------------------------------------------- images


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def screenshot(serial: int = 0, size: tuple[int, int] = (1024, 768)) -> bytes:
    """A clean app-window screenshot (title bar, sidebar, headings, paragraphs, buttons) with no PII.

    `serial` is printed in the footer so every serial gives a distinct image (no cache hits between them).
    """
    w, h = size
    img = Image.new("RGB", size, (246, 247, 249))
    d = ImageDraw.Draw(img)
    f, fb, fs = ImageFont.truetype(FONT, 16), ImageFont.truetype(FONT_BOLD, 22), ImageFont.truetype(FONT, 13)
    d.rectangle((0, 0, w, 40), fill=(40, 44, 52))
    d.text((16, 11), "Project Tracker  -  Sprint board", font=f, fill=(230, 230, 230))
    d.rectangle((0, 40, 210, h), fill=(228, 231, 236))
    for i, item in enumerate(["Overview", "Backlog", "Sprint 14", "Releases", "Reports", "Settings"]):
        d.text((20, 64 + i * 36), item, font=f, fill=(50, 50, 60))
    d.text((240, 60), "Quarterly roadmap review", font=fb, fill=(20, 20, 30))
    lines = [
        "Ship the new onboarding flow before the end of the quarter.",
        "Migrate the billing service to the new queue and retire the old cron jobs.",
        "Reduce the median page load time of the dashboard under two seconds.",
        "Write the runbook for the storage failover drill and schedule the rehearsal.",
        "Review open accessibility issues with the design team every Thursday.",
    ]
    y = 110
    for line in lines:
        d.text((240, y), line, font=f, fill=(40, 40, 50))
        y += 30
    for i, (label, value) in enumerate([("Open tasks", "42"), ("In review", "7"), ("Done this sprint", "19")]):
        x = 240 + i * 250
        d.rounded_rectangle((x, 290, x + 230, 390), 8, fill=(255, 255, 255), outline=(210, 214, 220))
        d.text((x + 16, 305), label, font=f, fill=(90, 90, 100))
        d.text((x + 16, 335), value, font=fb, fill=(20, 20, 30))
    y = 420
    for i in range(6):
        d.rectangle((240, y, w - 30, y + 38), fill=(255, 255, 255) if i % 2 else (250, 250, 252))
        d.text((252, y + 10), f"TASK-{310 + i}  Update dependency versions for module {i + 3}", font=f,
               fill=(40, 40, 50))
        d.text((w - 150, y + 10), ["todo", "doing", "review"][i % 3], font=f, fill=(60, 90, 160))
        y += 40
    for i, label in enumerate(["Create task", "Export", "Filter"]):
        d.rounded_rectangle((240 + i * 150, h - 80, 370 + i * 150, h - 44), 6, fill=(52, 110, 220))
        d.text((258 + i * 150, h - 71), label, font=f, fill=(255, 255, 255))
    d.text((w - 230, h - 24), f"build {serial:06d}  v2.14", font=fs, fill=(120, 120, 130))
    return _png(img)


def document(lines: list[str], size: tuple[int, int] = (1240, 800), font_size: int = 26, serial: int | None = None) -> bytes:
    """A document page: dark text on white, one string per line (optionally a distinct serial in the footer)."""
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(FONT, font_size)
    y = 40
    for line in lines:
        d.text((50, y), line, font=f, fill=(20, 20, 20))
        y += int(font_size * 1.7)
        if y > size[1] - 60:
            break
    if serial is not None:
        d.text((50, size[1] - 40), f"Ref {serial:06d}", font=ImageFont.truetype(FONT, 16), fill=(90, 90, 90))
    return _png(img)


EMAIL = "jane.doe@corpmail.com"


def email_document(serial: int = 0) -> bytes:
    """A 1240x800 support-ticket page with an e-mail address (blocked / redacted by the bench policy)."""
    return document(["Customer support ticket", "Please contact the customer about the refund:", f"Email: {EMAIL}",
                     "The order was delivered damaged on arrival.", "Priority: normal"], serial=serial)


def form_1240x800() -> bytes:
    """A filled-in form with labels, boxes and contact details."""
    img = Image.new("RGB", (1240, 800), "white")
    d = ImageDraw.Draw(img)
    f, fb = ImageFont.truetype(FONT, 22), ImageFont.truetype(FONT_BOLD, 30)
    d.text((60, 40), "Vendor registration form", font=fb, fill=(10, 10, 10))
    fields = [("Company", "Northwind Traders Ltd"), ("Contact e-mail", EMAIL), ("Phone", "+1 415 555 0142"),
              ("Street", "18 Harbour Road"), ("City", "Springfield"), ("Tax category", "B2 services"),
              ("Bank reference", "see attached letter"), ("Signed on", "12 March 2024")]
    y = 120
    for label, value in fields:
        d.text((60, y + 8), label, font=f, fill=(60, 60, 60))
        d.rectangle((360, y, 1160, y + 44), outline=(120, 120, 120), width=2)
        d.text((372, y + 8), value, font=f, fill=(15, 15, 15))
        y += 76
    return _png(img)


def photo_like(size: tuple[int, int] = (2000, 1500)) -> bytes:
    """A smooth, noisy 'photo' (gradient + texture), JPEG, no text and no faces."""
    import numpy as np

    w, h = size
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    rng = np.random.default_rng(7)
    r = 200 * x + 30 * np.sin(9 * y) + rng.normal(0, 6, (h, w))
    g = 160 * y + 40 * np.cos(7 * x) + rng.normal(0, 6, (h, w))
    b = 120 + 60 * x * y + rng.normal(0, 6, (h, w))
    arr = np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype("uint8")
    return _jpeg(Image.fromarray(arr))


def large_document() -> bytes:
    """A 3000x2000 dense text page (many words: the recognition-heavy case)."""
    para = ("The committee reviewed the annual maintenance plan for the water treatment facility and approved "
            "the replacement of two pumps, the upgrade of the control software and a training budget.")
    words = para.split()
    lines, line = [], []
    for i in range(600):
        line.append(words[i % len(words)])
        if len(" ".join(line)) > 95:
            lines.append(" ".join(line))
            line = []
    return document(["Annual maintenance report"] + lines, size=(3000, 2000), font_size=44)


def builtin_images() -> dict[str, bytes]:
    return {
        "screenshot_1024x768.png": screenshot(1),
        "form_1240x800.png": form_1240x800(),
        "photo_2000x1500.jpg": photo_like(),
        "document_3000x2000.png": large_document(),
    }


def load_images(directory: Path) -> dict[str, bytes]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"no images in {directory}")
    return {p.name: p.read_bytes() for p in files}


# --------------------------------------------------------------------------------------------- stats


def pct(values: list[float], q: float) -> float:
    """Percentile with linear interpolation (q in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "loadavg_start": list(os.getloadavg())}


# --------------------------------------------------------------------------------------------- main


def easyocr_reader():
    import easyocr
    import easyocr_en_models

    netdir = tempfile.mkdtemp(prefix="easyocr-net-")
    return easyocr.Reader(["en"], gpu=False, download_enabled=False, verbose=False,
                          model_storage_directory=easyocr_en_models.model_dir(), user_network_directory=netdir)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, help="directory of images (default: 4 rendered images)")
    ap.add_argument("--repeats", type=int, default=3, help="Inspector runs per image (default 3)")
    ap.add_argument("--easyocr-repeats", type=int, default=1, help="EasyOCR readtext runs per image (default 1)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="torch threads for both (default: all cores, like a 1-worker gateway)")
    ap.add_argument("--quick", action="store_true", help="1 run each")
    ap.add_argument("--out", type=Path, default=OUT / "inspection_speed.json")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats = args.easyocr_repeats = 1

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    images = load_images(args.images) if args.images else builtin_images()
    info = machine()

    from gateway.inspection import Inspector

    t0 = time.perf_counter()
    inspector = Inspector()
    inspector.inspect(screenshot(999))  # warm-up: lazy imports, first-call allocations
    load_inspector = time.perf_counter() - t0

    t0 = time.perf_counter()
    reader = easyocr_reader()
    load_easyocr = time.perf_counter() - t0
    reader.readtext(np.asarray(Image.open(io.BytesIO(screenshot(999))).convert("RGB")))  # warm-up

    # Interleave the two per image so that load from other processes on the machine hits both alike.
    per_image: dict[str, dict] = {}
    all_totals: list[float] = []
    all_easy: list[float] = []
    stage_samples: dict[str, list[float]] = {}
    for name, data in images.items():
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))  # decode excluded from EasyOCR's time
        totals, stages, easy = [], [], []
        report = None
        for i in range(max(args.repeats, args.easyocr_repeats)):
            if i < args.repeats:
                t = time.perf_counter()
                report = inspector.inspect(data)
                totals.append(time.perf_counter() - t)
                stages.append(dict(report.stage_seconds))
            if i < args.easyocr_repeats:
                t = time.perf_counter()
                reader.readtext(pixels)
                easy.append(time.perf_counter() - t)
        for st in stages:
            for k, v in st.items():
                stage_samples.setdefault(k, []).append(v)
        all_totals += totals
        all_easy += easy
        per_image[name] = {
            "bytes": len(data), "size": f"{report.width}x{report.height}", "inspector_s": totals,
            "inspector_stages_median": {k: statistics.median(s[k] for s in stages if k in s) for k in stages[0]},
            "error": report.error.value if report.error else None,
            "findings": sorted({f.entity for f in report.findings}),
            "easyocr_default_s": easy,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"partial": True, "machine": info, "images": per_image}, indent=2))
        print(f"{name}: inspector {statistics.median(totals):.2f}s {per_image[name]['inspector_stages_median']}; "
              f"easyocr readtext {statistics.median(easy):.2f}s; load {os.getloadavg()[0]:.1f}",
              file=sys.stderr, flush=True)

    for row in per_image.values():
        row["ratio_median"] = statistics.median(row["easyocr_default_s"]) / statistics.median(row["inspector_s"])
    sum_easy = sum(statistics.median(r["easyocr_default_s"]) for r in per_image.values())
    sum_insp = sum(statistics.median(r["inspector_s"]) for r in per_image.values())
    result = {
        "machine": info, "loadavg_end": list(os.getloadavg()), "threads": args.threads,
        "command": "python -m bench.inspection_speed " + " ".join(argv if argv is not None else sys.argv[1:]),
        "load_seconds": {"inspector": load_inspector, "easyocr": load_easyocr},
        "images": per_image,
        "inspector_total": {"p50": pct(all_totals, 50), "p95": pct(all_totals, 95)},
        "inspector_stages": {k: {"p50": pct(v, 50), "p95": pct(v, 95)} for k, v in stage_samples.items()},
        "easyocr_default": {"p50": pct(all_easy, 50), "p95": pct(all_easy, 95)},
        "ratio_sum_of_medians": sum_easy / sum_insp,
        "ratio_min_per_image": min(r["ratio_median"] for r in per_image.values()),
        "target_ratio": 4.0,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    return 0


def markdown(r: dict) -> str:
    stages = list(r["inspector_stages"])
    out = [f"Machine: {r['machine']['nproc']} cores, {r['machine']['cpu']}; torch threads {r['threads']}; "
           f"load avg start {r['machine']['loadavg_start'][0]:.2f}, end {r['loadavg_end'][0]:.2f}",
           f"Model load: Inspector {r['load_seconds']['inspector']:.1f}s (incl. warm-up), "
           f"EasyOCR reader {r['load_seconds']['easyocr']:.1f}s", "",
           "| image | size | Inspector median s | " + " | ".join(stages) + " | EasyOCR readtext median s | ratio |",
           "|---|---|---|" + "---|" * len(stages) + "---|---|"]
    for name, row in r["images"].items():
        st = row["inspector_stages_median"]
        out.append(f"| {name} | {row['size']} | {statistics.median(row['inspector_s']):.2f} | "
                   + " | ".join(f"{st.get(s, 0):.2f}" for s in stages)
                   + f" | {statistics.median(row['easyocr_default_s']):.2f} | {row['ratio_median']:.2f}x |")
    t, e = r["inspector_total"], r["easyocr_default"]
    out += ["", "| all images | p50 s | p95 s |", "|---|---|---|",
            f"| Inspector total | {t['p50']:.2f} | {t['p95']:.2f} |"]
    out += [f"| Inspector stage {k} | {v['p50']:.3f} | {v['p95']:.3f} |" for k, v in r["inspector_stages"].items()]
    out += [f"| EasyOCR default readtext | {e['p50']:.2f} | {e['p95']:.2f} |", "",
            f"Speed-up EasyOCR-default / Inspector: {r['ratio_sum_of_medians']:.2f}x over the set (sum of medians), "
            f"worst image {r['ratio_min_per_image']:.2f}x (target >= {r['target_ratio']:.0f}x)"]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
