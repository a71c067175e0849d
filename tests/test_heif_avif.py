"""HEIC/HEIF (pillow-heif) and AVIF (Pillow): sniffed by their ftyp brands, decoded within the pixel limit, their
EXIF GPS and XMP read, their thumbnails inspected, and redacted into their own format without metadata."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gateway.formats import sniff_format
from gateway.inspection import heif
from gateway.inspection.decode import decode_image
from gateway.inspection.metadata import metadata_findings
from gateway.inspection.redact import redact_image
from gateway.models import Finding, InspectionError, InspectionErrorKind, Limits
from tests.support.images import encode_with, gps_exif, heic_with_thumbnail, photo_like, text_picture

LIMITS = Limits()
FORMATS = ["HEIF", "AVIF"]


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 64


@pytest.mark.parametrize("head, fmt", [
    (ftyp(b"heic", b"mif1", b"heic"), "HEIF"),
    (ftyp(b"heix", b"mif1"), "HEIF"),
    (ftyp(b"mif1", b"mif1", b"heic", b"miaf"), "HEIF"),
    (ftyp(b"msf1", b"hevc"), "HEIF"),
    (ftyp(b"mif1", b"miaf"), "HEIF"),
    (ftyp(b"avif", b"mif1", b"miaf"), "AVIF"),
    (ftyp(b"avis", b"msf1"), "AVIF"),
    (ftyp(b"mif1", b"avif", b"miaf", b"MA1B"), "AVIF"),
    (ftyp(b"isom", b"iso2", b"mp41"), None),  # an MP4 video
    (ftyp(b"qt  "), None),
    (ftyp(b"crx ", b"isom"), None),  # a Canon raw file
])
def test_heif_family_is_told_by_its_brands(head: bytes, fmt: str | None) -> None:
    assert sniff_format(head) == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_real_files_sniff_and_a_48_byte_head_is_enough(fmt: str) -> None:
    data = photo_like((64, 48), fmt)
    assert sniff_format(data) == fmt
    assert sniff_format(data[:48]) == fmt  # the JSON extractor sniffs base64 strings by their first 48 bytes


@pytest.mark.parametrize("fmt", FORMATS)
def test_decoded_with_gps_in_their_exif(fmt: str) -> None:
    decoded = decode_image(photo_like((320, 240), fmt, gps_exif()), LIMITS)
    assert decoded.format == fmt and decoded.image.size == (320, 240) and decoded.image.mode == "RGB"
    findings, _ = metadata_findings(decoded)
    assert [f.entity for f in findings] == ["EXIF_GPS"]
    clean = decode_image(photo_like((320, 240), fmt), LIMITS)
    assert metadata_findings(clean) == ([], [])


def test_heic_xmp_and_exif_texts_go_to_the_analyzer() -> None:
    exif = Image.Exif()
    exif[0x010E] = "Notes for jane.doe@corpmail.com"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmlns:aux="http://ns.adobe.com/exif/1.0/'
           b'aux/" aux:SerialNumber="SN12345"/></rdf:RDF></x:xmpmeta>')
    image = Image.open(io.BytesIO(photo_like((160, 120), "PNG"))).convert("RGB")
    findings, texts = metadata_findings(decode_image(encode_with(image, "HEIF", exif=exif, xmp=xmp), LIMITS))
    assert [f.entity for f in findings] == ["DEVICE_SERIAL"]
    assert any("jane.doe@corpmail.com" in t for t in texts)


def _stripes() -> Image.Image:
    """Black left quarter on white: which way up a decoder shows it is checkable."""
    image = Image.new("RGB", (400, 300), "white")
    image.paste((0, 0, 0), (0, 0, 100, 300))
    return image


@pytest.mark.parametrize("fmt", FORMATS)
def test_rotation_is_applied_so_boxes_refer_to_what_viewers_show(fmt: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # written as an irot transform by both encoders
    decoded = decode_image(encode_with(_stripes(), fmt, exif=exif.tobytes()), LIMITS)
    assert decoded.image.size == (300, 400)
    rgb = decoded.rgb()
    assert rgb[10, 150].max() < 60 and rgb[390, 150].min() > 200  # the black strip is on top


@pytest.mark.parametrize("fmt", FORMATS)
def test_redacted_in_their_own_format_without_metadata(fmt: str) -> None:
    data = photo_like((320, 240), fmt, gps_exif())
    out = redact_image(decode_image(data, LIMITS), [Finding("EMAIL_ADDRESS", "ocr", 0.9, (40, 40, 140, 80))])
    assert sniff_format(out) == fmt
    again = decode_image(out, LIMITS)
    assert again.image.size == (320, 240)
    assert metadata_findings(again) == ([], [])
    assert again.rgb()[60, 90].max() < 40  # painted
    assert again.rgb()[200, 280].min() > 60  # the rest of the photo is still there
    assert not again.raw.info.get("exif") and not again.raw.info.get("xmp")


@pytest.mark.parametrize("fmt", FORMATS)
def test_alpha_survives_redaction(fmt: str) -> None:
    image = Image.new("RGBA", (120, 80), (0, 120, 200, 255))
    image.paste((0, 0, 0, 0), (0, 0, 60, 80))
    out = decode_image(redact_image(decode_image(encode_with(image, fmt), LIMITS), []), LIMITS)
    assert out.raw.mode == "RGBA" and out.raw.getpixel((10, 40))[3] < 10 and out.raw.getpixel((100, 40))[3] > 245


def test_pixel_limit_holds_before_the_heic_is_decoded(monkeypatch) -> None:
    data = photo_like((640, 480), "HEIF")
    decoded_ever = []
    plugin = type(Image.open(io.BytesIO(data)))
    monkeypatch.setattr(plugin, "load", lambda self: decoded_ever.append(1))
    with pytest.raises(InspectionError) as err:
        decode_image(data, Limits(max_pixels=640 * 480 - 1))
    assert err.value.kind is InspectionErrorKind.TOO_MANY_PIXELS and not decoded_ever


def test_a_heic_declaring_a_huge_size_is_refused_unread() -> None:
    data = bytearray(photo_like((640, 480), "HEIF"))
    at = data.index(b"ispe") + 8  # version/flags, then width and height
    assert int.from_bytes(data[at:at + 4], "big") == 640
    data[at:at + 8] = (60_000).to_bytes(4, "big") + (60_000).to_bytes(4, "big")
    with pytest.raises(InspectionError) as err:
        decode_image(bytes(data), LIMITS)
    assert err.value.kind is InspectionErrorKind.TOO_MANY_PIXELS


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_and_garbage_files_are_corrupt(fmt: str) -> None:
    data = photo_like((320, 240), fmt)
    for bad in (data[: len(data) // 2], data[:40] + bytes(200)):
        with pytest.raises(InspectionError) as err:
            decode_image(bad, LIMITS)
        assert err.value.kind is InspectionErrorKind.CORRUPT


def test_a_heic_thumbnail_that_shows_something_else_is_a_plane() -> None:
    main = Image.open(io.BytesIO(photo_like((640, 480), "PNG"))).convert("RGB")
    hidden = text_picture(["Email: jane.doe@corpmail.com"], size=(640, 480), font_size=40)
    planes = list(decode_image(heic_with_thumbnail(main, hidden), LIMITS).planes())
    assert [p.name for p in planes] == ["heif-thumbnail"]
    assert planes[0].rgb.shape == (192, 256, 3) and planes[0].rgb.min() < 60  # the text is there to be read
    # A thumbnail that only shows the photo smaller (what cameras write) is compared, not read again.
    assert list(decode_image(heic_with_thumbnail(main, main), LIMITS).planes()) == []
    assert list(decode_image(encode_with(main, "HEIF", thumbnails=[128]), LIMITS).planes()) == []


def test_several_images_in_one_heic_inspect_the_primary_and_offer_the_others() -> None:
    first, second = Image.new("RGB", (64, 48), (200, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 200))
    data = encode_with(first, "HEIF", save_all=True, append_images=[second], primary_index=1)
    decoded = decode_image(data, LIMITS)
    assert decoded.n_frames == 2 and decoded.primary == 1
    assert decoded.rgb()[20, 20].argmax() == 2  # the primary (blue) image is the one inspected
    assert [index for index, _ in decoded.frames()] == [0]
    assert decoded.raw.tell() == 1  # back on the primary after the other frames were offered
    assert [p.name for p in decoded.planes()] == ["frame:1"]
    out = Image.open(io.BytesIO(redact_image(decoded, [])))
    assert getattr(out, "n_frames", 1) == 1 and np.asarray(out.convert("RGB"))[20, 20].argmax() == 2


def test_without_a_heic_encoder_redaction_is_not_redactable(monkeypatch) -> None:
    monkeypatch.setattr(heif, "can_write", lambda: False)  # pi-heif installed instead of pillow-heif
    decoded = decode_image(photo_like((64, 48), "HEIF"), LIMITS)
    with pytest.raises(InspectionError) as err:
        redact_image(decoded, [])
    assert err.value.kind is InspectionErrorKind.NOT_REDACTABLE
    assert heif.can_read() and heif.can_write.__name__ == "<lambda>"
