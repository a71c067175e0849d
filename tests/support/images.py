"""Test images rendered on the fly (nothing binary is committed)."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_image(lines: list[str], size: tuple[int, int] = (1000, 400), font_size: int = 30, fmt: str = "PNG",
               exif: Image.Exif | None = None) -> bytes:
    """A document-like image: dark text on white, one string per line."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_size)
    y = 30
    for line in lines:
        draw.text((30, y), line, font=font, fill=(20, 20, 20))
        y += int(font_size * 1.8)
    return encode(image, fmt, exif)


def encode(image: Image.Image, fmt: str = "PNG", exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    if fmt == "JPEG":
        kwargs["quality"] = 92
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def gps_exif(lat: float = 48.8584, lon: float = 2.2945) -> Image.Exif:
    """EXIF with a GPS position (the Eiffel tower by default)."""

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60, 2)
        return (float(d), float(m), float(s))

    exif = Image.Exif()
    exif[0x010F] = "ACME Phones"  # Make
    gps = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    exif[0x8825] = gps
    return exif


def photo_like(size: tuple[int, int] = (640, 480), fmt: str = "JPEG", exif: Image.Exif | None = None) -> bytes:
    """A smooth gradient 'photo' with no text and no faces."""
    image = Image.new("RGB", size)
    w, h = size
    image.putdata([(int(255 * x / w), int(255 * y / h), 128) for y in range(h) for x in range(w)])
    return encode(image, fmt, exif)


def exif_with_thumbnail(thumbnail: bytes, make: str = "ACME Phones") -> bytes:
    """An EXIF block ("Exif\\0\\0" + little-endian TIFF) whose IFD1 holds `thumbnail` (JPEG bytes), laid out as
    cameras write it: IFD0 (Make), then IFD1 (Compression 6, JPEGInterchangeFormat + Length), then the bytes."""
    value = make.encode() + b"\x00"
    value += b"\x00" * (len(value) & 1)
    ifd1 = 8 + 18 + len(value)  # header, IFD0 (count + 1 entry + next), the Make string
    thumb = ifd1 + 2 + 3 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 2, len(make) + 1, 26) + struct.pack("<I", ifd1)
    tiff += value
    tiff += struct.pack("<H", 3) + struct.pack("<HHIHH", 0x0103, 3, 1, 6, 0)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumb) + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack("<I", 0) + thumbnail
    return b"Exif\x00\x00" + tiff
