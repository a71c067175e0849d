"""End to end, default policy: PII a receiver can see outside the composited picture (colours under transparency,
the EXIF thumbnail) is blocked or redacted away through a real `dlp-gateway run`; clean transparent PNGs and JPEGs
with a clean thumbnail pass byte-identical."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from gateway.policy.loader import DEFAULT_POLICY_PATH
from tests.support.gateway_process import GatewayProcess, client
from tests.support.images import (
    alpha_hidden_png,
    clean_transparent_png,
    jpeg_with_thumbnail,
    photo_like,
    text_picture,
)
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLICY = DEFAULT_POLICY_PATH

CARD = "4539 1488 0343 6467"
SSN = "536-22-1947"
EMAIL = "jane.doe@corpmail.com"


@pytest.fixture(scope="module")
def verifier():
    from gateway.inspection import Inspector

    return Inspector()


def upload(gateway: GatewayProcess, path: str, image: bytes, mime: str) -> httpx.Response:
    with client(gateway) as c:
        return c.post(f"https://chatgpt.com{path}", files={"file": ("f", image, mime)}, data={"purpose": "vision"})


def received_image(upstream: RecordingUpstream, path: str) -> bytes:
    got = upstream.last_for(path)
    assert got is not None, f"nothing reached the upstream at {path}"
    boundary = got.headers["Content-Type"].split("boundary=")[1].encode()
    part = next(p for p in got.body.split(b"--" + boundary) if b'name="file"' in p)
    return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]


def photo() -> Image.Image:
    return Image.open(io.BytesIO(photo_like((640, 480), fmt="PNG"))).convert("RGB")


def test_card_under_transparency_is_blocked(gateway, upstream):
    r = upload(gateway, "/backend-api/files/hidden-card", alpha_hidden_png([f"Card {CARD}"]), "image/png")
    assert r.status_code == 403, r.text
    assert r.headers["x-dlp-action"] == "block" and r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for("/backend-api/files/hidden-card") is None


def test_ssn_in_the_exif_thumbnail_is_blocked(gateway, upstream):
    image = jpeg_with_thumbnail(photo(), text_picture([f"SSN {SSN}"]))
    with client(gateway) as c:
        r = c.put("https://files.oaiusercontent.com/file-thumb", content=image, headers={"content-type": "image/jpeg"})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for("/file-thumb") is None


def test_redacted_hidden_email_leaves_no_readable_copy(gateway, upstream, verifier):
    image = alpha_hidden_png([f"Mail {EMAIL}"])
    r = upload(gateway, "/backend-api/files/hidden-mail", image, "image/png")
    assert r.status_code == 200, r.text
    sent = received_image(upstream, "/backend-api/files/hidden-mail")
    assert sent != image
    received = Image.open(io.BytesIO(sent))
    assert received.format == "PNG"
    top = received.size[1] // 2
    rgb = np.asarray(received.convert("RGB"))
    alpha = np.asarray(received.convert("RGBA"))[:, :, 3]
    assert (rgb[top:][alpha[top:] == 0] == 255).all()  # nothing left under the transparent pixels
    assert not verifier.inspect(sent).findings  # no plane of what was forwarded holds PII
    flattened = io.BytesIO()
    received.convert("RGB").save(flattened, "PNG")
    assert not [f for f in verifier.inspect(flattened.getvalue()).findings if f.entity == "EMAIL_ADDRESS"]


def test_redacted_thumbnail_email_is_dropped_with_the_thumbnail(gateway, upstream, verifier):
    image = jpeg_with_thumbnail(photo(), text_picture([f"Mail {EMAIL}"]))
    r = upload(gateway, "/backend-api/files/thumb-mail", image, "image/jpeg")
    assert r.status_code == 200, r.text
    sent = received_image(upstream, "/backend-api/files/thumb-mail")
    received = Image.open(io.BytesIO(sent))
    assert received.format == "JPEG" and "exif" not in received.info and not received.getexif()
    assert b"Exif\x00\x00" not in sent and sent.count(b"\xff\xd8") == 1  # one picture, no thumbnail
    assert not verifier.inspect(sent).findings


@pytest.mark.parametrize("name, make, mime", [
    ("clean-transparent", clean_transparent_png, "image/png"),
    ("clean-thumbnail", lambda: jpeg_with_thumbnail(photo(), photo().resize((160, 120))), "image/jpeg"),
])
def test_clean_images_with_transparency_or_thumbnail_pass_byte_identical(gateway, upstream, name, make, mime):
    image = make()
    r = upload(gateway, f"/backend-api/files/{name}", image, mime)
    assert r.status_code == 200, r.text
    assert r.headers.get("x-dlp-action") in (None, "allow")
    assert received_image(upstream, f"/backend-api/files/{name}") == image
