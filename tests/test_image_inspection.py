"""Decode, metadata, faces, barcodes and redaction on real Pillow/zxing-cpp/MTCNN code and real face photos.

The face photos come from installed packages (scikit-image's astronaut.png, matplotlib's grace_hopper.jpg), which
the test extras install; nothing large is stored in the repository.
"""

from __future__ import annotations

import importlib.util
import io
import os
import random
import struct
import zlib

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFile, PngImagePlugin

from gateway.formats import sniff_format
from gateway.inspection.barcodes import read_barcodes
from gateway.inspection.decode import DecodedImage, decode_image
from gateway.inspection import faces as faces_module
from gateway.inspection.faces import FaceDetector
from gateway.inspection.metadata import metadata_findings
from gateway.inspection.redact import redact_image
from gateway.models import Finding, InspectionError, InspectionErrorKind, Limits

LIMITS = Limits()
FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]


def _package_file(package: str, *parts: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (it is in the test extras)")
    return os.path.join(spec.submodule_search_locations[0], *parts)


def astronaut() -> bytes:
    with open(_package_file("skimage", "data", "astronaut.png"), "rb") as f:
        return f.read()


def grace_hopper() -> bytes:
    with open(_package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"), "rb") as f:
        return f.read()


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def pattern(width: int = 64, height: int = 48) -> Image.Image:
    """A left-red/right-blue image with a dark top-left corner: orientation and position are checkable."""
    arr = np.zeros((height, width, 3), np.uint8)
    arr[:, : width // 2] = (220, 30, 30)
    arr[:, width // 2 :] = (30, 30, 220)
    arr[:8, :8] = (0, 0, 0)
    return Image.fromarray(arr)


def document(width: int = 900, height: int = 600) -> Image.Image:
    im = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(["INVOICE 2024-0042", "Customer: ACME Corp", "Amount due: 1,234.56", "Thank you"] * 3):
        draw.text((40, 30 + i * 45), line, fill="black", font_size=28)
    return im


def decode(data: bytes) -> DecodedImage:
    return decode_image(data, LIMITS)


@pytest.fixture(scope="module")
def faces() -> FaceDetector:
    return FaceDetector()


# --- decode ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_decode_each_format(fmt: str) -> None:
    decoded = decode(encode(pattern(), fmt))
    assert decoded.format == fmt
    assert decoded.image.mode == "RGB" and decoded.image.size == (64, 48)
    rgb = decoded.rgb()
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert rgb[24, 5, 0] > 150 and rgb[24, 60, 2] > 150  # red left, blue right survive every codec
    assert decoded.rgb() is rgb  # cached


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90° clockwise
    decoded = decode(encode(pattern(), "JPEG", exif=exif.tobytes()))
    assert decoded.raw.size == (64, 48)
    assert decoded.image.size == (48, 64)
    rgb = decoded.rgb()
    assert rgb[2:6, 42:46].max() < 60  # the dark corner moved from top-left to top-right
    assert rgb[5, 24, 0] > 150 and rgb[60, 24, 2] > 150  # red on top, blue at the bottom


def test_transparent_png_is_composited_on_white() -> None:
    im = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (0, 0, 10, 10))
    rgb = decode(encode(im, "PNG")).rgb()
    assert rgb[5, 2].tolist() == [0, 0, 0] and rgb[5, 15].tolist() == [255, 255, 255]


def test_sixteen_bit_tiff_is_rescaled() -> None:
    arr = np.tile(np.linspace(0, 4000, 32, dtype=np.uint16), (8, 1))
    rgb = decode(encode(Image.fromarray(arr), "TIFF")).rgb()
    assert Image.open(io.BytesIO(encode(Image.fromarray(arr), "TIFF"))).mode.startswith("I;16")
    assert rgb[0, 0, 0] == 0 and rgb[0, -1, 0] == 255


def _kind(data: bytes, limits: Limits = LIMITS) -> InspectionErrorKind:
    with pytest.raises(InspectionError) as err:
        decode_image(data, limits)
    return err.value.kind


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid-looking PNG header claiming width x height pixels, followed by a few bytes of 'pixels'."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_from_the_header() -> None:
    assert _kind(bomb_png()) is InspectionErrorKind.TOO_MANY_PIXELS
    # Limit raised above Pillow's own bomb guard: that guard must surface as the same kind, not as a crash.
    assert _kind(bomb_png(), Limits(max_pixels=10**12)) is InspectionErrorKind.TOO_MANY_PIXELS


def test_too_many_pixels_for_a_small_limit() -> None:
    assert _kind(encode(pattern(), "PNG"), Limits(max_pixels=1000)) is InspectionErrorKind.TOO_MANY_PIXELS


def test_too_large_bytes_are_refused_before_parsing() -> None:
    assert _kind(encode(pattern(), "PNG"), Limits(max_image_bytes=100)) is InspectionErrorKind.TOO_LARGE


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "TIFF"])
def test_truncated_images_are_corrupt(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    data = encode(Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)), fmt)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # someone else's global must not matter
    assert _kind(data[: len(data) // 2]) is InspectionErrorKind.CORRUPT


_GARBAGE = random.Random(1234).randbytes  # seeded: random header sizes would sometimes read as a pixel bomb


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + _GARBAGE(500),  # PNG magic, then garbage
        b"\xff\xd8\xff\xe0" + _GARBAGE(500),
        b"GIF89a\x10\x00\x10\x00" + _GARBAGE(50),  # a small logical screen, then garbage
        b"RIFF\x00\x01\x00\x00WEBPVP8 " + _GARBAGE(100),
        b"II*\x00" + _GARBAGE(100),
        b"BM" + _GARBAGE(100),
        bomb_png(0, 10),
        b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100,
        b"\x00\x00\x00\x18ftypavif" + b"\x00" * 100,
    ],
)
def test_garbage_with_magic_is_corrupt(data: bytes) -> None:
    assert _kind(data) is InspectionErrorKind.CORRUPT


