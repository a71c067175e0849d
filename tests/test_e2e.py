"""End to end: a real `dlp-gateway run` process, a real HTTPS client and a real recording upstream on 127.0.0.1."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import Image

from tests.support.gateway_process import client
from tests.support.images import gps_exif, photo_like, text_image
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "jane.doe@corpmail.com"
CARD = "4539 1488 0343 6467"
SSN = "536-22-1947"
PII_STRINGS = [EMAIL, CARD, CARD.replace(" ", ""), SSN, "jane.doe", "4539148803436467"]
POLICY = Path(__file__).parent / "policies" / "e2e.yaml"


def multipart(image: bytes, filename: str = "shot.png", mime: str = "image/png") -> dict:
    return {"files": {"file": (filename, image, mime)}, "data": {"purpose": "vision", "model": "gpt-4o"}}


@pytest.fixture(scope="module")
def clean_png() -> bytes:
    return text_image(["Quarterly roadmap review", "Ship the new onboarding flow in March"])


@pytest.fixture(scope="module")
def email_png() -> bytes:
    return text_image(["Please contact the customer:", f"Email: {EMAIL}"])


def sent_sha(upstream: RecordingUpstream, path: str) -> str | None:
    got = upstream.last_for(path)
    return hashlib.sha256(got.body).hexdigest() if got else None


def test_clean_image_is_forwarded_byte_identical(gateway, upstream, clean_png):
    body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" \
        + clean_png + b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nvision\r\n--XyZ--\r\n"
    with client(gateway) as c:
        r = c.post("https://chatgpt.com/backend-api/files/clean", content=body,
                   headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert r.status_code == 200, r.text
    assert upstream.last_for("/backend-api/files/clean").body == body


def test_email_image_raw_put_is_blocked_and_never_reaches_upstream(gateway, upstream, email_png):
    with client(gateway) as c:
        r = c.put("https://files.oaiusercontent.com/file-abc?sig=1", content=email_png,
                  headers={"x-ms-blob-type": "BlockBlob", "content-type": "image/png"})
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["rule"] == "block-pii" and err["incident_id"]
    assert r.headers["x-dlp-action"] == "block"
    assert upstream.last_for("/file-abc?sig=1") is None
    assert EMAIL not in r.text


def test_ssn_in_multipart_is_blocked(gateway, upstream):
    image = text_image(["Employee record", f"SSN: {SSN}"])
    with client(gateway) as c:
        r = c.post("https://chatgpt.com/backend-api/files/ssn", **multipart(image))
    assert r.status_code == 403
    assert upstream.last_for("/backend-api/files/ssn") is None


def test_card_in_openai_json_base64_is_blocked_with_openai_error_shape(gateway, upstream):
    image = text_image(["Payment details", f"Card number {CARD} exp 09/29"])
    payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(image).decode()}}]}]}
    with client(gateway) as c:
        r = c.post("https://api.openai.com/v1/chat/completions", json=payload)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "dlp_blocked"
    assert upstream.last_for("/v1/chat/completions") is None


def test_gzip_encoded_upload_is_inspected(gateway, upstream, email_png):
    body = gzip.compress(email_png)
    with client(gateway) as c:
        r = c.put("https://files.oaiusercontent.com/file-gz", content=body,
                  headers={"content-encoding": "gzip", "content-type": "application/octet-stream"})
    assert r.status_code == 403
    assert upstream.last_for("/file-gz") is None


def test_browser_gets_an_html_block_page(gateway, email_png):
    with client(gateway) as c:
        r = c.post("https://chatgpt.com/backend-api/files/html", **multipart(email_png),
                   headers={"accept": "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert len(r.content) > 512 and "block-pii" in r.text


@pytest.fixture(scope="module")
def verifier():
    from gateway.inspection import Inspector

    return Inspector()


def test_redact_rule_rewrites_image_strips_gps_and_keeps_other_parts(gateway, upstream, verifier):
    image = text_image(["Support ticket 4411", f"Reply to {EMAIL} today"], fmt="JPEG", exif=gps_exif())
    assert any(f.entity == "EXIF_GPS" for f in verifier.inspect(image).findings)
    with client(gateway) as c:
        r = c.post("https://claude.ai/api/upload", files={"file": ("t.jpg", image, "image/jpeg")},
                   data={"orgUuid": "o-123", "note": "keep me"})
    assert r.status_code == 200, r.text
    got = upstream.last_for("/api/upload")
    assert got is not None
    assert int(got.headers["Content-Length"]) == len(got.body)
    ctype = got.headers["Content-Type"]
    boundary = ctype.split("boundary=")[1].encode()
    parts = got.body.split(b"--" + boundary)
    image_part = next(p for p in parts if b'name="file"' in p)
    assert b'name="orgUuid"\r\n\r\no-123\r\n' in got.body and b"keep me" in got.body
    redacted = image_part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
    assert redacted != image and Image.open(io.BytesIO(redacted)).format == "JPEG"
    assert not Image.open(io.BytesIO(redacted)).getexif().get(0x8825)
    report = verifier.inspect(redacted)
    assert not [f for f in report.findings if f.entity in ("EMAIL_ADDRESS", "EXIF_GPS")]


def test_anthropic_json_base64_is_redacted(gateway, upstream, verifier):
    image = text_image(["Customer phone and mail", f"Mail: {EMAIL}"])
    payload = {"model": "claude-sonnet-4", "max_tokens": 100, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(image).decode()}},
        {"type": "text", "text": "Describe"}]}]}
    with client(gateway) as c:
        r = c.post("https://api.anthropic.com/v1/messages", json=payload)
    assert r.status_code == 200, r.text
    sent = json.loads(upstream.last_for("/v1/messages").body)
    block = sent["messages"][0]["content"][0]
    assert block["source"]["media_type"] == "image/png"
    new_image = base64.b64decode(block["source"]["data"], validate=True)
    assert new_image != image and Image.open(io.BytesIO(new_image)).format == "PNG"
    assert sent["messages"][0]["content"][1] == {"type": "text", "text": "Describe"}
    assert not [f for f in verifier.inspect(new_image).findings if f.entity == "EMAIL_ADDRESS"]


def test_warn_then_proceed_once_lets_the_same_image_through(gateway, upstream, email_png):
    with client(gateway) as c:
        r = c.post("https://gemini.google.com/upload", content=email_png, headers={"content-type": "image/png"})
        assert r.status_code == 403 and r.headers["x-dlp-action"] == "warn"
        proceed = r.json()["error"]["proceed_url"]
        assert proceed.startswith("http://dlp-gateway.internal/dlp-gateway/proceed/")
        assert upstream.last_for("/upload") is None
        ok = c.get(proceed)
        assert ok.status_code == 200 and "continue" in ok.text
        assert c.get(proceed).status_code == 410  # one-time link
        again = c.post("https://gemini.google.com/upload", content=email_png, headers={"content-type": "image/png"})
    assert again.status_code == 200
    assert upstream.last_for("/upload").body == email_png
    other = text_image(["Another one: jane.doe@corpmail.com"])
    with client(gateway) as c:  # the grant covers the warned image only
        assert c.post("https://gemini.google.com/upload2", content=other).status_code == 403
    overrides = [json.loads(line) for line in gateway.audit_lines() if json.loads(line).get("override")]
    assert overrides and all(e["action"] == "allow" for e in overrides)


def test_a_proceed_link_works_only_for_the_user_it_was_issued_to(gateway, upstream):
    image = text_image(["Warned upload for bob.smith@corpmail.com"])
    bob, mallory = {"X-Auth-User": "bob@corp.example"}, {"X-Auth-User": "mallory@corp.example"}
    with client(gateway) as c:
        r = c.post("https://gemini.google.com/bob", content=image, headers={"content-type": "image/png", **bob})
        assert r.status_code == 403 and r.headers["x-dlp-action"] == "warn"
        proceed = r.json()["error"]["proceed_url"]
        assert c.get(proceed, headers=mallory).status_code == 410  # another user
        assert c.get(proceed).status_code == 410  # no user: the client IP is not bob either
        forged = proceed[:-3] + ("AAA" if not proceed.endswith("AAA") else "BBB")
        assert c.get(forged, headers=bob).status_code == 410
        assert c.get(proceed, headers=bob).status_code == 200  # the attempts did not use it up
        assert c.get(proceed, headers=bob).status_code == 410  # one-time
        theirs = c.post("https://gemini.google.com/bob", content=image,
                        headers={"content-type": "image/png", **mallory})
        assert theirs.status_code == 403  # the grant is bob's
        again = c.post("https://gemini.google.com/bob", content=image, headers={"content-type": "image/png", **bob})
    assert again.status_code == 200 and upstream.last_for("/bob").body == image


def test_user_from_sso_header_and_group_rule(gateway, upstream, email_png):
    with client(gateway) as c:
        r = c.put("https://files.oaiusercontent.com/file-exempt", content=email_png,
                  headers={"X-Auth-User": "Alice@corp.example"})
    assert r.status_code == 200
    assert upstream.last_for("/file-exempt").body == email_png
    event = json.loads(gateway.audit_lines()[-1])
    assert event["action"] == "audit" and event["rule"] == "audit-exempt-users"
    assert event["user"] == "Alice@corp.example"


def test_corrupt_image_gets_on_error_and_proxy_stays_up(gateway, upstream, clean_png):
    corrupt = b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 200
    with client(gateway) as c:
        r = c.put("https://files.oaiusercontent.com/file-corrupt", content=corrupt)
        assert r.status_code == 403
        assert r.json()["error"]["rule"] == "on_error"
        ok = c.put("https://files.oaiusercontent.com/file-after-corrupt", content=clean_png)
    assert ok.status_code == 200
    assert upstream.last_for("/file-after-corrupt").body == clean_png


def test_http2_clients_are_inspected_too(gateway, upstream, email_png, tmp_path):
    # curl offers h2 first in ALPN (httpx prefers http/1.1), so the client side of the proxy speaks HTTP/2.
    def curl(path: str, body: bytes) -> tuple[int, str]:
        f = tmp_path / "body.bin"
        f.write_bytes(body)
        out = subprocess.run(
            ["curl", "-sS", "--http2", "--proxy", gateway.proxy_url, "--cacert", str(gateway.ca_cert), "-X", "PUT",
             "--data-binary", f"@{f}", "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
             f"https://files.oaiusercontent.com{path}"], capture_output=True, text=True, timeout=180, check=True)
        code, version = out.stdout.split()
        return int(code), version

    photo = photo_like()
    assert curl("/file-h2", photo) == (200, "2")
    assert upstream.last_for("/file-h2").body == photo
    assert curl("/file-h2-pii", email_png) == (403, "2")
    assert upstream.last_for("/file-h2-pii") is None


def test_non_ai_host_is_passed_through_without_decryption(gateway, upstream, email_png):
    # The client trusts only the upstream's own certificate: this succeeds only if the proxy did not intercept TLS.
    ctx = ssl.create_default_context(cafile=str(upstream.cert))
    with httpx.Client(proxy=gateway.proxy_url, verify=ctx, timeout=30) as c:
        r = c.put(f"https://localhost:{upstream.port}/not-ai", content=email_png)
    assert r.status_code == 200
    assert upstream.last_for("/not-ai").body == email_png


def test_audit_log_and_metrics_never_contain_pii(gateway):
    lines = gateway.audit_lines()
    assert lines, "no audit events were written"
    events = [json.loads(line) for line in lines]
    assert {e["action"] for e in events} >= {"block", "redact"}
    everything = "\n".join(lines) + gateway.metrics_text()
    for secret in PII_STRINGS:
        assert secret not in everything
    assert 'action="block"' in gateway.metrics_text()


def test_every_dashboard_query_has_data_from_the_live_gateway(gateway, tmp_path):
    """Real Prometheus scraping the real gateway after the blocked / redacted / allowed uploads above."""
    from tests.test_deploy import ALERTS, dashboard_exprs, grafana_to_promql, left_of_comparison
    from tests.support.prometheus import running_prometheus

    with running_prometheus(tmp_path, f"127.0.0.1:{gateway.metrics_port}", [str(ALERTS)]) as prom:
        actions = {r["metric"]["action"] for r in prom.query("dlp_gateway_uploads_total > 0")}
        assert {"block", "redact", "allow"} <= actions
        empty = [title for title, expr in dashboard_exprs() if not prom.query(grafana_to_promql(expr))]
        assert not empty, f"dashboard panels without data from a live gateway: {empty}"
        for group in yaml.safe_load(ALERTS.read_text())["groups"]:
            for rule in group["rules"]:
                prom.query(left_of_comparison(rule["expr"]))  # every alert expression is valid on live data
