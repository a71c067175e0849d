"""Every picture a receiver can see is inspected: colours under transparency, frames, EXIF thumbnails, MPF images,
Photoshop and XMP thumbnails; redaction keeps no hidden copy.

The first half runs on Pillow/OpenCV only; the tests marked slow use the real OCR and Presidio and the shipped
default policy.
"""

from __future__ import annotations

import base64
import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from gateway.inspection.decode import decode_image
from gateway.inspection.embedded import exif_thumbnails
from gateway.inspection.planes import MAX_EMBEDDED, alpha_hidden
from gateway.inspection.redact import redact_image
from gateway.models import Action, InspectionError, InspectionErrorKind, Limits, RequestContext
from tests.support.images import (
    FONT,
    alpha_hidden_png,
    clean_transparent_png,
    encode_with,
    exif_with_thumbnail,
    jpeg_with_thumbnail,
    photo_like,
    text_picture,
)

LIMITS = Limits()
CARD = "4539 1488 0343 6467"
SSN = "536-22-1947"
EMAIL = "jane.doe@corpmail.com"


def planes(data: bytes) -> list:
    return list(decode_image(data, LIMITS).planes())


def names(data: bytes) -> list[str]:
    return [p.name for p in planes(data)]


def photo() -> Image.Image:
    return Image.open(io.BytesIO(photo_like((640, 480), fmt="PNG"))).convert("RGB")


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the scan of a JPEG."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        out.append((data[pos + 1], data[pos + 4:pos + 2 + length]))
        pos += 2 + length
    return out


def with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """`jpeg` with one more segment right after SOI."""
    return jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def photoshop_resources(thumbnail: bytes) -> bytes:
    """An APP13 payload holding one Photoshop thumbnail resource (0x040C, JPEG)."""
    header = struct.pack(">IIIIIIHH", 1, 160, 120, 480, 57600, len(thumbnail), 24, 1)
    data = header + thumbnail
    block = b"8BIM" + struct.pack(">H", 0x040C) + b"\x00\x00" + struct.pack(">I", len(data)) + data
    return b"Photoshop 3.0\x00" + block + (b"\x00" if len(data) & 1 else b"")


def xmp_with_thumbnail(thumbnail: bytes) -> bytes:
    b64 = base64.b64encode(thumbnail).decode()
    wrapped = "&#xA;".join(b64[i:i + 76] for i in range(0, len(b64), 76))
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            f'xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/"><xmp:Thumbnails><rdf:Alt><rdf:li '
            f'rdf:parseType="Resource"><xmpGImg:format>JPEG</xmpGImg:format><xmpGImg:image>{wrapped}'
            f'</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails></rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def mpo(first: Image.Image, second: Image.Image, ultra_hdr: bool = False) -> bytes:
    """A two-picture MPO. ultra_hdr: marked as an Ultra HDR file, which Pillow opens as a plain JPEG."""
    extra = {"xmp": b'<x:xmpmeta><rdf:Description hdrgm:Version="1.0"/></x:xmpmeta>'} if ultra_hdr else {}
    return encode_with(first, "MPO", save_all=True, append_images=[second], **extra)


# --- colours under transparency -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_text_under_alpha_zero_is_an_alpha_hidden_plane(mode: str) -> None:
    data = alpha_hidden_png([f"Card {CARD}"], mode=mode)
    decoded = decode_image(data, LIMITS)
    top = decoded.image.size[1] // 2
    assert decoded.rgb()[top:].min() == 255  # the composited picture shows nothing there
    (plane,) = planes(data)
    assert plane.name == "alpha-hidden" and plane.same_grid and plane.rgb.shape == decoded.rgb().shape
    receiver = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    ink = receiver[top:].min(axis=2) < 100  # the text, as convert("RGB") shows it
    assert ink.sum() > 500
    assert np.array_equal(plane.rgb[top:][ink], receiver[top:][ink])


