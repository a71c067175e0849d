"""Labelled document corpus: scanned PDFs, text PDFs, DOCX, XLSX, PPTX and ZIPs, for bench.detection.

    python -m bench.documents --split dev|test --out DIR [--count 30] [--seed N]

Scans are the benchmark's own labelled scene images (bench/scenes, the same split) put on a one-page image PDF,
so their labels carry over; text documents are written with the split's fake identities (bench.corpus.Kit), one
labelled item per value written. The manifest is version 2 (bench/manifest.py), one entry per document with its
`kind`, `pages` and items (entity, text, page where it has one, member inside a ZIP); boxes are null (recall in a
document is by value, see bench/README.md "Documents"). Deterministic per split and seed.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import json
import random
import re
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import corpus

KINDS = ("pdf_scan", "pdf_text", "docx", "xlsx", "pptx", "zip")
EXTENSIONS = {"pdf_scan": "pdf", "pdf_text": "pdf", "docx": "docx", "xlsx": "xlsx", "pptx": "pptx", "zip": "zip"}
# Interleaved so that any prefix (--limit) holds every kind early.
PLAN = ("pdf_scan", "pdf_text", "docx", "xlsx", "pptx", "zip", "pdf_scan", "pdf_text", "docx", "pdf_scan")
CLEAN_EVERY = 3  # every third document of each kind is a clean look-alike
# Scene templates that are paper (what gets scanned), per split.
SCAN_CATEGORIES = {
    "dev": ("letter", "invoice", "hr_form", "passport", "id_card", "receipt", "residence_permit", "shipping_label"),
    "test": ("tax_form", "bank_letter", "passport_td3", "driver_licence", "bank_form", "restaurant_bill"),
}
SCAN_DPI = 150.0
FILLER = ("the quarterly review covers onboarding progress shipping delays and the vendor audit schedule for "
          "next month while the team confirms budget owners and training dates").split()


@dataclass
class Doc:
    """One document being written: its bytes come last, its items as each value is placed."""

    kind: str
    clean: bool
    items: list[dict] = field(default_factory=list)
    pages: int = 1
    scene: str | None = None
    nth: int = 0  # how many documents of this kind came before it

    def value(self, entity: str, text: str, page: int | None = None, member: str | None = None) -> str:
        item = {"entity": entity, "box": None, "text": text, "source": "text", "page": page}
        if member is not None:
            item["member"] = member
        self.items.append(item)
        return text


# ------------------------------------------------------------------------------------------------ values

def _record(rng: random.Random, kit: corpus.Kit) -> list[tuple[str, str, str]]:
    """(label, entity, value) for one fake person: a name and 3-5 other fields."""
    first, last = kit.person(rng)
    fields = [("Name", "PERSON", f"{first} {last}")]
    pool = [
        ("Email", "EMAIL_ADDRESS", lambda: kit.email(rng, first, last)),
        ("Phone", "PHONE_NUMBER", lambda: kit.phone(rng)),
        ("SSN", "US_SSN", lambda: corpus.ssn(rng)),
        ("Card number", "CREDIT_CARD", lambda: corpus.card(rng)),
        ("IBAN", "IBAN_CODE", lambda: kit.iban(rng)),
        ("Date of birth", "DATE_OF_BIRTH", lambda: corpus.dob_wide(rng, corpus.birth_date(rng))),
        ("Last login IP", "IP_ADDRESS", lambda: corpus.ipv4_public(rng)),
        ("API key", "SECRET", lambda: corpus.secret_wide(rng, rng.choice(["aws_key", "github", "slack", "stripe",
                                                                           "openai", "gitlab", "npm"]))),
    ]
    for label, entity, make in rng.sample(pool, rng.randint(3, 5)):
        fields.append((label, entity, make()))
    if rng.random() < 0.5:
        street, city = kit.address(rng)
        fields += [("Address", "LOCATION", street), ("City", "LOCATION", city)]
    return fields


def _lookalikes(rng: random.Random) -> list[tuple[str, str]]:
    """(label, value) that must not be flagged: Luhn-invalid numbers, masked values, example addresses, ids."""
    return [("Order", f"PO-{rng.randint(100000, 999999)}"),
            ("Reference", corpus.card(rng, valid=False)),
            ("Card on file", f"**** **** **** {rng.randint(1000, 9999)}"),
            ("Support", "help@example.com"),
            ("Build", f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}"),
            ("Ticket", f"INC{rng.randint(1000000, 9999999)}")]


def _filler(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choice(FILLER) for _ in range(rng.randint(8, 13))).capitalize() + "." for _ in range(n)]


def _lines(doc: Doc, rng: random.Random, kit: corpus.Kit, page: int | None, member: str | None = None) -> list[str]:
    """Labelled 'Label: value' lines (or look-alikes when clean), in no particular order."""
    if doc.clean:
        return [f"{label}: {value}" for label, value in _lookalikes(rng)[:rng.randint(3, 6)]]
    return [f"{label}: {doc.value(entity, value, page, member)}" for label, entity, value in _record(rng, kit)]


# ------------------------------------------------------------------------------------------------ kinds

def _pdf_text(doc: Doc, rng: random.Random, kit: corpus.Kit, member: str | None = None) -> bytes:
    from tests.support.documents import text_pdf

    doc_pages = rng.randint(1, 3)
    pages = []
    for number in range(1, doc_pages + 1):
        body = _filler(rng, rng.randint(18, 30))
        if number == 1 or rng.random() < 0.6:
            at = rng.randint(2, len(body) - 2)
            body[at:at] = [""] + _lines(doc, rng, kit, number, member) + [""]
        pages.append([kit.company(rng) + " - internal"] + body)
    doc.pages = doc_pages
    return text_pdf(pages)


@functools.lru_cache(maxsize=4)
def _scan_specs(split: str, seed: int) -> tuple[corpus.Spec, ...]:
    return tuple(s for s in corpus.build_specs(seed, split) if s.category in SCAN_CATEGORIES[split])


def _scan_spec(split: str, seed: int, clean: bool, index: int) -> corpus.Spec:
    specs = _scan_specs(split, seed)
    wanted = [s for s in specs if s.clean == clean] or specs
    return wanted[index % len(wanted)]


def _scene_png(spec: corpus.Spec, seed: int) -> tuple[bytes, list[dict]]:
    scene = corpus.render_scene(spec, seed)
    buf = io.BytesIO()
    scene.img.convert("RGB").save(buf, "PNG", compress_level=1)
    items = [{"entity": it.entity, "box": None, "text": it.text, "source": it.source}
             for it in scene.items if it.source in ("text", "face")]  # EXIF does not survive a PDF page
    return buf.getvalue(), items


def _pdf_scan(doc: Doc, spec: corpus.Spec, seed: int) -> bytes:
    from tests.support.documents import image_pdf

    png, items = _scene_png(spec, seed)
    doc.items += [{**it, "page": 1} for it in items]
    doc.clean = not doc.items
    doc.scene = f"{spec.index:04d}_{spec.category}"
    return image_pdf([png], resolution=SCAN_DPI)


def _docx(doc: Doc, rng: random.Random, kit: corpus.Kit) -> bytes:
    from tests.support.documents import docx

    contacts_only = doc.nth % CLEAN_EVERY == 1  # a contact list: what the default policy redacts
    paragraphs = _filler(rng, 3) + ([] if contacts_only else _lines(doc, rng, kit, None)) + _filler(rng, 2)
    table = [["Name", "Email", "Phone"]]
    for _ in range(0 if doc.clean else rng.randint(2, 4) if contacts_only else rng.randint(1, 3)):
        first, last = kit.person(rng)
        table.append([doc.value("PERSON", f"{first} {last}"), doc.value("EMAIL_ADDRESS", kit.email(rng, first, last)),
                      doc.value("PHONE_NUMBER", kit.phone(rng))])
    if doc.clean:
        table.append(["Front desk", "help@example.com", "ext. 2040"])
    return docx(paragraphs, table=table, header=kit.company(rng))


def _xlsx(doc: Doc, rng: random.Random, kit: corpus.Kit) -> bytes:
    from tests.support.documents import xlsx

    sheets: dict[str, list[list]] = {"Customers": [["Name", "Email", "Phone", "Segment"]]}
    for _ in range(rng.randint(4, 8)):
        if doc.clean:
            sheets["Customers"].append([f"Account {rng.randint(1000, 9999)}", "help@example.com",
                                        f"ext. {rng.randint(100, 999)}", rng.choice(["gold", "silver"])])
            continue
        first, last = kit.person(rng)
        sheets["Customers"].append([doc.value("PERSON", f"{first} {last}", 1),
                                    doc.value("EMAIL_ADDRESS", kit.email(rng, first, last), 1),
                                    doc.value("PHONE_NUMBER", kit.phone(rng), 1), rng.choice(["gold", "silver"])])
    if not doc.clean and rng.random() < 0.6:
        sheets["Payouts"] = [["Payee", "IBAN", "Amount"]]
        for _ in range(rng.randint(2, 4)):
            first, last = kit.person(rng)
            sheets["Payouts"].append([doc.value("PERSON", f"{first} {last}", 2), doc.value("IBAN_CODE", kit.iban(rng), 2),
                                      rng.randint(100, 9000)])
    doc.pages = len(sheets)
    return xlsx(sheets)


def _pptx(doc: Doc, rng: random.Random, kit: corpus.Kit) -> bytes:
    from tests.support.documents import pptx

    slides = [f"{kit.company(rng)} quarterly review", "Pipeline and onboarding", "Next steps"]
    noted = rng.randint(1, len(slides))
    notes = {n: " ".join(_filler(rng, 2)) for n in range(1, len(slides) + 1)}
    notes[noted] = "\n".join(_lines(doc, rng, kit, noted))
    doc.pages = len(slides)
    return pptx(slides, notes=notes)


def _zip(doc: Doc, rng: random.Random, kit: corpus.Kit, split: str, seed: int, index: int) -> bytes:
    from tests.support.documents import zip_of

    pdf = _pdf_text(doc, rng, kit, member="notes.pdf")
    pdf_pages = doc.pages
    spec = _scan_spec(split, seed, doc.clean, index)
    png, items = _scene_png(spec, seed)
    doc.items += [{**it, "page": None, "member": "scan.png"} for it in items]
    doc.clean = not doc.items
    doc.scene = f"{spec.index:04d}_{spec.category}"
    doc.pages = pdf_pages + 1
    return zip_of({"notes.pdf": pdf, "scan.png": png})


_FIXED_PDF_DATE = b"D:20260101000000"  # as long as every D:YYYYMMDDHHMMSS it replaces: offsets stay valid
_FIXED_XML_DATE = "2026-01-01T00:00:00Z"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def stable_pdf(data: bytes) -> bytes:
    """The PDF without its clock: creation dates and the file /ID (made from the time) fixed, same lengths."""
    data = re.sub(rb"D:\d{14}", _FIXED_PDF_DATE, data)
    ids = re.compile(rb"(/ID\s*\[\s*)<([0-9A-Fa-f]+)>(\s*)<([0-9A-Fa-f]+)>")
    digest = hashlib.sha256(ids.sub(b"", data)).hexdigest().upper().encode() * 4

    def fixed(m: re.Match) -> bytes:
        return m.group(1) + b"<" + digest[:len(m.group(2))] + b">" + m.group(3) + b"<" + digest[:len(m.group(4))] + b">"

    return ids.sub(fixed, data)


def stable_zip(data: bytes) -> bytes:
    """The package or archive without its clock: member times and document-property dates fixed, PDFs inside
    made stable too."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", _FIXED_XML_DATE,
                                 content.decode("utf-8")).encode("utf-8")
            elif info.filename.endswith(".pdf"):
                content = stable_pdf(content)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            dst.writestr(fixed, content)
    return out.getvalue()


