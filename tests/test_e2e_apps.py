"""End to end, default policy: each AI app's recorded upload request (tests/fixtures/apps/) through a real
`dlp-gateway run` to a recording upstream on 127.0.0.1. A clean image arrives byte-identical; an image with a card
number, an SSN and an e-mail never reaches the upstream and the client gets the block.

Only the single-request apps: chunked and resumable upload sessions and WebSockets are tested with their own code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from gateway.policy.loader import DEFAULT_POLICY_PATH
from tests.support.app_fixtures import APPS, AppRequest, app_request
from tests.support.gateway_process import GatewayProcess, client
from tests.support.images import text_image
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLICY = DEFAULT_POLICY_PATH

CARD = "4539 1488 0343 6467"
SSN = "536-22-1947"
EMAIL = "jane.doe@corpmail.com"
PII_STRINGS = [CARD, CARD.replace(" ", ""), SSN, EMAIL]


def clean_png(app: str) -> bytes:
    return text_image([f"{app}: roadmap review", "Ship the onboarding flow in March"], size=(560, 130), font_size=24)


def pii_png(app: str) -> bytes:
    lines = [f"{app} customer record", f"Card: {CARD}", f"SSN: {SSN}", f"Email: {EMAIL}"]
    return text_image(lines, size=(560, 200), font_size=24)


def tagged(req: AppRequest, tag: str) -> AppRequest:
    """The same request with a query parameter that tells this upload's copy at the upstream from the others."""
    parts = urlsplit(req.url)
    query = f"{parts.query}&dlp_test={tag}" if parts.query else f"dlp_test={tag}"
    return AppRequest(req.app, req.method, urlunsplit(parts._replace(query=query)), req.headers, req.body)


def send(gateway: GatewayProcess, req: AppRequest) -> httpx.Response:
    with client(gateway) as c:
        return c.request(req.method, req.url, headers=req.headers, content=req.body)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("app", APPS)
def test_clean_upload_arrives_byte_identical_and_pii_upload_never_leaves(gateway, upstream: RecordingUpstream, app):
    clean = tagged(app_request(app, clean_png(app)), f"{app}-clean")
    r = send(gateway, clean)
    assert r.status_code == 200, r.text
    got = upstream.last_for(clean.path)
    assert got is not None and got.host == clean.host
    assert sha(got.body) == sha(clean.body) and r.json()["sha256"] == sha(clean.body)

    image = pii_png(app)
    pii = tagged(app_request(app, image), f"{app}-pii")
    r = send(gateway, pii)
    assert r.status_code == 403, r.text
    assert r.headers["x-dlp-action"] == "block"
    assert r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for(pii.path) is None
    for received in list(upstream.received):  # not under another path either, in neither encoding
        assert image not in received.body and base64.b64encode(image) not in received.body
    assert not any(s in r.text for s in PII_STRINGS)


def test_every_app_upload_was_decided_and_audited_without_its_content(gateway):
    events = [json.loads(line) for line in gateway.audit_lines()]
    blocked = {e["destination_host"] for e in events if e["action"] == "block"}
    assert blocked == {app_request(app, b"").host for app in APPS}
    everything = "\n".join(gateway.audit_lines()) + gateway.metrics_text()
    assert not any(s in everything for s in PII_STRINGS)
