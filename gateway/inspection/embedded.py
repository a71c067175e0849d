"""Pictures stored inside an image file besides its main picture, which a receiver can open on its own.

- EXIF thumbnails: IFD1 (and any later IFD) of an EXIF block, as JPEG (JPEGInterchangeFormat) or uncompressed RGB
  strips; in JPEG APP1, PNG eXIf / "Raw profile type exif" and WebP EXIF alike.
- MPF images (JPEG APP2 "MPF"): large previews, Ultra HDR gain maps and malformed MPOs that Pillow does not open as
  frames (when it does, they are frames and not listed here).
- Photoshop thumbnails (image resources 0x0409 / 0x040C, in JPEG APP13 or TIFF tag 34377).
- XMP thumbnails (xmpGImg:image, base64).

Bytes in, bytes out: nothing is decoded here. A picture the file declares but whose bytes lie outside it is an
InspectionError (CORRUPT): a receiver's parser may read what ours could not, so it fails closed like any bad image.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass

import numpy as np

from gateway.models import InspectionError, InspectionErrorKind

MAX_IFDS = 8  # an EXIF chain longer than this is not walked further (IFD0 + a thumbnail is the norm)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_COMPRESSION, _WIDTH, _HEIGHT, _BITS, _PHOTOMETRIC = 0x0103, 0x0100, 0x0101, 0x0102, 0x0106
_STRIP_OFFSETS, _STRIP_COUNTS, _SAMPLES = 0x0111, 0x0117, 0x0115
_JPEG_OFFSET, _JPEG_LENGTH = 0x0201, 0x0202
_MP_COUNT, _MP_ENTRIES = 0xB001, 0xB002
_PS_THUMBNAILS = (0x0409, 0x040C)
_PS_HEADER = 28  # format, width, height, widthbytes, total size, compressed size, bits, planes
_XMP_IMAGE = re.compile(rb"xmpGImg:image(?:\s*=\s*\"([^\"]*)\"|\s*>([^<]*)<)")


@dataclass(frozen=True)
class Embedded:
    """One embedded picture: encoded bytes, or the pixels of an uncompressed EXIF thumbnail."""

    name: str  # exif-thumbnail, exif-thumbnail:2, mpf:2, photoshop-thumbnail, xmp-thumbnail
    data: bytes = b""
    pixels: np.ndarray | None = None  # HxWx3 uint8


def _corrupt(what: str) -> InspectionError:
    return InspectionError(InspectionErrorKind.CORRUPT, what)


class _Tiff:
    """Just enough of a TIFF structure (an EXIF or MPF block) to read directory entries bounds-checked."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        order = blob[:2]
        if order not in (b"II", b"MM") or len(blob) < 8:
            raise ValueError("not a TIFF structure")
        self.e = "<" if order == b"II" else ">"
        if struct.unpack_from(self.e + "H", blob, 2)[0] != 42:
            raise ValueError("not a TIFF structure")
        self.first = struct.unpack_from(self.e + "I", blob, 4)[0]

    def ifd(self, offset: int) -> tuple[dict[int, tuple[int, int, int]], int]:
        """(tag -> (type, count, position of the value in blob), next IFD offset); ValueError when out of range."""
        if offset + 2 > len(self.blob):
            raise ValueError("IFD outside the block")
        (n,) = struct.unpack_from(self.e + "H", self.blob, offset)
        end = offset + 2 + 12 * n
        if end + 4 > len(self.blob):
            raise ValueError("IFD entries outside the block")
        entries = {}
        for i in range(n):
            tag, typ, count = struct.unpack_from(self.e + "HHI", self.blob, offset + 2 + 12 * i)
            size = _TYPE_SIZES.get(typ, 1) * count
            pos = offset + 2 + 12 * i + 8
            if size > 4:
                pos = struct.unpack_from(self.e + "I", self.blob, pos)[0]
            entries[tag] = (typ, count, pos)
        return entries, struct.unpack_from(self.e + "I", self.blob, end)[0]

    def ints(self, entry: tuple[int, int, int] | None) -> list[int]:
        """SHORT / LONG values of an entry ([] when absent or of another type)."""
        if entry is None:
            return []
        typ, count, pos = entry
        code = {3: "H", 4: "I", 13: "I"}.get(typ)
        if code is None or pos + struct.calcsize(code) * count > len(self.blob):
            return []
        return list(struct.unpack_from(f"{self.e}{count}{code}", self.blob, pos))

    def raw(self, entry: tuple[int, int, int]) -> bytes:
        typ, count, pos = entry
        size = _TYPE_SIZES.get(typ, 1) * count
        if pos + size > len(self.blob):
            raise ValueError("value outside the block")
        return self.blob[pos:pos + size]


def exif_thumbnails(exif: bytes) -> list[Embedded]:
    """Thumbnails in the IFD chain of an EXIF block (with or without its "Exif\\0\\0" prefix)."""
    blob = re.sub(rb"^(Exif\x00\x00){1,2}", b"", exif)
    try:
        tiff = _Tiff(blob)
    except ValueError:
        return []  # no TIFF structure: there is no directory that could point at a thumbnail
    found: list[Embedded] = []
    offset, seen = tiff.first, set()
    for index in range(MAX_IFDS):
        if not offset or offset in seen:
            break
        seen.add(offset)
        try:
            entries, offset = tiff.ifd(offset)
        except ValueError:
            break  # a broken chain declares nothing past this point
        name = "exif-thumbnail" if index == 1 else f"exif-thumbnail:{index}"
        thumb = _ifd_thumbnail(tiff, entries, name, index)
        if thumb is not None:
            found.append(thumb)
    return found


