"""The addon's hooks in-process, as mitmproxy tests its own addons (taddons + tflow): flows in, flows out.

The hooks only translate flows to and from gateway.pipeline; inspection is a scripted stand-in here.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

from mitmproxy import http
from mitmproxy.test import taddons, tflow

from gateway.addon import DlpGateway
from gateway.audit import AuditLog
from tests.support.images import photo_like, text_image
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection

POLICY = Path(__file__).parent / "policies" / "e2e.yaml"
PII = text_image(["Contact: jane.doe@corpmail.com"], size=(400, 120))
CLEAN = photo_like(size=(64, 48), fmt="PNG")
REDACTED = photo_like(size=(32, 24), fmt="PNG")


def upload(url: str, body: bytes, method: str = "PUT", **headers: str) -> http.HTTPFlow:
    hdrs = {"content-type": "image/png", **{k.replace("_", "-"): v for k, v in headers.items()}}
    req = http.Request.make(method, url, b"", hdrs)
    req.raw_content = body  # as it came over the wire (make() would encode it by the Content-Encoding)
    req.headers["content-length"] = str(len(body))
    return tflow.tflow(req=req)


def run_hooks(flows: list[http.HTTPFlow], audit_path: Path | None = None, **options) -> tuple[DlpGateway,
                                                                                               ScriptedInspection]:
    """Configure a DlpGateway on the e2e policy and pass each flow through requestheaders + request."""
    inspection = ScriptedInspection({PII: [EMAIL_FINDING]}, redacted=REDACTED)

    async def scenario() -> DlpGateway:
        addon = DlpGateway()
        with taddons.context(addon) as tctx:
            tctx.configure(addon, dlp_policy=str(POLICY), dlp_metrics_port=0, **options)
            addon.pipeline.inspection = inspection
            if audit_path is not None:
                addon.recorder.audit = AuditLog(str(audit_path))
            for flow in flows:
                addon.requestheaders(flow)
                if flow.response is None:
                    await addon.request(flow)
            if addon.recorder.audit is not None:
                addon.recorder.audit.close()
        return addon

    return asyncio.run(scenario()), inspection


def test_pii_upload_gets_a_block_response_and_an_audit_line(tmp_path):
    flow = upload("https://files.oaiusercontent.com/file-1", PII)
    run_hooks([flow], audit_path=tmp_path / "audit.log")
    assert flow.response is not None and flow.response.status_code == 403
    assert flow.response.headers["x-dlp-rule"] == "block-pii"
    assert json.loads(flow.response.content)["error"]["incident_id"] == flow.metadata["dlp_incident"]
    assert flow.metadata["dlp_decision"]["action"] == "block"
    assert flow.request.stream is False  # the body is held until the decision
    event = json.loads((tmp_path / "audit.log").read_text().splitlines()[-1])
    assert event["action"] == "block" and event["incident_id"] == flow.metadata["dlp_incident"]
    assert event["client_ip"] == "127.0.0.1" and event["destination_group"] == "openai"


def test_clean_upload_and_out_of_scope_traffic_pass_untouched():
    clean = upload("https://chatgpt.com/backend-api/files", CLEAN, method="POST")
    other = upload("https://example.com/upload", PII, method="POST")
    get = tflow.tflow(req=http.Request.make("GET", "https://chatgpt.com/backend-api/files"))
    _, inspection = run_hooks([clean, other, get])
    assert clean.response is None and clean.request.raw_content == CLEAN
    assert clean.metadata["dlp_decision"]["action"] == "allow"
    assert other.response is None and "dlp_destination" not in other.metadata
    assert get.response is None and "dlp_destination" not in get.metadata
    assert len(inspection.inspected) == 1  # only the in-scope upload was read


def test_over_size_body_is_refused_at_requestheaders_before_the_body_is_read():
    flow = upload("https://files.oaiusercontent.com/big", b"x")
    flow.request.headers["content-length"] = str(200 * 2**20)  # as announced; the body has not arrived yet
    _, inspection = run_hooks([flow])
    assert flow.response.status_code == 403 and flow.response.headers["x-dlp-rule"] == "on_error"
    assert "too_large" in flow.metadata["dlp_decision"]["reason"]
    assert inspection.inspected == []


def test_redacted_body_is_rebuilt_in_its_own_content_encoding():
    body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png" \
        b"\r\n\r\n" + PII + b"\r\n--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nkeep\r\n--B--\r\n"
    flow = upload("https://claude.ai/api/upload", gzip.compress(body), method="POST",
                  content_type="multipart/form-data; boundary=B", content_encoding="gzip")
    _, inspection = run_hooks([flow])
    assert flow.response is None and flow.metadata["dlp_decision"]["action"] == "redact"
    assert flow.request.headers["content-encoding"] == "gzip"
    assert flow.request.headers["content-length"] == str(len(flow.request.raw_content))
    assert gzip.decompress(flow.request.raw_content) == body.replace(PII, REDACTED)
    assert [f for _, f in inspection.redactions] == [[EMAIL_FINDING]]


def test_warn_page_then_proceed_link_then_the_same_image_passes():
    first = upload("https://gemini.google.com/upload", PII, method="POST", accept="application/json")
    addon, _ = run_hooks([first])
    assert first.response.status_code == 403 and first.response.headers["x-dlp-action"] == "warn"
    proceed_url = json.loads(first.response.content)["error"]["proceed_url"]

    async def proceed_and_resend() -> tuple[http.HTTPFlow, http.HTTPFlow]:
        click = tflow.tflow(req=http.Request.make("GET", proceed_url))
        again = upload("https://gemini.google.com/upload", PII, method="POST")
        with taddons.context(addon):
            for flow in (click, again):
                addon.requestheaders(flow)
                await addon.request(flow)
        return click, again

    click, again = asyncio.run(proceed_and_resend())
    assert click.response.status_code == 200 and click.metadata["dlp_decision"]["action"] == "allow"
    assert again.response is None and again.metadata["dlp_decision"]["action"] == "allow"


def test_user_comes_from_proxyauth_or_the_policy_sso_header():
    by_header = upload("https://files.oaiusercontent.com/f", PII, x_auth_user="Alice@corp.example")
    by_proxyauth = upload("https://files.oaiusercontent.com/g", PII)
    by_proxyauth.metadata["proxyauth"] = ("alice@corp.example", "secret")
    run_hooks([by_header, by_proxyauth])
    for flow in (by_header, by_proxyauth):  # alice is in the exempt group: audited, not blocked
        assert flow.response is None and flow.metadata["dlp_decision"]["rule"] == "audit-exempt-users"


def test_flows_that_already_have_a_response_or_error_are_left_alone():
    answered = upload("https://files.oaiusercontent.com/x", PII)
    answered.response = http.Response.make(204)
    failed = upload("https://files.oaiusercontent.com/y", PII)
    failed.error = tflow.terr()
    _, inspection = run_hooks([answered, failed])
    assert answered.response.status_code == 204 and "dlp_decision" not in answered.metadata
    assert inspection.inspected == []
