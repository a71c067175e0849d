"""Every picture a receiver can see in one image file, besides the composited frame 0 the detectors read first.

- "alpha-hidden": the colour channels ignoring alpha, which is what `Image.convert("RGB")` and many receivers show.
  Only when transparency hides something there: edges in the colours that the picture composited over white shows
  at under a quarter of their contrast (text drawn under alpha 0, white text on a transparent ground), except the
  antialiased fringes of visible content and the outlines of opaque shapes (long straight edges and the corners
  joining them). The plane keeps the colours of those places only (padded; the rest is one flat colour), so OCR
  costs in proportion to what is hidden. Its pixels line up with `image`.
- "frame:N": frames 2..8 of an animation or pages of a TIFF (N counts from 1), and their own alpha-hidden plane.
- embedded pictures (embedded.py): "exif-thumbnail", "mpf:2", "photoshop-thumbnail", "xmp-thumbnail",
  "heif-thumbnail" (a HEIC's own thumbnail items, heif.py), decoded
  through the same safe decode with the same limits, each followed by its own planes ("exif-thumbnail/frame:2").
  One that only shows the main picture scaled down (what cameras write) is decoded and compared, not read again.

Planes are produced one at a time (a generator): a caller holds one plane's pixels at once. A plane that cannot be
decoded raises InspectionError, which the caller turns into the policy's on_error like any undecodable image.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from gateway.inspection import heif
from gateway.inspection.decode import DecodedImage, _orientation, _pillow_errors, decode_image, to_rgb, with_alpha
from gateway.inspection.embedded import (
    Embedded,
    exif_thumbnails,
    mpf_images,
    photoshop_thumbnails,
    xmp_thumbnails,
)
from gateway.inspection.regions import RegionSpec, busy_regions
from gateway.models import InspectionError, InspectionErrorKind

log = logging.getLogger(__name__)

HIDDEN_CONTRAST = 32  # an edge this strong in the colours counts; text on any background has far stronger edges
HIDDEN_MIN_PIXELS = 48  # fewer hidden edge pixels than a couple of small glyphs: nothing to read there
HIDDEN_PAD = 32  # px of the colours kept around hidden content: its neighbouring context words
HIDDEN_REGIONS = RegionSpec(contrast=1, pad=HIDDEN_PAD, max_regions=32)
OUTLINE_RUN_PX = 81  # a straight run this long along an alpha edge is a shape's outline (glyphs are far shorter)
_SQUARE = np.ones((3, 3), np.uint8)
MAX_EMBEDDED = 8  # embedded pictures per file (a thumbnail and a preview or two is the norm)
MAX_DEPTH = 2  # a thumbnail inside a thumbnail is looked at; one level deeper is refused
_PS_RESOURCES_TAG = 34377
# An embedded picture is a scaled copy of the main one when at most COPY_MAX_PIXELS of its pixels differ from the
# main picture scaled down by more than COPY_NOISE over the local contrast (cameras' thumbnails: 0-13 px; a line of
# 8 px text, even faint: 38+; a screenshot's thumbnail at JPEG quality 60: ~45, so it is read again, to be safe).
COPY_NOISE = 16
COPY_MAX_PIXELS = 24
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


@dataclass(frozen=True)
class Plane:
    """One picture a receiver can see, as HxWx3 uint8 pixels."""

    name: str
    rgb: np.ndarray
    same_grid: bool = False  # pixel (x, y) is pixel (x, y) of the composited frame 0: its boxes can be painted there


def image_planes(decoded: DecodedImage, prefix: str = "") -> Iterator[Plane]:
    """Every plane of `decoded` besides `decoded.image`, in the order above."""
    rgba = decoded.rgba()
    if rgba is not None:
        hidden = alpha_hidden(rgba, decoded.rgb())
        if hidden is not None:
            yield Plane(prefix + "alpha-hidden", hidden, same_grid=not prefix)
    for index, frame in decoded.frames():
        name = f"{prefix}frame:{index + 1}"
        with _pillow_errors():
            composite = np.asarray(to_rgb(frame))
            frame_rgba = with_alpha(frame)
        hidden = alpha_hidden(np.asarray(frame_rgba), composite) if frame_rgba is not None else None
        yield Plane(name, composite)
        if hidden is not None:
            yield Plane(name + "/alpha-hidden", hidden)
    for embedded in embedded_pictures(decoded):
        inner = _decode_embedded(embedded, decoded)
        if not shows_the_same(_upright(inner.rgb(), decoded), decoded.rgb()):
            yield Plane(prefix + embedded.name, inner.rgb())
        yield from image_planes(inner, prefix + embedded.name + "/")


def shows_the_same(small: np.ndarray, main: np.ndarray) -> bool:
    """True when `small` is `main` scaled down (stretched, or fitted between uniform bars) with nothing in it that
    the main picture does not show larger (see _close). Thumbnails and previews as cameras write them are such copies."""
    h, w = small.shape[:2]
    height, width = main.shape[:2]
    if h > height or w > width or h < 8 or w < 8:
        return False
    if _close(small, cv2.resize(main, (w, h), interpolation=cv2.INTER_AREA)):
        return True
    scale = min(w / width, h / height)
    cw, ch = max(1, round(width * scale)), max(1, round(height * scale))
    if (cw, ch) == (w, h):
        return False
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    bars = np.ones((h, w), bool)
    bars[y0:y0 + ch, x0:x0 + cw] = False
    expected = np.empty_like(small)
    expected[:] = np.median(small[bars], axis=0).astype(np.uint8)
    expected[y0:y0 + ch, x0:x0 + cw] = cv2.resize(main, (cw, ch), interpolation=cv2.INTER_AREA)
    return _close(small, expected)


def _close(small: np.ndarray, scaled: np.ndarray) -> bool:
    """True when `small` differs from `scaled` (the main picture at its size) by more than the local contrast of
    `scaled` plus COPY_NOISE in at most COPY_MAX_PIXELS pixels: scalers and JPEG differ at edges, by about the
    edge's contrast; text that is not in the main picture differs on a flat ground or across texture."""
    a, b = (cv2.GaussianBlur(np.ascontiguousarray(x), (3, 3), 0) for x in (small, scaled))
    diff = _channel_max(cv2.absdiff(a, b)).astype(np.int16)
    contrast = _channel_max(cv2.morphologyEx(b, cv2.MORPH_GRADIENT, _SQUARE)).astype(np.int16)
    return np.count_nonzero(diff > contrast + COPY_NOISE) <= COPY_MAX_PIXELS


