"""End to end with iPhone photos (HEIC) and AVIF: a real `dlp-gateway run` on the shipped default policy, real HTTPS
clients and a real recording upstream on 127.0.0.1. A clean photo arrives byte-identical, a photo with a GPS
position arrives as a HEIC without it, a HEIC with PII is blocked."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gateway.formats import sniff_format
from tests.support.gateway_process import client
from tests.support.images import gps_exif, photo_like, text_image

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CARD = "4539 1488 0343 6467"
EMAIL = "jane.doe@corpmail.com"
POLICY = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
BLOB = "https://files.oaiusercontent.com"


def blob_put(gateway, name: str, data: bytes, ctype: str) -> tuple[httpx.Response, str]:
    """ChatGPT's file upload: the bytes are PUT to a signed blob URL."""
    path = f"/{name}?se=2026-12-07&sig=abc"
    with client(gateway) as c:
        return c.put(f"{BLOB}{path}", content=data, headers={"x-ms-blob-type": "BlockBlob", "content-type": ctype}), path


@pytest.mark.parametrize("fmt, ctype", [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_a_clean_photo_arrives_byte_identical(gateway, upstream, fmt, ctype):
    photo = photo_like((1024, 768), fmt)
    r, path = blob_put(gateway, f"file-clean-{fmt}", photo, ctype)
    assert r.status_code == 200, r.text
    assert upstream.last_for(path).body == photo
    with client(gateway) as c:
        r = c.post("https://claude.ai/api/o-1/upload", files={"file": (f"IMG_0001.{fmt.lower()}", photo, ctype)})
    assert r.status_code == 200, r.text
    assert photo in upstream.last_for("/api/o-1/upload").body


@pytest.mark.parametrize("fmt, ctype", [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_a_photo_with_gps_arrives_in_its_format_without_the_position(gateway, upstream, fmt, ctype):
    photo = photo_like((1024, 768), fmt, gps_exif())
    r, path = blob_put(gateway, f"file-gps-{fmt}", photo, ctype)
    assert r.status_code == 200, r.text
    got = upstream.last_for(path)
    assert got.body != photo and int(got.headers["Content-Length"]) == len(got.body)
    assert sniff_format(got.body) == fmt
    sent = Image.open(io.BytesIO(got.body))
    assert sent.size == (1024, 768)
    assert not sent.getexif().get_ifd(0x8825) and not sent.info.get("exif")
    assert r.headers.get("x-dlp-action") in (None, "redact")


def test_a_heic_with_a_card_number_is_blocked(gateway, upstream):
    shot = text_image(["Payment details", f"Card: {CARD}", f"Email: {EMAIL}"], fmt="HEIF")
    assert sniff_format(shot) == "HEIF"
    r, path = blob_put(gateway, "file-pii-heic", shot, "image/heic")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for(path) is None


def test_a_heic_with_an_email_to_a_chatbot_arrives_painted(gateway, upstream):
    shot = text_image(["Please contact the customer:", f"Email: {EMAIL}"], fmt="HEIF")
    r, path = blob_put(gateway, "file-email-heic", shot, "image/heic")
    assert r.status_code == 200, r.text
    sent = upstream.last_for(path).body
    assert sniff_format(sent) == "HEIF" and sent != shot


def test_audit_names_the_formats_and_never_the_content(gateway):
    events = [json.loads(line) for line in gateway.audit_lines()]
    text = "\n".join(gateway.audit_lines())
    assert any(e["action"] == "block" and e["rule"] == "block-financial-identifiers" for e in events)
    assert "HEIF" in text and "AVIF" in text
    for secret in (CARD, CARD.replace(" ", ""), EMAIL):
        assert secret not in text + gateway.metrics_text()
