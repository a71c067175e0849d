"""The response hook in-process (taddons + tflow): the file id a service gives a forwarded upload becomes an
`upload_completed` audit line that joins the decision by incident_id; the answer itself is never changed, and
answers to blocked, out-of-scope or unreadable uploads are not read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from mitmproxy import http
from mitmproxy.test import taddons

from gateway.addon import DlpGateway
from gateway.audit import AuditLog
from gateway.extract.apps import file_ids
from tests.support.app_fixtures import FIXTURES, app_request
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection
from tests.test_addon_hooks import CLEAN, PII, POLICY, REDACTED, upload


def recorded_answer(app: str) -> dict:
    return json.loads((FIXTURES / app / "response.json").read_text())


def app_upload(app: str, image: bytes) -> http.HTTPFlow:
    req = app_request(app, image)
    return upload(req.url, req.body, method=req.method, **req.headers)


def answer(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> http.Response:
    response = http.Response.make(status, b"", {"content-type": content_type, **headers})
    response.raw_content = body
    return response


def run(flows_and_answers: list[tuple[http.HTTPFlow, http.Response]], audit_path: Path) -> list[dict]:
    """Each flow through requestheaders + request; the upstream's answer (where it went upstream) + response."""
    inspection = ScriptedInspection({PII: [EMAIL_FINDING]}, redacted=REDACTED)

    async def scenario() -> None:
        addon = DlpGateway()
        with taddons.context(addon) as tctx:
            tctx.configure(addon, dlp_policy=str(POLICY), dlp_metrics_port=0)
            addon.pipeline.inspection = inspection
            addon.recorder.audit = AuditLog(str(audit_path))
            for flow, upstream_answer in flows_and_answers:
                addon.requestheaders(flow)
                if flow.response is None:
                    await addon.request(flow)
                if flow.response is None:
                    flow.response = upstream_answer
                addon.response(flow)
            addon.recorder.audit.close()
            addon.done()

    asyncio.run(scenario())
    return [json.loads(line) for line in audit_path.read_text().splitlines()]


def test_a_forwarded_claude_upload_is_linked_to_the_file_uuid_and_the_answer_is_untouched(tmp_path):
    recorded = recorded_answer("claude")
    body = json.dumps(recorded["body"]).encode()
    clean, redacted = app_upload("claude", CLEAN), app_upload("claude", PII)
    answers = [answer(200, body), answer(200, body)]
    events = run([(clean, answers[0]), (redacted, answers[1])], tmp_path / "audit.log")
    decisions = [e for e in events if "event" not in e]
    completed = [e for e in events if e.get("event") == "upload_completed"]
    assert [d["action"] for d in decisions] == ["allow", "redact"]
    assert [c["incident_id"] for c in completed] == [d["incident_id"] for d in decisions]
    for c, flow in zip(completed, (clean, redacted)):
        assert c["file_id"] == recorded["file_id"] == flow.metadata["dlp_file_id"]
        assert c["app"] == "claude" and c["destination_group"] == "anthropic" and c["status"] == 200
        assert flow.response.raw_content == body  # read, never changed
    assert "screenshot" not in (tmp_path / "audit.log").read_text()


def test_the_chatgpt_blob_put_is_linked_by_its_upload_url(tmp_path):
    recorded = recorded_answer("chatgpt")
    put = upload(recorded["body"]["upload_url"], CLEAN, x_ms_blob_type="BlockBlob")
    events = run([(put, answer(201, b"", content_type=""))], tmp_path / "audit.log")
    decision, completed = events
    assert decision["action"] == "allow" and completed["event"] == "upload_completed"
    assert completed["file_id"] == recorded["file_id"] and completed["incident_id"] == decision["incident_id"]
    assert "sig=" not in (tmp_path / "audit.log").read_text()  # the SAS signature never reaches the log


def test_no_file_id_line_for_blocked_unreadable_failed_or_out_of_scope_uploads(tmp_path):
    body = json.dumps(recorded_answer("claude")["body"]).encode()
    blocked = upload(recorded_answer("chatgpt")["body"]["upload_url"], PII)
    big = answer(200, body[:-1] + b',"pad":"' + b"x" * file_ids.MAX_ANSWER_BYTES + b'"}')
    failed = answer(500, body)
    html = answer(200, body, content_type="text/html")
    streamed = answer(200, b"")
    streamed.raw_content = None  # what a streamed answer looks like in the response hook
    out_of_scope = upload("https://example.com/api/organizations/o/conversations/c/wiggle/upload-file", CLEAN,
                          method="POST")
    flows = [(blocked, answer(201, b"")), (app_upload("claude", CLEAN), big), (app_upload("claude", CLEAN), failed),
             (app_upload("claude", CLEAN), html), (app_upload("claude", CLEAN), streamed),
             (out_of_scope, answer(200, body))]
    events = run(flows, tmp_path / "audit.log")
    assert not [e for e in events if e.get("event")]
    assert [e["action"] for e in events] == ["block", "allow", "allow", "allow", "allow"]
    assert blocked.response.status_code == 403 and "dlp_file_id" not in blocked.metadata
    assert big.raw_content.endswith(b'"}') and streamed.raw_content is None