def render(index: int, split: str, seed: int) -> tuple[bytes, dict]:
    """One document: (bytes, manifest entry without its file name)."""
    kind = PLAN[index % len(PLAN)]
    rng = random.Random(f"doc-{split}-{seed}-{index}")
    kit = corpus.DEV if split == "dev" else corpus.TEST
    nth = sum(PLAN[j % len(PLAN)] == kind for j in range(index))  # earlier documents of this kind
    doc = Doc(kind, clean=nth % CLEAN_EVERY == CLEAN_EVERY - 1, nth=nth)
    if kind == "pdf_scan":
        data = _pdf_scan(doc, _scan_spec(split, seed, doc.clean, index), seed)
    elif kind == "pdf_text":
        data = _pdf_text(doc, rng, kit)
    elif kind == "docx":
        data = _docx(doc, rng, kit)
    elif kind == "xlsx":
        data = _xlsx(doc, rng, kit)
    elif kind == "pptx":
        data = _pptx(doc, rng, kit)
    else:
        data = _zip(doc, rng, kit, split, seed, index)
    data = stable_pdf(data) if EXTENSIONS[kind] == "pdf" else stable_zip(data)
    entry = {"category": kind, "kind": kind, "pages": doc.pages, "clean": doc.clean, "split": split,
             "items": doc.items}
    if doc.scene:
        entry["scene"] = doc.scene
    return data, entry


