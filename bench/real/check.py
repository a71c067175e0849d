"""Validate the real-image set: `python -m bench.real.check [bench/real]`.

Checks every manifest entry against the benchmark contract (bench/README.md, manifest version 2): the file exists
and matches its recorded sha256 and size, boxes lie inside the image, every image names its source and licence, a
clean image has no items, and printed values that carry a checksum are labelled honestly (a CREDIT_CARD must pass
Luhn, an IBAN_CODE mod-97, a US_SSN the SSA's structural rules). MRZ lines whose check digits fail are reported as
warnings, not errors: specimen documents sometimes print invalid digits on purpose, and such an item must say so in
its image's notes. Exit status 1 when any error is found.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from PIL import Image

ENTITIES = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "SECRET", "MRZ", "PERSON",
            "LOCATION", "IP_ADDRESS", "DATE_OF_BIRTH", "ID_DOCUMENT_NUMBER", "FACE", "EXIF_GPS"}
SOURCES = {"text", "face", "barcode", "metadata"}
REQUIRED = ("file", "category", "clean", "width", "height", "geometry", "split", "items", "source", "license",
            "notes", "sha256")
_MRZ_VALUES = {**{str(d): d for d in range(10)}, "<": 0, **{chr(65 + i): 10 + i for i in range(26)}}


def luhn_ok(value: str) -> bool:
    """Luhn checksum of the digits in `value` (13-19 digits)."""
    digits = [int(c) for c in re.sub(r"\D", "", value)]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN printed with or without spaces."""
    s = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    return int("".join(str(int(c, 36)) for c in s[4:] + s[:4])) % 97 == 1


def ssn_ok(value: str) -> bool:
    """SSA structural rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    m = re.fullmatch(r"(\d{3})[- ]?(\d{2})[- ]?(\d{4})", value.strip())
    if not m:
        return False
    area, group, serial = m.groups()
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def mrz_digit(field: str) -> str:
    """ICAO 9303 check digit (weights 7, 3, 1) of an MRZ field."""
    return str(sum(_MRZ_VALUES.get(c, 0) * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10)


def mrz_problems(lines: list[str]) -> list[str]:
    """Check digits that fail in a TD1 (3x30), TD2 (2x36) or TD3 (2x44) MRZ; [] when all hold."""
    lens = [len(s) for s in lines]
    if lens == [30, 30, 30]:
        a, b = lines[0], lines[1]
        fields = [("document number", a[5:14], a[14]), ("birth date", b[0:6], b[6]), ("expiry", b[8:14], b[14]),
                  ("composite", a[5:30] + b[0:7] + b[8:15] + b[18:29], b[29])]
    elif lens in ([36, 36], [44, 44]):
        b, n = lines[1], lens[0]
        composite = (b[0:10] + b[13:20] + b[21:43], b[43]) if n == 44 else (b[0:10] + b[13:20] + b[21:35], b[35])
        fields = [("document number", b[0:9], b[9]), ("birth date", b[13:19], b[19]), ("expiry", b[21:27], b[27]),
                  ("composite", *composite)]
    else:
        return [f"MRZ line lengths {lens} are not TD1, TD2 or TD3"]
    return [f"{name} check digit {got!r} != {mrz_digit(f)!r}" for name, f, got in fields
            if got != "<" and mrz_digit(f) != got]


def _box_errors(box, width: int, height: int) -> list[str]:
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)):
        return [f"box {box!r} is not four integers"]
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        return [f"box {box} outside the {width}x{height} image or empty"]
    return []


def _item_errors(item: dict, width: int, height: int) -> list[str]:
    errors = []
    ent, text = item.get("entity"), item.get("text")
    if ent not in ENTITIES:
        errors.append(f"unknown entity {ent!r}")
    if item.get("source") not in SOURCES:
        errors.append(f"{ent}: unknown source {item.get('source')!r}")
    if item.get("box") is not None:
        errors += [f"{ent}: {e}" for e in _box_errors(item["box"], width, height)]
    elif ent != "EXIF_GPS":
        errors.append(f"{ent}: no box")
    if item.get("source") == "text" and not text:
        errors.append(f"{ent}: text item without its printed text")
    checks = {"CREDIT_CARD": luhn_ok, "IBAN_CODE": iban_ok, "US_SSN": ssn_ok}
    if ent in checks and text and not checks[ent](text):
        errors.append(f"{ent} {text!r} fails its checksum: label it as what a default policy sees, say so in notes")
    return errors


def check_entry(entry: dict, root: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one manifest image entry."""
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        return [f"missing fields {missing}"], []
    errors: list[str] = []
    path = root / entry["file"]  # relative to the manifest, as in every corpus
    if not path.is_file():
        return [f"{path} does not exist"], []
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        errors.append("sha256 does not match the file")
    with Image.open(path) as im:
        if im.size != (entry["width"], entry["height"]):
            errors.append(f"size {im.size} != manifest {entry['width']}x{entry['height']}")
    for key in ("source", "license"):
        if not str(entry[key]).strip():
            errors.append(f"empty {key}")
    if entry["clean"] != (not entry["items"]):
        errors.append("clean must be true exactly when there are no items")
    for item in entry["items"]:
        errors += _item_errors(item, entry["width"], entry["height"])
    for t in entry.get("texts", []):
        errors += [f"text {t.get('text')!r}: {e}" for e in _box_errors(t.get("box"), entry["width"], entry["height"])]
        if not t.get("text"):
            errors.append("text run without text")
    warnings = []
    mrz = [it["text"] for it in entry["items"] if it["entity"] == "MRZ"]
    if mrz:
        warnings += [f"MRZ {p}" for p in mrz_problems(mrz)]
        if warnings and "check digit" not in entry["notes"]:
            errors.append("MRZ check digits fail but the notes do not say so")
    return errors, warnings


def check(root: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Errors and warnings per file (plus '<manifest>') for the set under `root`."""
    manifest = json.loads((root / "manifest.json").read_text())
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    top = [f"{k} must be {v!r}" for k, v in (("version", 2), ("split", "real")) if manifest.get(k) != v]
    if top:
        errors["<manifest>"] = top
    files = [e.get("file") for e in manifest["images"]]
    if len(set(files)) != len(files):
        errors.setdefault("<manifest>", []).append("duplicate file names")
    on_disk = {f"images/{p.name}" for p in (root / "images").iterdir()}
    if on_disk - set(files):
        errors.setdefault("<manifest>", []).append(f"images not in the manifest: {sorted(on_disk - set(files))}")
    for entry in manifest["images"]:
        e, w = check_entry(entry, root)
        if e:
            errors[entry.get("file", "?")] = e
        if w:
            warnings[entry.get("file", "?")] = w
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).parent
    errors, warnings = check(root)
    manifest = json.loads((root / "manifest.json").read_text())
    for name, msgs in warnings.items():
        for m in msgs:
            print(f"warning {name}: {m}")
    for name, msgs in errors.items():
        for m in msgs:
            print(f"ERROR {name}: {m}")
    n = len(manifest["images"])
    items = sum(len(e["items"]) for e in manifest["images"])
    print(f"{n} images, {items} items, {sum(e['clean'] for e in manifest['images'])} clean: "
          f"{'OK' if not errors else f'{sum(map(len, errors.values()))} errors'}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
