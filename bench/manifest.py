"""The benchmark manifest contract (version 2), checked: shared by the generators (bench/corpus.py), the real set
and the scorer (bench/detection.py). `validate(manifest, root)` returns every violation found, [] when it holds.

Version 1 fields keep their meaning; version 2 adds the split, the informational font and theme, and the `texts`
runs (what a person can read, boxed in the displayed image) that character error rate is measured on.

A document corpus (bench/documents.py) uses the same manifest: an entry with a `kind` (DOCUMENT_KINDS) is a
document, with a `pages` count instead of a size, and items without boxes that may say their `page` and, inside
an archive, their `member`.
"""

from __future__ import annotations

from pathlib import Path

VERSION = 2
SPLITS = {"dev", "test", "real"}
SOURCES = {"text", "face", "barcode", "metadata"}
ENTITIES = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "SECRET", "MRZ", "PERSON",
            "LOCATION", "IP_ADDRESS", "DATE_OF_BIRTH", "ID_DOCUMENT_NUMBER", "FACE", "EXIF_GPS"}
_IMAGE_KEYS = {"file": str, "category": str, "clean": bool, "width": int, "height": int, "geometry": str,
               "split": str}
DOCUMENT_KINDS = {"pdf_text", "pdf_scan", "docx", "xlsx", "pptx", "zip"}
_DOCUMENT_KEYS = {"file": str, "category": str, "kind": str, "pages": int, "clean": bool, "split": str}
_OPTIONAL = {"jpeg_quality": (int, type(None)), "font": (str, type(None)), "theme": (str, type(None)),
             "source": str, "license": str, "notes": str}


def _box_errors(box, w: int, h: int, where: str) -> list[str]:
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)):
        return [f"{where}: box must be 4 integers, got {box!r}"]
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        return [f"{where}: box {box} is empty or outside the {w}x{h} image"]
    return []


def _item_errors(it: dict, w: int, h: int, where: str) -> list[str]:
    errs = []
    if set(it) != {"entity", "box", "text", "source"}:
        errs.append(f"{where}: keys {sorted(it)} != entity, box, text, source")
    if it.get("entity") not in ENTITIES:
        errs.append(f"{where}: unknown entity {it.get('entity')!r}")
    src = it.get("source")
    if src not in SOURCES:
        errs.append(f"{where}: unknown source {src!r}")
    if src == "metadata":
        if it.get("box") is not None:
            errs.append(f"{where}: a metadata item has no box")
    else:
        errs += _box_errors(it.get("box"), w, h, where)
    if src in ("text", "barcode") and not (isinstance(it.get("text"), str) and it["text"]):
        errs.append(f"{where}: a {src} item needs its text")
    if it.get("text") is not None and not isinstance(it["text"], str):
        errs.append(f"{where}: text must be a string or null")
    return errs


def _image_errors(e: dict, split: str, root: Path | None) -> list[str]:
    where = f"image {e.get('file', '?')}"
    errs = [f"{where}: {k} must be {t.__name__}" for k, t in _IMAGE_KEYS.items()
            if not isinstance(e.get(k), t) or (t is int and isinstance(e.get(k), bool))]
    errs += [f"{where}: {k} has the wrong type" for k, t in _OPTIONAL.items() if k in e and not isinstance(e[k], t)]
    if "jpeg_quality" not in e:
        errs.append(f"{where}: jpeg_quality missing (null when not JPEG)")
    if errs:
        return errs
    if e["split"] != split:
        errs.append(f"{where}: split {e['split']!r} differs from the manifest's {split!r}")
    if split == "real":
        errs += [f"{where}: the real set records {k}" for k in ("source", "license", "notes") if not e.get(k)]
    w, h = e["width"], e["height"]
    items = e.get("items")
    if not isinstance(items, list):
        return errs + [f"{where}: items must be a list"]
    for i, it in enumerate(items):
        errs += _item_errors(it, w, h, f"{where} item {i}")
    if e["clean"] != (not items):
        errs.append(f"{where}: clean={e['clean']} but {len(items)} items")
    for i, t in enumerate(e.get("texts", [])):
        if set(t) != {"text", "box"} or not (isinstance(t.get("text"), str) and t["text"].strip()):
            errs.append(f"{where} text {i}: needs a non-empty text and a box, got {t!r}")
            continue
        errs += _box_errors(t["box"], w, h, f"{where} text {i}")
    if root is not None:
        errs += _file_errors(e, root, where)
    return errs