def _ifd_thumbnail(tiff: _Tiff, entries: dict, name: str, index: int) -> Embedded | None:
    start, length = tiff.ints(entries.get(_JPEG_OFFSET)), tiff.ints(entries.get(_JPEG_LENGTH))
    if start and length and length[0]:
        a, n = start[0], length[0]
        if a + n > len(tiff.blob):
            raise _corrupt(f"{name}: {n} bytes at {a} lie outside the EXIF block")
        return Embedded(name, data=tiff.blob[a:a + n])
    if index == 0 or _STRIP_OFFSETS not in entries:
        return None  # IFD0 strips would be the main picture of a TIFF; EXIF IFD0 has none
    compression = (tiff.ints(entries.get(_COMPRESSION)) or [1])[0]
    if compression != 1:
        raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, f"{name}: compression {compression} in strips")
    return Embedded(name, pixels=_uncompressed(tiff, entries, name))


def _uncompressed(tiff: _Tiff, entries: dict, name: str) -> np.ndarray:
    width, height = ((tiff.ints(entries.get(t)) or [0])[0] for t in (_WIDTH, _HEIGHT))
    photometric = (tiff.ints(entries.get(_PHOTOMETRIC)) or [2])[0]
    samples = (tiff.ints(entries.get(_SAMPLES)) or [3])[0]
    bits = tiff.ints(entries.get(_BITS)) or [8]
    if photometric != 2 or samples != 3 or set(bits) != {8}:
        raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT,
                              f"{name}: uncompressed photometric {photometric}, {samples}x{bits} bits")
    offsets, counts = tiff.ints(entries.get(_STRIP_OFFSETS)), tiff.ints(entries.get(_STRIP_COUNTS))
    if not width or not height or len(offsets) != len(counts):
        raise _corrupt(f"{name}: bad strip layout")
    if any(a + n > len(tiff.blob) for a, n in zip(offsets, counts)):
        raise _corrupt(f"{name}: strips lie outside the EXIF block")
    pixels = b"".join(tiff.blob[a:a + n] for a, n in zip(offsets, counts))
    if len(pixels) < width * height * 3:
        raise _corrupt(f"{name}: {len(pixels)} bytes for {width}x{height} RGB")
    return np.frombuffer(pixels[:width * height * 3], np.uint8).reshape(height, width, 3)


def mpf_images(data: bytes, mpf: bytes, base: int) -> list[Embedded]:
    """Images 2.. of a JPEG's MP index (`mpf`: the APP2 payload after "MPF\\0"; `base`: its file offset)."""
    try:
        tiff = _Tiff(mpf)
        entries, _ = tiff.ifd(tiff.first)
        count = (tiff.ints(entries.get(_MP_COUNT)) or [0])[0]
        table = tiff.raw(entries[_MP_ENTRIES]) if _MP_ENTRIES in entries else b""
    except (ValueError, struct.error) as err:
        raise _corrupt(f"MPF index: {err}") from err
    if len(table) < 16 * count:
        raise _corrupt(f"MPF index: {count} images but {len(table)} bytes of entries")
    found = []
    for i in range(1, count):
        _, size, offset, _, _ = struct.unpack_from(tiff.e + "IIIHH", table, 16 * i)
        if not offset or not size:
            continue  # no stored picture (an entry for the primary image, or a placeholder)
        start = base + offset
        if start + size > len(data):
            raise _corrupt(f"mpf:{i + 1}: {size} bytes at {start} lie outside the file")
        found.append(Embedded(f"mpf:{i + 1}", data=data[start:start + size]))
    return found


def photoshop_thumbnails(resources: bytes) -> list[Embedded]:
    """JPEG thumbnails among Photoshop image resources ("8BIM" blocks)."""
    found, pos = [], 0
    while pos + 12 <= len(resources) and resources[pos:pos + 4] == b"8BIM":
        (rid,) = struct.unpack_from(">H", resources, pos + 4)
        name_len = resources[pos + 6]
        pos += 6 + name_len + 1 + ((name_len + 1) & 1)  # Pascal name padded to even
        if pos + 4 > len(resources):
            break
        (size,) = struct.unpack_from(">I", resources, pos)
        pos += 4
        if rid in _PS_THUMBNAILS:
            if pos + size > len(resources) or size < _PS_HEADER:
                raise _corrupt(f"photoshop-thumbnail: {size} bytes at {pos} do not fit the resources")
            block = resources[pos:pos + size]
            if struct.unpack_from(">I", block, 0)[0] != 1:
                raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, "photoshop-thumbnail: raw RGB")
            found.append(Embedded("photoshop-thumbnail", data=block[_PS_HEADER:]))
        pos += size + (size & 1)
    return found


def xmp_thumbnails(xmp: bytes) -> list[Embedded]:
    """Base64 thumbnails in an XMP packet (xmp:Thumbnails / xmpGImg:image, attribute or element form)."""
    found = []
    for attr, element in _XMP_IMAGE.findall(xmp):
        text = re.sub(rb"&#x?[0-9a-fA-F]+;|\s", b"", attr or element)
        if not text:
            continue
        try:
            found.append(Embedded("xmp-thumbnail", data=base64.b64decode(text, validate=True)))
        except (binascii.Error, ValueError) as err:
            raise _corrupt("xmp-thumbnail: not base64") from err
    return found