def test_white_text_on_a_transparent_ground_is_an_alpha_hidden_plane() -> None:
    image = Image.new("RGBA", (700, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((20, 40), f"mail {EMAIL}", font=ImageFont.truetype(FONT, 28), fill="white")
    assert names(encode_with(image, "PNG")) == ["alpha-hidden"]


def _rounded_screenshot() -> bytes:
    image = Image.new("RGBA", (800, 500), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 799, 499), radius=20, fill="white")
    draw.text((40, 40), "Quarterly roadmap review", font=ImageFont.truetype(FONT, 26), fill="black")
    return encode_with(image, "PNG")


def _logo(under: tuple[int, int, int, int]) -> bytes:
    image = Image.new("RGBA", (700, 120), under)  # antialiased glyph fringes keep the text colour at low alpha
    ImageDraw.Draw(image).text((20, 40), "Quarterly roadmap", font=ImageFont.truetype(FONT, 28), fill=(10, 10, 60))
    return encode_with(image, "PNG")


@pytest.mark.parametrize("make", [clean_transparent_png, _rounded_screenshot, lambda: _logo((0, 0, 0, 0)),
                                  lambda: _logo((255, 255, 255, 0)), lambda: photo_like(fmt="PNG"),
                                  lambda: encode_with(Image.new("RGBA", (300, 200), (255, 0, 0, 255)), "PNG")],
                         ids=["card-with-shadow", "rounded-screenshot", "logo-black-under", "logo-white-under",
                              "opaque", "opaque-rgba"])
def test_nothing_hidden_means_no_extra_plane(make) -> None:
    assert names(make()) == []


def test_the_hidden_plane_is_flat_away_from_what_is_hidden() -> None:
    data = alpha_hidden_png([f"SSN {SSN}"], size=(1200, 600))
    (plane,) = planes(data)
    assert np.ptp(plane.rgb[:250].reshape(-1, 3), axis=0).max() == 0  # the photo above is not read again
    rgba = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    assert alpha_hidden(rgba, decode_image(data, LIMITS).rgb()) is not None


# --- frames, embedded pictures ----------------------------------------------------------------------------------


def test_frames_and_their_hidden_colours_are_planes() -> None:
    clean = Image.new("RGBA", (400, 120), (250, 250, 250, 255))
    hidden = Image.new("RGBA", (400, 120), (255, 255, 255, 0))
    ImageDraw.Draw(hidden).text((10, 40), f"SSN {SSN}", font=ImageFont.truetype(FONT, 28), fill=(0, 0, 0, 0))
    data = encode_with(clean, "PNG", save_all=True, append_images=[hidden], duration=100)
    assert names(data) == ["frame:2", "frame:2/alpha-hidden"]


def test_exif_thumbnail_is_a_plane_in_jpeg_png_and_webp() -> None:
    thumbnail = text_picture([f"SSN {SSN}"], size=(320, 80))
    assert names(jpeg_with_thumbnail(photo(), thumbnail)) == ["exif-thumbnail"]
    exif = exif_with_thumbnail(encode_with(thumbnail, "JPEG"))
    for fmt in ("PNG", "WEBP"):
        (plane,) = planes(encode_with(photo(), fmt, exif=exif))
        assert plane.name == "exif-thumbnail" and plane.rgb.shape == (80, 320, 3) and not plane.same_grid


def _camera_photo(size: tuple[int, int] = (1200, 800)) -> Image.Image:
    from skimage import data

    return Image.fromarray(data.coffee()).resize(size)


@pytest.mark.parametrize("resample", [Image.Resampling.BICUBIC, Image.Resampling.LANCZOS,
                                      Image.Resampling.BILINEAR, Image.Resampling.NEAREST])
def test_a_thumbnail_that_only_scales_the_main_picture_down_is_not_read_again(resample) -> None:
    main = _camera_photo()
    assert names(jpeg_with_thumbnail(main, main.resize((160, 107), resample))) == []
    letterboxed = Image.new("RGB", (160, 120), "black")
    letterboxed.paste(main.resize((160, 107), resample), (0, 6))
    assert names(jpeg_with_thumbnail(main, letterboxed)) == []
    # stored as the sensor saw it, shown turned by the EXIF orientation: the thumbnail is turned alike
    sideways = main.transpose(Image.Transpose.ROTATE_90)
    assert names(jpeg_with_thumbnail(sideways, sideways.resize((107, 160), resample), orientation=6)) == []


@pytest.mark.parametrize("grey", [0, 120, 200])
def test_a_thumbnail_with_anything_more_is_read(grey: int) -> None:
    main = _camera_photo()
    thumb = main.resize((160, 107))
    ImageDraw.Draw(thumb).text((8, 80), f"SSN {SSN}", font=ImageFont.truetype(FONT, 8), fill=(grey, grey, grey))
    assert names(jpeg_with_thumbnail(main, thumb)) == ["exif-thumbnail"]
    cropped = main.crop((0, 0, 600, 400)).resize((160, 107))  # a different picture altogether
    assert names(jpeg_with_thumbnail(main, cropped)) == ["exif-thumbnail"]


def test_uncompressed_exif_thumbnail_is_a_plane() -> None:
    pixels = np.asarray(text_picture(["x"], size=(40, 30)))
    entries = [(0x0100, 3, 40), (0x0101, 3, 30), (0x0102, 3, 8), (0x0103, 3, 1), (0x0106, 3, 2), (0x0111, 4, 0),
               (0x0115, 3, 3), (0x0117, 4, pixels.size)]
    ifd1 = 8 + 2 + 4  # IFD0 has no entries
    data_at = ifd1 + 2 + 12 * len(entries) + 4
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<HI", 0, ifd1) + struct.pack("<H", len(entries))
    for tag, typ, value in entries:
        value = data_at if tag == 0x0111 else value
        tiff += struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value))
    tiff += struct.pack("<I", 0) + pixels.tobytes()
    (found,) = exif_thumbnails(b"Exif\x00\x00" + tiff)
    assert found.name == "exif-thumbnail" and np.array_equal(found.pixels, pixels)
    (plane,) = planes(encode_with(photo(), "JPEG", exif=b"Exif\x00\x00" + tiff))
    assert np.array_equal(plane.rgb, pixels)


