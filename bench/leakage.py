"""Leakage over everything readable: which labelled items an independent reader can still read after the gateway.

The reader is independent of both detectors: Debian Tesseract (OMP_THREAD_LIMIT=1) on a crop around a text item,
OpenCV's Haar cascade for faces, zxing for QR payloads, Pillow for the GPS IFD. Only items it reads on the original
count; each is then looked for in the image that would be forwarded (nothing when blocked, the original when
allowed, the redacted copy when redacted).
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

IOU_MIN = 0.3
NUMERIC = {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER"}
PAINT_PAD_SHARE = 0.3  # more than redaction pads a box (0.15, faces 0.25 of the smaller side) ...
PAINT_PAD_MIN = 4  # ... and more than its 3 px minimum: a crop no padded box touches is surely unpainted


def normalize(value: str, numeric: bool) -> str:
    return re.sub(r"\D", "", value) if numeric else re.sub(r"[^a-z0-9]", "", value.lower())


def is_numeric(entity: str, value: str) -> bool:
    return entity in NUMERIC or (not re.search(r"[A-Za-z]", value) and len(re.sub(r"\D", "", value)) >= 6)


def readable(value: str, ocr_text: str, numeric: bool) -> bool:
    """Is (most of) value in the OCR text? Short values must appear whole; long ones as any 60% window."""
    v, t = normalize(value, numeric), normalize(ocr_text, numeric)
    if not v:
        return False
    k = len(v) if len(v) <= 8 else max(8, math.ceil(0.6 * len(v)))
    return any(v[i:i + k] in t for i in range(len(v) - k + 1))


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def probe_region(item: dict, width: int, height: int) -> tuple[int, int, int, int]:
    """The part of the image the reader looks at for an item with a box (its crop)."""
    x0, y0, x1, y1 = item["box"]
    if item.get("source") == "face":
        s = max(x1 - x0, y1 - y0)
        return (max(0, int(x0 - s * 0.6)), max(0, int(y0 - s * 0.6)),
                min(width, int(x1 + s * 0.6)), min(height, int(y1 + s * 0.6)))
    pad = int(min(x1 - x0, y1 - y0) * 0.5) + 8
    return max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)


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

    def _crop(self, img: Image.Image, item: dict, geometry: str) -> Image.Image:
        crop = img.crop(probe_region(item, img.width, img.height))
        if geometry == "rot90":  # the corpus turned these pages counter-clockwise; turn the crop back
            crop = crop.transpose(Image.Transpose.ROTATE_270)
        if min(crop.size) < 60:
            crop = crop.resize((crop.width * 2, crop.height * 2), Image.LANCZOS)
        return crop

    def text_visible(self, img: Image.Image, item: dict, geometry: str, psms=("6", "11")) -> str | None:
        """The Tesseract page-segmentation mode that reads the item (block, then sparse text), or None."""
        crop = self._crop(img, item, geometry)
        numeric = is_numeric(item["entity"], item["text"])
        for psm in psms:
            if readable(item["text"], self._tess.image_to_string(crop, config=f"--psm {psm}"), numeric):
                return psm
        return None

    def face_visible(self, img: Image.Image, box) -> bool:
        x0, y0, x1, y1 = box
        s = max(x1 - x0, y1 - y0)
        cx0, cy0, cx1, cy1 = probe_region({"box": box, "source": "face"}, img.width, img.height)
        gray = self._cv2.cvtColor(np.asarray(img.crop((cx0, cy0, cx1, cy1)).convert("RGB")),
                                  self._cv2.COLOR_RGB2GRAY)
        dets = self._faces.detectMultiScale(gray, 1.1, 4, minSize=(max(20, s // 3), max(20, s // 3)))
        shifted = [x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0]
        return any(_iou(shifted, [x, y, x + w, y + h]) >= IOU_MIN for x, y, w, h in dets)

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


def measurable(item: dict) -> bool:
    """Items the reader can be asked about: text and codes need their value, faces their box."""
    src = item.get("source", "text")
    if src == "metadata":
        return True
    if src == "face":
        return item.get("box") is not None
    return bool(item.get("text")) and item.get("box") is not None


@dataclass
class Forwarded:
    """What leaves the gateway for one image: nothing (blocked), the original, or a redacted copy."""

    kind: str  # "nothing" | "original" | "redacted"
    image: Image.Image | None = None
    data: bytes | None = None
    painted: list[Sequence[float]] = field(default_factory=list)  # boxes the redaction painted over

    @classmethod
    def nothing(cls) -> Forwarded:
        return cls("nothing")

    @classmethod
    def original(cls) -> Forwarded:
        return cls("original")


def _touches(region, painted: list[Sequence[float]]) -> bool:
    for b in painted:
        pad = max(PAINT_PAD_MIN, PAINT_PAD_SHARE * min(b[2] - b[0], b[3] - b[1]))
        if b[0] - pad < region[2] and region[0] < b[2] + pad and b[1] - pad < region[3] and region[1] < b[3] + pad:
            return True
    return False


def still_readable(probe: LeakProbe, item: dict, geometry: str, fwd: Forwarded, size: tuple[int, int]) -> bool:
    """Can the reader still read this item (readable on the original) in what is forwarded?

    A crop that no painted box comes near holds the original's pixels (re-encoded): it stays readable without
    reading it again. Metadata and codes are always looked for again (cheap, and redaction drops all metadata).
    """
    if fwd.kind == "nothing":
        return False
    if fwd.kind == "original":
        return True
    src = item.get("source", "text")
    if src in ("text", "face") and not _touches(probe_region(item, *size), fwd.painted):
        return True
    return bool(probe.visible(fwd.image, fwd.data, item, geometry))


def leak_table(rows: list[tuple[str, bool]]) -> dict[str, list[int]]:
    """{entity: [still readable, readable on the original]} from (entity, leaked) pairs."""
    out: dict[str, list[int]] = {}
    for entity, leaked in rows:
        counts = out.setdefault(entity, [0, 0])
        counts[0] += bool(leaked)
        counts[1] += 1
    return dict(sorted(out.items()))
