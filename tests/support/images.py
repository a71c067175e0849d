"""Test images rendered on the fly (nothing binary is committed)."""

from __future__ import annotations

import io

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