def _upright(rgb: np.ndarray, parent: DecodedImage) -> np.ndarray:
    """An embedded picture turned as the parent's EXIF orientation turns the parent (thumbnails are stored as the
    sensor saw them, like the main picture)."""
    method = _TRANSPOSE.get(_orientation(parent.raw))
    return np.asarray(Image.fromarray(rgb).transpose(method)) if method is not None else rgb


def alpha_hidden(rgba: np.ndarray, composite: np.ndarray) -> np.ndarray | None:
    """The colours of `rgba` where transparency hides content from `composite`, elsewhere one flat colour; None
    when nothing is hidden (the cheap common case: opaque, or uniform colours under the transparent pixels)."""
    transparent = rgba[:, :, 3] < 255
    rows = np.flatnonzero(transparent.any(axis=1))
    if rows.size == 0:
        return None
    y0, y1 = max(0, rows[0] - 1), rows[-1] + 2  # hidden edges can only be near transparency; whole rows: no copies
    crop = rgba[y0:y1]
    grad = cv2.morphologyEx(crop, cv2.MORPH_GRADIENT, _SQUARE)
    seen = _channel_max(grad)
    shown = _channel_max(cv2.morphologyEx(composite[y0:y1], cv2.MORPH_GRADIENT, _SQUARE))
    # Edges within 2 px of a visible one are the antialiased fringe of visible content (its colour at a low alpha).
    visible = cv2.dilate((shown >= HIDDEN_CONTRAST).view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
    hidden = (seen >= HIDDEN_CONTRAST) & (shown.astype(np.int16) * 4 < seen) & ~visible
    if np.count_nonzero(hidden) < HIDDEN_MIN_PIXELS:
        return None
    at_alpha_edge = grad[:, :, 3] >= HIDDEN_CONTRAST
    # Under an even alpha the colours' structure is drawn there, hidden; along an alpha edge it may be no more than
    # the outline of an opaque shape (a card's rounded corners), unless it reads like glyphs (white text).
    mask = (hidden & ~at_alpha_edge) | _without_outlines(hidden & at_alpha_edge, y0 == 0, y1 >= len(rgba))
    if np.count_nonzero(mask) < HIDDEN_MIN_PIXELS:
        return None
    regions = busy_regions(mask.view(np.uint8) * 255, HIDDEN_REGIONS)
    sample = transparent[y0:y1:7, ::7]
    flat = np.median(crop[::7, ::7, :3][sample], axis=0) if sample.any() else np.full(3, 255)
    plane = np.empty_like(composite)
    plane[:] = flat.astype(np.uint8)
    for x0, ry0, x1, ry1 in regions:
        plane[y0 + ry0:y0 + ry1, x0:x1] = crop[ry0:ry1, x0:x1, :3]
    return plane


def _without_outlines(mask: np.ndarray, at_top: bool, at_bottom: bool) -> np.ndarray:
    """`mask` (rows of a picture, reaching its top / bottom or not) less its straight runs of OUTLINE_RUN_PX or
    more and every part that touches one or the picture's border (a rounded rectangle's or screenshot's corners):
    what is left are glyph-like pieces."""
    m = mask.view(np.uint8)
    runs = cv2.max(*(cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, k))
                     for k in ((OUTLINE_RUN_PX, 1), (1, OUTLINE_RUN_PX))))
    rest = cv2.subtract(m, runs)
    if not rest.any():
        return rest.view(bool)
    near = cv2.dilate(runs, np.ones((7, 7), np.uint8))
    near[:, :2] = near[:, -2:] = 1
    if at_top:
        near[:2] = 1
    if at_bottom:
        near[-2:] = 1
    _, labels = cv2.connectedComponents(rest, connectivity=8)
    touching = np.unique(labels[near.view(bool) & (labels > 0)])
    return (labels > 0) & ~np.isin(labels, touching)