@pytest.mark.parametrize("data", [b"hello world" * 10, b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100, b""])
def test_unknown_formats_are_unsupported(data: bytes) -> None:
    assert _kind(data) is InspectionErrorKind.UNSUPPORTED_FORMAT


def test_animated_gif_inspects_frame_zero_and_offers_the_rest() -> None:
    frames = [Image.new("RGB", (30, 20), color) for color in ("red", "green", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = decode(data)
    assert decoded.n_frames == 3
    assert decoded.rgb()[10, 10].tolist() == [255, 0, 0]
    extra = [np.asarray(f)[10, 10].tolist() for f in decoded.extra_frames()]
    assert extra == [[0, 128, 0], [0, 0, 255]]
    out = Image.open(io.BytesIO(redact_image(decoded, [])))
    assert getattr(out, "n_frames", 1) == 1  # no uninspected frame leaves through a redaction


# --- metadata -------------------------------------------------------------------------------------------------


def _exif_with(
    gps: bool = False, serial: bool = False, owner: str | None = None, description: str | None = None
) -> bytes:
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.9), 3: "E", 4: (2.0, 17.0, 40.2)}
    sub = {}
    if serial:
        sub[0xA431] = "SN-4471-99812"
    if owner is not None:
        sub[0xA430] = owner
    if sub:
        exif[0x8769] = sub
    if description:
        exif[0x010E] = description
    return exif.tobytes()


def test_gps_serial_and_owner_findings() -> None:
    data = encode(pattern(), "JPEG", exif=_exif_with(gps=True, serial=True, owner="Jane Whitfield"))
    findings, _ = metadata_findings(decode(data))
    entities = {f.entity for f in findings}
    assert entities == {"EXIF_GPS", "DEVICE_SERIAL", "CAMERA_OWNER"}
    assert all(f.source == "metadata" and f.box is None for f in findings)


