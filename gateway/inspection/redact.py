"""Render a redacted copy of an image: text and code boxes painted over, faces destroyed, all metadata gone.

The output is the EXIF-oriented frame 0 (the orientation tag is dropped with the rest of the metadata), re-encoded
in the input's own format (HEIC through pillow-heif's x265, AVIF through Pillow's libavif). Pixels are converted to sRGB when the input carried an ICC profile, and no ICC profile,
EXIF, XMP, text chunk or comment is written: no EXIF thumbnail, MPF image, Photoshop or XMP thumbnail survives, nor
any frame but the first. Under (nearly) transparent pixels the colours are set to white, so `convert("RGB")` of the
output shows there what the composited picture shows; boxes found in the alpha-hidden plane are painted like any.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

from gateway.inspection import heif
from gateway.inspection.decode import DecodedImage, _oriented
from gateway.models import Box, Finding, InspectionError, InspectionErrorKind

FILL = (0, 0, 0)
BOX_PAD = 0.15  # of the box's smaller side, at least MIN_PAD pixels: OCR boxes hug the glyphs
MIN_PAD = 3
# At or below this alpha a pixel's colour moves any composite by at most 8 of 255 levels: it is cleared to white.
CLEAR_ALPHA = 8
FACE_PAD = 0.25  # faces: the detector's box misses hair, ears and chin
_ALPHA_FORMATS = ("PNG", "WEBP", "TIFF", "GIF", "HEIF", "AVIF")


def redact_image(decoded: DecodedImage, findings: list[Finding]) -> bytes:
    """Return the redacted image encoded in decoded.format. Findings without a box are ignored."""
    base = _base(decoded)
    pixels = np.array(base)  # HxWx3 or HxWx4, a writable copy
    height, width = pixels.shape[:2]
    faces = [f.box for f in findings if f.box is not None and f.entity == "FACE"]
    others = [f.box for f in findings if f.box is not None and f.entity != "FACE"]
    for box in faces:
        region = _padded(box, FACE_PAD, width, height)
        if region:
            _destroy(pixels, region)
    for box in others:
        region = _padded(box, BOX_PAD, width, height)
        if region:
            x0, y0, x1, y1 = region
            pixels[y0:y1, x0:x1, :3] = FILL
            if pixels.shape[2] == 4:
                pixels[y0:y1, x0:x1, 3] = 255
    if pixels.shape[2] == 4:
        pixels[pixels[:, :, 3] <= CLEAR_ALPHA, :3] = 255
    out = Image.fromarray(pixels, base.mode)  # a fresh image: no info, no EXIF, no text chunks
    return _encode(out, decoded.format)


def _base(decoded: DecodedImage) -> Image.Image:
    raw = decoded.raw
    alpha = raw.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (raw.mode == "P" and "transparency" in raw.info)
    if alpha and decoded.format in _ALPHA_FORMATS:
        base = _oriented(raw).convert("RGBA")
        if base.size != decoded.image.size:  # orientation failed differently: stay with the inspected frame
            base = decoded.image.copy()
    else:
        base = decoded.image.copy()
    icc = raw.info.get("icc_profile")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            base = ImageCms.profileToProfile(base, src, ImageCms.createProfile("sRGB"), outputMode=base.mode)
        except Exception:  # a broken profile: keep the pixels as they are
            pass
    return base


def _padded(box: Box, pad: float, width: int, height: int) -> Box | None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    margin = max(MIN_PAD, int(pad * min(x1 - x0, y1 - y0)))
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(width, x1 + margin), min(height, y1 + margin)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _destroy(pixels: np.ndarray, region: Box) -> None:
    """Flatten the padded face to its mean colour.

    A pixelated mosaic still triggers face detectors (Haar fired on 5-block mosaics in the benchmark), so nothing
    of the face's structure is kept: one flat tone, which also keeps the picture's overall look.
    """
    x0, y0, x1, y1 = region
    patch = pixels[y0:y1, x0:x1, :3]
    pixels[y0:y1, x0:x1, :3] = patch.reshape(-1, 3).mean(axis=0).astype(pixels.dtype)
    if pixels.shape[2] == 4:
        pixels[y0:y1, x0:x1, 3] = 255


def _encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    try:
        if fmt == "JPEG":
            im.convert("RGB").save(buf, "JPEG", quality=90)
        elif fmt == "PNG":
            im.save(buf, "PNG")
        elif fmt == "WEBP":
            im.save(buf, "WEBP", quality=90, method=4)
        elif fmt == "GIF":
            im.save(buf, "GIF")
        elif fmt == "BMP":
            im.convert("RGB").save(buf, "BMP")
        elif fmt == "TIFF":
            im.save(buf, "TIFF", compression="tiff_adobe_deflate")
        elif fmt == "HEIF":
            if not heif.can_write():
                raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "no HEIC encoder here (pi-heif reads only)")
            im.save(buf, "HEIF", quality=90)
        elif fmt == "AVIF":
            im.save(buf, "AVIF", quality=90)
        else:
            raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, f"cannot write {fmt}")
    except InspectionError:
        raise
    except Exception as err:
        raise InspectionError(InspectionErrorKind.INTERNAL, f"re-encoding {fmt} failed: {type(err).__name__}") from err
    return buf.getvalue()