def _file_errors(e: dict, root: Path, where: str) -> list[str]:
    from PIL import Image, ImageOps

    path = root / e["file"]
    if not path.is_file():
        return [f"{where}: file missing under {root}"]
    with Image.open(path) as img:
        size = ImageOps.exif_transpose(img).size
    return [] if size == (e["width"], e["height"]) else [f"{where}: displayed size {size} != manifest size"]


def _document_item_errors(it: dict, pages: int, where: str) -> list[str]:
    errs = []
    if not {"entity", "box", "text", "source"} <= set(it) <= {"entity", "box", "text", "source", "page", "member"}:
        errs.append(f"{where}: keys {sorted(it)} != entity, box, text, source [, page, member]")
    if it.get("entity") not in ENTITIES:
        errs.append(f"{where}: unknown entity {it.get('entity')!r}")
    if it.get("source") not in ("text", "face"):
        errs.append(f"{where}: a document item's source is text or face, got {it.get('source')!r}")
    if it.get("box") is not None:
        errs.append(f"{where}: a document item has no box")
    if it.get("source") == "text" and not (isinstance(it.get("text"), str) and it["text"]):
        errs.append(f"{where}: a text item needs its text")
    page = it.get("page")
    if page is not None and not (isinstance(page, int) and not isinstance(page, bool) and 1 <= page <= pages):
        errs.append(f"{where}: page {page!r} is not one of the document's {pages} pages")
    if "member" in it and not (isinstance(it["member"], str) and it["member"]):
        errs.append(f"{where}: member must be a non-empty string")
    return errs


def _document_errors(e: dict, split: str, root: Path | None) -> list[str]:
    where = f"document {e.get('file', '?')}"
    errs = [f"{where}: {k} must be {t.__name__}" for k, t in _DOCUMENT_KEYS.items()
            if not isinstance(e.get(k), t) or (t is int and isinstance(e.get(k), bool))]
    if errs:
        return errs
    if e["kind"] not in DOCUMENT_KINDS:
        errs.append(f"{where}: kind {e['kind']!r} not one of {sorted(DOCUMENT_KINDS)}")
    if e["split"] != split:
        errs.append(f"{where}: split {e['split']!r} differs from the manifest's {split!r}")
    if e["pages"] < 1:
        errs.append(f"{where}: pages must be at least 1")
    items = e.get("items")
    if not isinstance(items, list):
        return errs + [f"{where}: items must be a list"]
    for i, it in enumerate(items):
        errs += _document_item_errors(it, e["pages"], f"{where} item {i}")
    if e["clean"] != (not items):
        errs.append(f"{where}: clean={e['clean']} but {len(items)} items")
    if root is not None and not (root / e["file"]).is_file():
        errs.append(f"{where}: file missing under {root}")
    return errs


def is_document(entry: dict) -> bool:
    """A manifest entry for a document (bench/documents.py) rather than an image."""
    return "kind" in entry


def validate(manifest: dict, root: Path | None = None) -> list[str]:
    """Every violation of the contract (with `root`, also each file's presence and displayed size)."""
    errs = []
    if manifest.get("version") != VERSION:
        errs.append(f"version {manifest.get('version')!r} != {VERSION}")
    if not (manifest.get("seed") is None or isinstance(manifest.get("seed"), int)):
        errs.append("seed must be an integer or null")
    split = manifest.get("split")
    if split not in SPLITS:
        errs.append(f"split {split!r} not one of {sorted(SPLITS)}")
    images = manifest.get("images")
    if not isinstance(images, list) or not images:
        return errs + ["images must be a non-empty list"]
    files = [e.get("file") for e in images]
    if len(set(files)) != len(files):
        errs.append("file names repeat")
    for e in images:
        errs += _document_errors(e, split, root) if is_document(e) else _image_errors(e, split, root)
    return errs
