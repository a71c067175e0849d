"""Safe image decoding: sniff by magic bytes, bound bytes and pixels before decoding, map every failure to an
InspectionError.

Multi-frame images (animated GIF/WebP, multi-page TIFF): `image` is frame 0, which is what the detectors inspect
and what boxes refer to. `n_frames` tells how many frames the file has and `extra_frames()` yields the next ones
(up to MAX_EXTRA_FRAMES, each checked against the pixel limit) for a caller that wants to inspect them too.
Redaction always writes a single still image (the redacted frame 0), so no uninspected frame leaves through it.
HEIC/HEIF (pillow-heif) and AVIF (Pillow) are read like the others (heif.py); in a HEIF file with several top-level
images "frame 0" is its primary image, wherever it is stored.

`planes()` yields every other picture a receiver can see in the file (planes.py): the colours under transparency,
the later frames, the EXIF thumbnail and other embedded previews.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFile, ImageOps

from gateway.formats import sniff_format
from gateway.inspection import heif
from gateway.models import InspectionError, InspectionErrorKind, Limits

SUPPORTED = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
MAX_EXTRA_FRAMES = 7
_HIGH_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


@dataclass
class DecodedImage:
    format: str  # PNG JPEG WEBP GIF BMP TIFF HEIF AVIF
    raw: Image.Image = field(repr=False)  # as opened (frame 0), metadata intact
    image: Image.Image = field(repr=False)  # RGB, EXIF orientation applied: every box refers to this
    n_frames: int = 1
    max_pixels: int = 0
    _rgb: np.ndarray | None = field(default=None, repr=False)
    data: bytes = field(default=b"", repr=False)  # the encoded file (embedded previews are found in it)
    limits: Limits = field(default_factory=Limits)
    depth: int = 0  # 0: the uploaded file; 1: a picture embedded in it; ...
    primary: int = 0  # the frame index of `image` (a HEIF file's primary image need not be stored first)

    def rgb(self) -> np.ndarray:
        """HxWx3 uint8 array of `image` (cached)."""
        if self._rgb is None:
            self._rgb = np.ascontiguousarray(np.asarray(self.image, dtype=np.uint8))
        return self._rgb

    def rgba(self) -> np.ndarray | None:
        """HxWx4 uint8 array of frame 0 in `image`'s orientation with its alpha, None when it has no alpha."""
        with _pillow_errors():
            turned = _orientation(self.raw) not in (0, 1)
            rgba = with_alpha(_oriented(self.raw) if turned else self.raw)
        if rgba is None or rgba.size != self.image.size:  # orientation failed differently: no common grid
            return None
        return np.asarray(rgba)

    def extra_frames(self) -> Iterator[Image.Image]:
        """Frames 1..MAX_EXTRA_FRAMES as RGB images (not EXIF-rotated). Raises InspectionError on a bad frame."""
        for _, frame in self.frames():
            yield to_rgb(frame)

    def frames(self) -> Iterator[tuple[int, Image.Image]]:
        """(index, frame) for up to MAX_EXTRA_FRAMES frames besides the primary one, as decoded, in their own mode.
        The frame object is reused: use it before asking for the next one. Raises InspectionError on a bad frame."""
        others = [i for i in range(min(self.n_frames, MAX_EXTRA_FRAMES + 2)) if i != self.primary]
        for index in others[:MAX_EXTRA_FRAMES]:
            with _pillow_errors():
                self.raw.seek(index)
                _check_pixels(self.raw.size, self.max_pixels)
                self.raw.load()
            yield index, self.raw
        with _pillow_errors():
            self.raw.seek(self.primary)

    def planes(self) -> Iterator:
        """Every picture in the file besides `image` that a receiver can see, as planes.Plane objects."""
        from gateway.inspection.planes import image_planes

        return image_planes(self)


def decode_image(data: bytes, limits: Limits) -> DecodedImage:
    """Decode frame 0 of `data`; raise InspectionError(TOO_LARGE/UNSUPPORTED_FORMAT/TOO_MANY_PIXELS/CORRUPT)."""
    if len(data) > limits.max_image_bytes:
        raise InspectionError(InspectionErrorKind.TOO_LARGE, f"{len(data)} bytes > {limits.max_image_bytes}")
    fmt = sniff_format(data)
    if fmt not in SUPPORTED or fmt == "HEIF" and not heif.can_read():
        raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, f"format {fmt or 'unknown'}")
    with _pillow_errors():
        # Only the sniffed format's plugin may parse the bytes; open() reads the header, not the pixels.
        raw = Image.open(io.BytesIO(data), formats=[fmt])
        _check_pixels(raw.size, limits.max_pixels)
        n_frames = int(getattr(raw, "n_frames", 1) or 1)
        primary = raw.tell()
        ImageFile.LOAD_TRUNCATED_IMAGES = False  # a global other code may have flipped: truncation must fail here
        raw.load()
        _check_pixels(raw.size, limits.max_pixels)  # HEIF: the coded size may differ from the declared one
        image = to_rgb(_oriented(raw))
    return DecodedImage(format=fmt, raw=raw, image=image, n_frames=n_frames, max_pixels=limits.max_pixels,
                        data=data, limits=limits, primary=primary)


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB; transparency is composited over white, high-bit-depth gray is rescaled to 8 bits."""
    if im.mode in _HIGH_BIT_MODES:
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if im.mode == "P" and "transparency" in im.info or im.mode in ("LA", "PA", "La"):
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "RGBa"):
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, im.convert("RGBA")).convert("RGB")
    return im.convert("RGB")


def with_alpha(im: Image.Image) -> Image.Image | None:
    """`im` as RGBA when it has transparency (alpha channel or a transparent palette entry), else None."""
    if im.mode == "RGBA":
        return im
    if im.mode in ("RGBa", "LA", "La", "PA") or im.mode == "P" and "transparency" in im.info:
        return im.convert("RGBA")
    return None


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except Exception:  # broken EXIF: _oriented leaves such an image unrotated too
        return 1


def _oriented(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im) or im
    except Exception:  # a broken EXIF block must not hide the pixels: inspect them unrotated
        return im


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise InspectionError(InspectionErrorKind.CORRUPT, f"image size {width}x{height}")
    if width * height > max_pixels:
        raise InspectionError(InspectionErrorKind.TOO_MANY_PIXELS, f"{width}x{height} pixels > {max_pixels}")


@contextmanager
def _pillow_errors() -> Iterator[None]:
    """Turn every Pillow failure into an InspectionError; silence Pillow's warnings except the bomb warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except InspectionError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise InspectionError(InspectionErrorKind.TOO_MANY_PIXELS, str(err)) from err
        except MemoryError as err:
            raise InspectionError(InspectionErrorKind.TOO_MANY_PIXELS, "out of memory while decoding") from err
        except OSError as err:
            kind = InspectionErrorKind.CORRUPT
            if "decoder" in str(err) and "not available" in str(err):  # e.g. a TIFF compression Pillow lacks
                kind = InspectionErrorKind.UNSUPPORTED_FORMAT
            raise InspectionError(kind, f"{type(err).__name__}: {err}"[:200]) from err
        except Exception as err:  # Pillow raises SyntaxError, ValueError, struct.error, IndexError... on bad input
            raise InspectionError(InspectionErrorKind.CORRUPT, f"{type(err).__name__}: {err}"[:200]) from err