def test_clean_image_and_boilerplate_copyright_have_no_findings() -> None:
    exif = Image.Exif()
    exif[0x8298] = "(c) 2024 All rights reserved"
    exif[0x8825] = {2: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0)}  # a zeroed placeholder is not a position
    assert metadata_findings(decode(encode(pattern(), "JPEG", exif=exif.tobytes())))[0] == []
    assert metadata_findings(decode(encode(pattern(), "PNG"))) == ([], [])


def test_png_text_chunks_and_xmp_are_returned() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "call Jane at 555-201-7788")
    info.add_itxt("Description", "ssn 536-22-1947", zip=True)
    info.add_text("Author", "zipped author", zip=True)
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description exif:GPSLatitude="48,51.5N" ' \
          'aux:SerialNumber="X1"><dc:creator><rdf:Seq><rdf:li>Jane Whitfield</rdf:li></rdf:Seq></dc:creator>' \
          "</rdf:Description></rdf:RDF></x:xmpmeta>"
    info.add_itxt("XML:com.adobe.xmp", xmp)
    findings, texts = metadata_findings(decode(encode(pattern(), "PNG", pnginfo=info)))
    joined = "\n".join(texts)
    for expected in ("555-201-7788", "536-22-1947", "zipped author", "Jane Whitfield"):
        assert expected in joined
    assert {f.entity for f in findings} >= {"EXIF_GPS", "DEVICE_SERIAL"}


def test_xmp_document_and_instance_ids_are_no_text() -> None:
    """GIMP and Photoshop stamp every file with UUIDs (a clean screenshot was flagged for them); other values in the
    same fields, and identifiers that are not UUID-shaped, still go to the analyzer."""
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description ' \
          'xmpMM:DocumentID="gimp:docid:gimp:00e1fde6-3e60-4e26-b8cb-3a67b61e33ba" ' \
          'xmpMM:InstanceID="xmp.iid:c1cddcfb-c4e6-4ac8-9d6d-c19821859d94" xmpMM:OriginalDocumentID="card 4111 1111 ' \
          '1111 1111"><xmpMM:DerivedFrom>xmp.did:F77F1174072068118083E2A2B7C1F1E4</xmpMM:DerivedFrom>' \
          '<xmpMM:History><rdf:Seq><rdf:li stEvt:instanceID="uuid:1b9472a4-5550-473b-a6ff-e55900889092" ' \
          'stEvt:softwareAgent="Gimp 2.10"/></rdf:Seq></xmpMM:History><dc:title>ticket 1b9472a4</dc:title>' \
          "</rdf:Description></rdf:RDF></x:xmpmeta>"
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    _, texts = metadata_findings(decode(encode(pattern(), "PNG", pnginfo=info)))
    joined = "\n".join(texts)
    assert "4111 1111 1111 1111" in joined and "Gimp 2.10" in joined and "ticket 1b9472a4" in joined
    for minted in ("00e1fde6", "c1cddcfb", "F77F1174", "1b9472a4-5550"):
        assert minted not in joined


def test_jpeg_comment_and_exif_texts_are_returned() -> None:
    exif = _exif_with(description="passport X12345678")
    data = encode(pattern(), "JPEG", exif=exif, comment=b"card 4111 1111 1111 1111")
    findings, texts = metadata_findings(decode(data))
    assert any("4111 1111 1111 1111" in t for t in texts)
    assert any("passport X12345678" in t for t in texts)
    assert findings == []


# --- faces ----------------------------------------------------------------------------------------------------


def _overlaps(box, expected) -> bool:
    ix = max(0, min(box[2], expected[2]) - max(box[0], expected[0]))
    iy = max(0, min(box[3], expected[3]) - max(box[1], expected[1]))
    return ix * iy > 0.3 * (expected[2] - expected[0]) * (expected[3] - expected[1])


@pytest.mark.parametrize("photo, face", [(astronaut, (177, 67, 270, 170)), (grace_hopper, (165, 120, 370, 335))])
def test_faces_found_on_real_photos(faces: FaceDetector, photo, face) -> None:
    found = faces.detect(decode(photo()).rgb())
    assert len(found) == 1
    assert found[0].entity == "FACE" and found[0].source == "face" and found[0].score > 0.9
    assert _overlaps(found[0].box, face)