@pytest.mark.parametrize("damage", ["outside", "garbage", "truncated"])
def test_a_corrupt_thumbnail_is_an_inspection_error(damage: str) -> None:
    thumb = encode_with(text_picture(["x"], size=(160, 120)), "JPEG")
    exif = exif_with_thumbnail(thumb)
    if damage == "outside":  # the declared length runs past the EXIF block
        exif = exif.replace(struct.pack("<HHII", 0x0202, 4, 1, len(thumb)), struct.pack("<HHII", 0x0202, 4, 1, 10**6))
    elif damage == "garbage":
        exif = exif.replace(thumb, b"\xff\xd8\xff\xe0" + bytes(len(thumb) - 4))
    else:
        exif = exif.replace(thumb, thumb[: len(thumb) // 2] + bytes(len(thumb) - len(thumb) // 2))
    with pytest.raises(InspectionError) as err:
        planes(encode_with(photo(), "JPEG", exif=exif))
    assert err.value.kind is InspectionErrorKind.CORRUPT and "exif-thumbnail" in str(err.value)


def test_an_empty_or_absent_thumbnail_is_no_plane() -> None:
    exif = exif_with_thumbnail(b"")
    assert names(encode_with(photo(), "JPEG", exif=exif)) == []
    assert exif_thumbnails(b"Exif\x00\x00not a tiff") == []


def test_mpf_images_are_planes_or_frames() -> None:
    second = text_picture([f"SSN {SSN}"], size=(320, 80)).resize((640, 160))
    assert names(mpo(photo(), second)) == ["frame:2"]  # Pillow opens a valid MPO: its pictures are frames
    (plane,) = planes(mpo(photo(), second, ultra_hdr=True))  # an Ultra HDR file: Pillow shows one picture only
    assert plane.name == "mpf:2" and plane.rgb.shape == (160, 640, 3)


def test_photoshop_and_xmp_thumbnails_are_planes() -> None:
    thumb = encode_with(text_picture([f"SSN {SSN}"], size=(320, 80)), "JPEG")
    main = encode_with(photo(), "JPEG")
    assert names(with_segment(main, 0xED, photoshop_resources(thumb))) == ["photoshop-thumbnail"]
    assert names(encode_with(photo(), "JPEG", xmp=xmp_with_thumbnail(thumb))) == ["xmp-thumbnail"]
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_with_thumbnail(thumb).decode())
    assert names(encode_with(photo(), "PNG", pnginfo=info)) == ["xmp-thumbnail"]


def test_a_thumbnail_inside_a_thumbnail_is_a_plane_and_deeper_is_refused() -> None:
    inner = encode_with(text_picture(["x"], size=(160, 120)), "JPEG")
    middle = encode_with(text_picture(["y"], size=(320, 240)), "JPEG", exif=exif_with_thumbnail(inner))
    assert names(encode_with(photo(), "JPEG", exif=exif_with_thumbnail(middle))) == \
        ["exif-thumbnail", "exif-thumbnail/exif-thumbnail"]
    outer = encode_with(text_picture(["z"], size=(480, 360)), "JPEG", exif=exif_with_thumbnail(middle))
    with pytest.raises(InspectionError) as err:
        planes(encode_with(photo(), "JPEG", exif=exif_with_thumbnail(outer)))
    assert err.value.kind is InspectionErrorKind.TOO_MANY_IMAGES


def test_too_many_embedded_pictures_are_refused() -> None:
    thumb = encode_with(text_picture(["x"], size=(80, 60)), "JPEG")
    data = encode_with(photo(), "JPEG")
    for _ in range(MAX_EMBEDDED + 1):
        data = with_segment(data, 0xED, photoshop_resources(thumb))
    with pytest.raises(InspectionError) as err:
        planes(data)
    assert err.value.kind is InspectionErrorKind.TOO_MANY_IMAGES


# --- redaction keeps no hidden copy ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_redaction_clears_the_colours_under_transparency(mode: str) -> None:
    data = alpha_hidden_png([f"Card {CARD}"], mode=mode)
    out = redact_image(decode_image(data, LIMITS), [])
    received = Image.open(io.BytesIO(out))
    top = received.size[1] // 2
    assert np.asarray(received.convert("RGB"))[top:].min() == 255  # convert("RGB") shows nothing there any more
    assert np.asarray(received.convert("RGBA"))[top:, :, 3].max() == 0  # still transparent
    assert planes(out) == []


def test_redaction_drops_every_embedded_picture() -> None:
    thumb = encode_with(text_picture([f"SSN {SSN}"], size=(320, 80)), "JPEG")
    data = encode_with(photo(), "JPEG", exif=exif_with_thumbnail(thumb), xmp=xmp_with_thumbnail(thumb))
    data = with_segment(data, 0xED, photoshop_resources(thumb))
    assert names(data) == ["exif-thumbnail", "photoshop-thumbnail", "xmp-thumbnail"]
    for source in (data, mpo(photo(), text_picture(["x"], size=(640, 160)), ultra_hdr=True)):
        out = redact_image(decode_image(source, LIMITS), [])
        markers = {marker for marker, _ in jpeg_segments(out)}
        assert not markers & {0xE1, 0xE2, 0xED}, markers  # no EXIF/XMP, no MPF, no Photoshop resources
        assert planes(out) == []


# --- with the real OCR, Presidio and the default policy ----------------------------------------------------------


@pytest.fixture(scope="module")
def inspector():
    from gateway.inspection import Inspector

    return Inspector()


@pytest.fixture(scope="module")
def default_policy():
    from gateway.policy.loader import load_default_policy

    return load_default_policy()


def decide(policy, report, host: str = "chatgpt.com"):
    ctx = RequestContext(host=host, path="/backend-api/files", method="POST",
                         destination=policy.destination_for(host, "/backend-api/files", "POST"), image_count=1)
    return policy.decide(ctx, [report])


@pytest.mark.slow
@pytest.mark.parametrize("mode, line, entity", [("RGBA", f"Card {CARD}", "CREDIT_CARD"),
                                                ("LA", f"SSN {SSN}", "US_SSN"),
                                                ("P", f"Card {CARD}", "CREDIT_CARD")])
def test_pii_under_transparency_is_found_and_blocked(inspector, default_policy, mode, line, entity) -> None:
    report = inspector.inspect(alpha_hidden_png([line], mode=mode))
    assert report.ok, report.error_detail
    hits = [f for f in report.findings if f.entity == entity]
    assert hits and all(f.plane == "alpha-hidden" and f.box is not None for f in hits)
    top = report.height // 2
    assert all(f.box[1] >= top - 10 for f in hits)  # where it is hidden, in the main picture's pixels
    assert decide(default_policy, report).action is Action.BLOCK


@pytest.mark.slow
@pytest.mark.parametrize("make", [clean_transparent_png, _rounded_screenshot, lambda: _logo((0, 0, 0, 0))],
                         ids=["card-with-shadow", "rounded-screenshot", "logo"])
def test_clean_transparent_pngs_are_allowed(inspector, default_policy, make) -> None:
    report = inspector.inspect(make())
    assert report.ok and not [f for f in report.findings if f.plane]
    assert decide(default_policy, report).action is Action.ALLOW


@pytest.mark.slow
def test_pii_in_the_exif_thumbnail_is_found_and_blocked(inspector, default_policy) -> None:
    report = inspector.inspect(jpeg_with_thumbnail(photo(), text_picture([f"SSN {SSN}", EMAIL])))
    assert report.ok, report.error_detail
    planes_seen = {(f.entity, f.plane, f.box) for f in report.findings}
    assert {("US_SSN", "exif-thumbnail", None), ("EMAIL_ADDRESS", "exif-thumbnail", None)} <= planes_seen
    assert decide(default_policy, report).action is Action.BLOCK


@pytest.mark.slow
def test_clean_photo_with_its_own_thumbnail_is_allowed(inspector, default_policy) -> None:
    picture = photo()
    report = inspector.inspect(jpeg_with_thumbnail(picture, picture.resize((160, 120))))
    assert report.ok and report.findings == []
    assert decide(default_policy, report).action is Action.ALLOW


@pytest.mark.slow
def test_a_corrupt_thumbnail_gets_on_error(inspector, default_policy) -> None:
    exif = exif_with_thumbnail(b"\xff\xd8\xff\xe0" + bytes(400))
    report = inspector.inspect(encode_with(photo(), "JPEG", exif=exif))
    assert report.error is InspectionErrorKind.CORRUPT and "exif-thumbnail" in report.error_detail
    decision = decide(default_policy, report)
    assert decision.action is Action.BLOCK and decision.rule == "on_error"


@pytest.mark.slow
def test_pii_in_an_ultra_hdr_second_picture_is_found(inspector) -> None:
    second = text_picture([f"SSN {SSN}"], size=(480, 100))
    report = inspector.inspect(mpo(photo(), second, ultra_hdr=True))
    assert ("US_SSN", "mpf:2") in {(f.entity, f.plane) for f in report.findings}


@pytest.mark.slow
def test_what_a_thumbnail_repeats_is_counted_once(inspector) -> None:
    main = text_picture([f"Mail {EMAIL}"], size=(900, 200), font_size=36)
    other = text_picture([f"Contact {EMAIL}", f"SSN {SSN}"], size=(480, 120), font_size=22)  # not a scaled copy
    assert names(jpeg_with_thumbnail(main, other)) == ["exif-thumbnail"]
    report = inspector.inspect(jpeg_with_thumbnail(main, other))
    emails = [f for f in report.findings if f.entity == "EMAIL_ADDRESS"]
    assert len(emails) == 1 and emails[0].plane == "" and emails[0].box is not None
    assert ("US_SSN", "exif-thumbnail") in {(f.entity, f.plane) for f in report.findings}


@pytest.mark.slow
def test_redacted_hidden_email_is_unreadable_in_every_plane(inspector, default_policy) -> None:
    data = alpha_hidden_png([f"Mail {EMAIL}"])
    report = inspector.inspect(data)
    decision = decide(default_policy, report)
    assert decision.action is Action.REDACT
    assert [f.plane for f in decision.redactions[0] if f.entity == "EMAIL_ADDRESS"] == ["alpha-hidden"]
    out = inspector.redact(data, decision.redactions[0])
    assert not inspector.inspect(out).findings
    receiver = encode_with(Image.open(io.BytesIO(out)).convert("RGB"), "PNG")  # what convert("RGB") shows
    assert not [f for f in inspector.inspect(receiver).findings if f.entity == "EMAIL_ADDRESS"]


@pytest.mark.slow
def test_scan_json_names_the_plane(inspector, default_policy) -> None:
    from gateway.scan import scan_result

    report = inspector.inspect(alpha_hidden_png([f"Card {CARD}"]))
    out = scan_result("a.png", report, decide(default_policy, report), 1.0)
    card = [f for f in out["findings"] if f["entity"] == "CREDIT_CARD"]
    assert card and set(card[0]) == {"entity", "source", "score", "box", "plane"} and card[0]["plane"] == "alpha-hidden"
    clean = inspector.inspect(photo_like())
    assert all("plane" not in f for f in scan_result("b.jpg", clean, decide(default_policy, clean), 1.0)["findings"])
