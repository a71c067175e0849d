"""QR codes, DataMatrix, PDF417 (driver licenses), Aztec and 1-D barcodes via zxing-cpp."""

from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

from gateway.models import Box

MAX_CODES = 50  # a page of labels is plenty; bounds the PII analysis a crafted image can cost
MAX_TEXT_CHARS = 4_000


def read_barcodes(rgb: np.ndarray) -> list[tuple[str, Box]]:
    """Decoded text and bounding box (x0, y0, x1, y1) of every barcode in an HxWx3 RGB uint8 image."""
    gray = np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    height, width = gray.shape
    found: list[tuple[str, Box]] = []
    for code in zxingcpp.read_barcodes(gray)[:MAX_CODES]:
        text = code.text or code.bytes.decode("latin-1")
        if not text:
            continue
        pos = code.position
        xs = [p.x for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)]
        ys = [p.y for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)]
        box = (max(0, min(xs)), max(0, min(ys)), min(width, max(xs) + 1), min(height, max(ys) + 1))
        found.append((text[:MAX_TEXT_CHARS], box))
    return found