def test_small_face_on_an_id_card(faces: FaceDetector) -> None:
    card = document(856, 540)
    photo = decode(astronaut()).image.crop((120, 20, 330, 260)).resize((105, 120))  # face ~46 px wide
    card.paste(photo, (40, 300))
    found = faces.detect(np.asarray(card))
    assert len(found) == 1 and _overlaps(found[0].box, (68, 350, 115, 405))


def test_pnet_skips_blank_space_but_finds_what_the_whole_levels_find(faces: FaceDetector, monkeypatch) -> None:
    """P-Net runs on the busy parts of each pyramid level only: on a page with a small photo, a dim photo and text
    that is well under half of the first level, and the faces (and their scores) are exactly those found when every
    level is read whole."""
    page = Image.new("RGB", (1400, 1000), "white")
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(["Staff directory", "Jane Doe, Finance", "jane.doe@example.com"]):
        draw.text((600, 80 + i * 40), line, fill="black", font_size=26)
    page.paste(decode(astronaut()).image.crop((120, 20, 330, 260)).resize((105, 120)), (80, 80))
    draw.rectangle((0, 500, 1400, 1000), fill=(6, 6, 6))  # a dark band, and in it a very dark photo
    page.paste(decode(grace_hopper()).image.resize((160, 200)).point(lambda v: v // 6), (900, 650))
    rgb = np.asarray(page)

    scale = 12.0 / faces_module.MIN_FACE  # the first pyramid level, the largest
    level = np.asarray(page.resize((round(1400 * scale), round(1000 * scale)), Image.BOX))
    parts = faces_module._level_parts(level)
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in parts) < 0.3 * level.shape[0] * level.shape[1]
    assert all(x0 % 2 == 0 and y0 % 2 == 0 for x0, y0, _, _ in parts)

    found = faces.detect(rgb)
    monkeypatch.setattr(faces_module, "_level_parts", lambda lv: [(0, 0, lv.shape[1], lv.shape[0])])
    whole = faces.detect(rgb)
    assert len(found) == 2 and [(f.box, f.score) for f in found] == [(f.box, f.score) for f in whole]


def test_no_face_on_a_document(faces: FaceDetector) -> None:
    assert faces.detect(np.asarray(document())) == []


def test_missing_weights_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.inspection.faces.WEIGHTS_PACKAGE", "no_such_weights_package")
    with pytest.raises(RuntimeError, match="weights missing"):
        FaceDetector()


# --- barcodes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt", [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.PDF417, zxingcpp.BarcodeFormat.DataMatrix]
)
def test_barcode_round_trip(fmt) -> None:
    text = "DOE JANE 536-22-1947 jane.doe@example.com"
    code = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=4))
    page = np.asarray(document()).copy()
    y, x = 300, 350
    page[y : y + code.shape[0], x : x + code.shape[1]] = code[..., None]
    found = read_barcodes(page)
    assert [t for t, _ in found] == [text]
    x0, y0, x1, y1 = found[0][1]
    assert x - 20 <= x0 < x1 <= x + code.shape[1] + 20 and y - 20 <= y0 < y1 <= y + code.shape[0] + 20


def test_no_barcode_on_a_document() -> None:
    assert read_barcodes(np.asarray(document())) == []


# --- redaction ------------------------------------------------------------------------------------------------

TEXT_BOX = (100, 100, 300, 140)


def _photo_with_metadata(fmt: str) -> bytes:
    yy, xx = np.mgrid[0:240, 0:400]
    arr = np.stack([128 + 80 * np.sin(xx / 23), 128 + 80 * np.cos(yy / 17), 128 + 60 * np.sin((xx + yy) / 31)], -1)
    im = Image.fromarray(arr.astype(np.uint8))
    params: dict = {}
    exif = _exif_with(gps=True, serial=True, owner="Jane Whitfield", description="secret")
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "call 555-201-7788")
        info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
        params = {"pnginfo": info, "exif": exif}
    elif fmt in ("JPEG", "WEBP", "TIFF"):
        params = {"exif": exif}
    if fmt == "JPEG":
        params["comment"] = b"card 4111"
    if fmt == "GIF":
        params["comment"] = b"card 4111"
    return encode(im, fmt, **params)