def _channel_max(grad: np.ndarray) -> np.ndarray:
    """Per pixel, the largest of the R, G and B values (uint8)."""
    return np.maximum(np.maximum(grad[:, :, 0], grad[:, :, 1]), grad[:, :, 2])


def embedded_pictures(decoded: DecodedImage) -> list[Embedded]:
    """The pictures stored inside `decoded`'s file (EXIF thumbnails, MPF images, Photoshop and XMP thumbnails)."""
    from gateway.inspection.metadata import xmp_bytes

    raw = decoded.raw
    found: list[Embedded] = []
    for exif in _exif_blocks(raw):
        found += exif_thumbnails(exif)
    if decoded.format == "JPEG":
        mpf, base = raw.info.get("mp"), raw.info.get("mpoffset")
        if mpf and base is not None and decoded.n_frames == 1:  # Pillow opened a valid MPO as frames already
            found += mpf_images(decoded.data, mpf, int(base))
        resources = b"".join(payload[14:] for marker, payload in getattr(raw, "applist", [])
                             if marker == "APP13" and payload.startswith(b"Photoshop 3.0\x00"))
        found += photoshop_thumbnails(resources)
    elif decoded.format == "TIFF":
        resources = getattr(raw, "tag_v2", {}).get(_PS_RESOURCES_TAG, b"")
        found += photoshop_thumbnails(bytes(resources) if isinstance(resources, (bytes, bytearray)) else b"")
    found += xmp_thumbnails(xmp_bytes(raw))
    if decoded.format == "HEIF":
        with _pillow_errors():
            thumbnails = heif.embedded_thumbnails(decoded.data, decoded.limits.max_pixels, MAX_EMBEDDED)
        found += [Embedded(name, pixels=np.ascontiguousarray(pixels)) for name, pixels in thumbnails]
    if found and decoded.depth >= MAX_DEPTH:
        raise InspectionError(InspectionErrorKind.TOO_MANY_IMAGES, f"pictures nested deeper than {MAX_DEPTH}")
    if len(found) > MAX_EMBEDDED:
        raise InspectionError(InspectionErrorKind.TOO_MANY_IMAGES, f"{len(found)} embedded pictures > {MAX_EMBEDDED}")
    return found


def _exif_blocks(raw: Image.Image) -> list[bytes]:
    """Every EXIF block of the file: JPEG APP1 "Exif" segments, PNG eXIf / raw profile, WebP EXIF."""
    blocks = [raw.info["exif"]] if isinstance(raw.info.get("exif"), bytes) else []
    if raw.format in ("JPEG", "MPO"):  # Pillow joins all APP1 "Exif" segments; a later one may stand on its own
        blocks += [payload for marker, payload in getattr(raw, "applist", [])
                   if marker == "APP1" and payload.startswith(b"Exif\x00\x00")][1:]
    profile = raw.info.get("Raw profile type exif")
    if isinstance(profile, str):
        try:  # ImageMagick's hex dump: a header of three lines, then hex digits
            blocks.append(bytes.fromhex("".join(profile.split("\n")[3:])))
        except ValueError:
            log.debug("unreadable raw EXIF profile")
    return blocks


def _decode_embedded(embedded: Embedded, parent: DecodedImage) -> DecodedImage:
    """An embedded picture through the same safe decode and limits; its errors name the plane."""
    try:
        if embedded.pixels is not None:
            height, width = embedded.pixels.shape[:2]
            if width * height > parent.limits.max_pixels:
                raise InspectionError(InspectionErrorKind.TOO_MANY_PIXELS, f"{width}x{height} pixels")
            image = Image.fromarray(embedded.pixels, "RGB")
            inner = DecodedImage(format="RAW", raw=image, image=image, max_pixels=parent.limits.max_pixels,
                                 limits=parent.limits)
        else:
            inner = decode_image(embedded.data, parent.limits)
    except InspectionError as err:
        raise InspectionError(err.kind, f"{embedded.name}: {err}") from err
    inner.depth = parent.depth + 1
    return inner
