"""Test images rendered on the fly (nothing binary is committed)."""

from __future__ import annotations

import io
import struct

from PIL import Image, ImageDraw, ImageFont

from gateway.inspection import heif

heif.register()  # HEIC test images are written with pillow-heif, as Pillow's "HEIF" format

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


def exif_with_thumbnail(thumbnail: bytes, make: str = "ACME Phones", orientation: int | None = None) -> bytes:
    """An EXIF block ("Exif\\0\\0" + little-endian TIFF) whose IFD1 holds `thumbnail` (JPEG bytes), laid out as
    cameras write it: IFD0 (Make, Orientation), then IFD1 (Compression 6, JPEGInterchangeFormat + Length), then
    the bytes."""
    value = make.encode() + b"\x00"
    value += b"\x00" * (len(value) & 1)
    n0 = 1 if orientation is None else 2
    make_at = 8 + 2 + 12 * n0 + 4
    ifd1 = make_at + len(value)
    thumb = ifd1 + 2 + 3 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", n0)
    tiff += struct.pack("<HHII", 0x010F, 2, len(make) + 1, make_at)
    if orientation is not None:
        tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff += struct.pack("<I", ifd1) + value
    tiff += struct.pack("<H", 3) + struct.pack("<HHIHH", 0x0103, 3, 1, 6, 0)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumb) + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack("<I", 0) + thumbnail
    return b"Exif\x00\x00" + tiff


def _gradient(size: tuple[int, int]) -> Image.Image:
    return Image.merge("RGB", [Image.linear_gradient("L").resize(size).rotate(angle, expand=False)
                               for angle in (0, 90, 180)])


def alpha_hidden_png(lines: list[str], mode: str = "RGBA", size: tuple[int, int] = (900, 420),
                     font_size: int = 30) -> bytes:
    """A PNG whose visible picture is a clean gradient 'photo' on top and a fully transparent strip below, with
    `lines` drawn in the colour channels of that strip at alpha 0: invisible when composited, readable through
    `Image.convert("RGB")`. mode RGBA, LA (grey + alpha) or P (palette whose text and strip entries are
    transparent)."""
    w, h = size
    top = h // 2
    font = ImageFont.truetype(FONT, font_size)
    canvas = _gradient((w, h))
    hidden = Image.new("RGB", (w, h - top), "white")
    draw = ImageDraw.Draw(hidden)
    for i, line in enumerate(lines):
        draw.text((30, 20 + i * int(font_size * 1.6)), line, font=font, fill=(15, 15, 15))
    canvas.paste(hidden, (0, top))
    if mode == "P":
        palette = canvas.convert("L").point(lambda v: min(v, 253))  # 254 and 255 are kept for the strip
        strip = hidden.convert("L").point(lambda v: 255 if v > 128 else 254)
        palette.paste(strip, (0, top))
        image = palette.convert("P")
        image.putpalette([v for g in range(254) for v in (g, g, g)] + [15, 15, 15, 255, 255, 255])
        return encode_with(image, "PNG", transparency=bytes([255] * 254 + [0, 0]))
    alpha = Image.new("L", (w, h), 255)
    alpha.paste(0, (0, top, w, h))
    base = canvas.convert("L") if mode == "LA" else canvas
    base.putalpha(alpha)
    return encode(base, "PNG")


def clean_transparent_png(size: tuple[int, int] = (900, 420)) -> bytes:
    """A clean transparent PNG as design tools export it: dark text and a rounded card with a soft shadow on a
    transparent background whose colour channels are zero (nothing under the transparency)."""
    w, h = size
    font = ImageFont.truetype(FONT, 30)
    shadow = Image.new("L", size, 0)
    ImageDraw.Draw(shadow).rounded_rectangle((40, 40, w - 40, h - 40), radius=24, fill=110)
    from PIL import ImageFilter

    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.putalpha(shadow.filter(ImageFilter.GaussianBlur(12)))
    card = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((30, 30, w - 50, h - 50), radius=24, fill=(250, 250, 252, 255))
    draw.text((70, 90), "Quarterly roadmap review", font=font, fill=(25, 25, 35, 255))
    draw.text((70, 160), "Ship the new onboarding flow in March", font=font, fill=(25, 25, 35, 255))
    return encode(Image.alpha_composite(image, card), "PNG")


def jpeg_with_thumbnail(main: Image.Image, thumbnail: Image.Image, quality: int = 90,
                        orientation: int | None = None) -> bytes:
    """A JPEG of `main` whose EXIF IFD1 thumbnail is `thumbnail` (any picture, as a crafted file would hold)."""
    thumb = encode_with(thumbnail.convert("RGB"), "JPEG", quality=85)
    exif = exif_with_thumbnail(thumb, orientation=orientation)
    return encode_with(main.convert("RGB"), "JPEG", quality=quality, exif=exif)


def text_picture(lines: list[str], size: tuple[int, int] = (480, 160), font_size: int = 24) -> Image.Image:
    """Dark text on white as a Pillow image (for thumbnails and frames)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_size)
    for i, line in enumerate(lines):
        draw.text((16, 16 + i * int(font_size * 1.6)), line, font=font, fill=(20, 20, 20))
    return image


def encode_with(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def heic_with_thumbnail(main: Image.Image, thumbnail: Image.Image, box: int = 256) -> bytes:
    """A HEIC of `main` whose thumbnail item shows `thumbnail` (same size as `main`) scaled into `box` px, as a
    crafted file would hold. pillow-heif writes a grid image's thumbnail from a pixel copy of the image: that copy
    is swapped (pillow_heif.misc._add_planes, pinned pillow-heif 1.9)."""
    from unittest import mock

    from pillow_heif import misc

    real, other = misc._add_planes, thumbnail.convert("RGB").tobytes()

    def swapped(image, size, mode, data, *args):
        return real(image, size, mode, other if size == main.size else data, *args)

    with mock.patch.object(misc, "_add_planes", swapped):
        return encode_with(main.convert("RGB"), "HEIF", thumbnails=[box], tile_size=max(main.size) // 2 + 1)