def generate(out: Path, split: str = "dev", seed: int | None = None, count: int = 30) -> dict:
    """Write `count` documents and manifest.json into `out`; returns the manifest."""
    seed = corpus.SPLIT_SEEDS[split] if seed is None else seed
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for index in range(count):
        data, entry = render(index, split, seed)
        name = f"{index:04d}_{entry['kind']}.{EXTENSIONS[entry['kind']]}"
        (out / name).write_bytes(data)
        entries.append({"file": name, **entry})
    manifest = {"version": corpus.MANIFEST_VERSION, "seed": seed, "split": split, "images": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=corpus.SPLITS, default="dev")
    ap.add_argument("--out", type=Path, default=None, help="default: bench/out/docs-SPLIT")
    ap.add_argument("--seed", type=int, default=None, help=f"default: {corpus.SPLIT_SEEDS}")
    ap.add_argument("--count", type=int, default=30)
    args = ap.parse_args(argv)
    out = args.out or Path("bench/out") / f"docs-{args.split}"
    t0 = time.perf_counter()
    try:
        m = generate(out, args.split, args.seed, args.count)
    except corpus.MissingAsset as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    docs = m["images"]
    print(f"{args.split}: {len(docs)} documents ({sum(d['clean'] for d in docs)} clean, "
          f"{sum(d['pages'] for d in docs)} pages), {sum(len(d['items']) for d in docs)} labelled items -> {out} "
          f"in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    for key in ("kind",):
        print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(d[key] for d in docs).items())),
              file=sys.stderr)
    print("  entity: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(
        it["entity"] for d in docs for it in d["items"]).items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    from bench.documents import main as _main  # the module bench.corpus's scenes import, not a second copy

    sys.exit(_main())
