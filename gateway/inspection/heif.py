"""HEIC/HEIF through pillow-heif, registered as Pillow's "HEIF" plugin; AVIF is Pillow's own plugin (libavif).

pillow-heif's wheel bundles libheif and libde265 (LGPL-3.0) to read and x265 (GPL-2.0) to write HEVC. Its lighter
twin `pi-heif` (same API, decode only, no x265) is used when it is the one installed: HEIC is then read and
inspected as usual, and a HEIC that a rule redacts gets the rule's redact_fallback (NOT_REDACTABLE).

libheif applies the file's rotation and mirroring (irot/imir) while decoding and pillow-heif then sets the EXIF
orientation to 1, so `DecodedImage.image` is the picture as viewers show it. The primary image's thumbnails are
pictures of their own (embedded_thumbnails); depth maps and auxiliary images (HDR gain maps, alpha of a grid) are
not read: no viewer shows them as a picture.
"""

from __future__ import annotations

import io
from types import ModuleType

import numpy as np
from PIL import Image

from gateway.cpus import available_cpus
from gateway.models import InspectionError, InspectionErrorKind

_module: ModuleType | None = None


def register() -> ModuleType | None:
    """pillow_heif (or pi_heif), its Pillow plugin registered once; None when neither is installed."""
    global _module
    if _module is None:
        try:
            import pillow_heif as module
        except ImportError:
            try:
                import pi_heif as module
            except ImportError:
                return None
        module.register_heif_opener(decode_threads=max(1, min(4, available_cpus())), thumbnails=True,
                                    depth_images=False, aux_images=False)
        _module = module
    return _module


def can_read() -> bool:
    """True when HEIC can be decoded here (pillow-heif or pi-heif is installed)."""
    return register() is not None


def can_write() -> bool:
    """True when HEIC can be encoded here (pillow-heif's x265; pi-heif has no encoder)."""
    module = register()
    return module is not None and bool(module.libheif_info().get("HEIF"))


def embedded_thumbnails(data: bytes, max_pixels: int, max_count: int) -> list[tuple[str, np.ndarray]]:
    """("heif-thumbnail", "heif-thumbnail:2", ..., RGB pixels) of the primary image's thumbnails.

    Each is bounded by `max_pixels` before it is decoded; more than `max_count` is TOO_MANY_IMAGES."""
    module = register()
    if module is None:
        return []
    heif = module.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    primary = heif[heif.primary_index]
    count = len(primary.info.get("thumbnails", []))
    if count > max_count:
        raise InspectionError(InspectionErrorKind.TOO_MANY_IMAGES, f"{count} HEIF thumbnails > {max_count}")
    found = []
    for index in range(count):
        thumbnail = primary.get_thumbnail(index)
        width, height = thumbnail.size
        if width * height > max_pixels:
            raise InspectionError(InspectionErrorKind.TOO_MANY_PIXELS, f"HEIF thumbnail {width}x{height} pixels")
        picture = Image.frombytes(thumbnail.mode, thumbnail.size, thumbnail.data, "raw", thumbnail.mode,
                                  thumbnail.stride)
        name = "heif-thumbnail" if index == 0 else f"heif-thumbnail:{index + 1}"
        found.append((name, np.asarray(picture.convert("RGB"))))
    return found