@pytest.mark.parametrize("fmt", FORMATS)
def test_redaction_keeps_format_paints_box_and_strips_metadata(fmt: str) -> None:
    decoded = decode(_photo_with_metadata(fmt))
    finding = Finding("EMAIL_ADDRESS", "ocr", 0.9, TEXT_BOX)
    out = redact_image(decoded, [finding, Finding("EXIF_GPS", "metadata", 1.0)])
    assert sniff_format(out) == fmt
    again = decode(out)
    assert again.image.size == decoded.image.size
    assert metadata_findings(again) == ([], [])
    exif = again.raw.getexif()  # a TIFF's own structure tags show up here too: only those may remain
    assert not set(exif) & {0x8825, 0x8769, 0x0112, 0x010E, 0x013B, 0x8298, 0x02BC, 0x9C9C}
    assert fmt == "TIFF" or not exif
    assert "xmp" not in again.raw.info and "comment" not in again.raw.info and "exif" not in again.raw.info
    assert not getattr(again.raw, "text", {})
    after, before = again.rgb().astype(int), decoded.rgb().astype(int)
    x0, y0, x1, y1 = TEXT_BOX
    painted = after[y0:y1, x0:x1]
    assert painted.max() - painted.min() <= (12 if fmt in ("JPEG", "WEBP") else 0)  # uniform fill
    outside = np.ones(after.shape[:2], bool)
    outside[y0 - 30 : y1 + 30, x0 - 30 : x1 + 30] = False
    diff = np.abs(after - before)[outside]
    if fmt in ("PNG", "BMP", "TIFF"):
        assert diff.max() == 0
    elif fmt == "GIF":
        assert diff.mean() < 25  # palette quantization of a noisy photo
    else:
        assert diff.mean() < 12


def test_redaction_output_is_in_the_oriented_frame() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode(encode(pattern(), "JPEG", exif=exif.tobytes()))
    out = Image.open(io.BytesIO(redact_image(decoded, [])))
    assert out.size == (48, 64) and not out.getexif()
    assert np.asarray(out)[5, 24, 0] > 150  # red on top, as the user saw it


@pytest.mark.parametrize("photo", [astronaut, grace_hopper])
def test_redacted_faces_are_not_found_again(faces: FaceDetector, photo) -> None:
    decoded = decode(photo())
    found = faces.detect(decoded.rgb())
    assert found
    out = redact_image(decoded, found)
    assert faces.detect(decode(out).rgb()) == []
    # The rest of the photo stays (a JPEG re-encode differs only slightly far from the face).
    before, after = decoded.rgb().astype(int), decode(out).rgb().astype(int)
    x0, y0, x1, y1 = found[0].box
    pad = x1 - x0
    keep = np.ones(before.shape[:2], bool)
    keep[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad] = False
    assert np.abs(before - after)[keep].mean() < 4
    face_diff = np.abs(before - after)[y0:y1, x0:x1].mean()
    assert face_diff > 15


def test_redaction_keeps_transparency_outside_boxes() -> None:
    im = Image.new("RGBA", (120, 80), (0, 0, 0, 0))
    im.paste((10, 200, 10, 255), (60, 0, 120, 80))
    out = Image.open(io.BytesIO(redact_image(decode(encode(im, "PNG")), [Finding("X", "ocr", 1.0, (10, 10, 40, 30))])))
    arr = np.asarray(out)
    assert out.mode == "RGBA"
    assert arr[70, 5, 3] == 0  # still transparent
    assert arr[20, 25].tolist() == [0, 0, 0, 255]  # painted, opaque
