"""End to end, default policy: the file id each service gives an upload reaches the audit log.

Each app's recorded upload request (tests/fixtures/apps/) goes through a real `dlp-gateway run` to the recording
upstream on 127.0.0.1, which answers with that app's recorded answer (response.json). A clean upload is followed
by an `upload_completed` line with the service's file id and the decision's incident_id; the client gets the
service's answer byte-identical. A blocked upload has no such line. ChatGPT's blob PUT is linked by its URL.
"""

from __future__ import annotations

import json

import pytest

from gateway.policy.loader import DEFAULT_POLICY_PATH
from tests.support.app_fixtures import FIXTURES, app_request
from tests.support.gateway_process import GatewayProcess, client
from tests.support.upstream import Received, RecordingUpstream
from tests.test_e2e_apps import PII_STRINGS, clean_png, pii_png, send, tagged

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLICY = DEFAULT_POLICY_PATH

APPS = ["claude", "deepseek", "grok"]  # the single-request apps whose answer names the file


def recorded_answer(app: str) -> dict:
    return json.loads((FIXTURES / app / "response.json").read_text())


def answer_bytes(app: str) -> bytes:
    return json.dumps(recorded_answer(app)["body"]).encode()


@pytest.fixture(scope="module", autouse=True)
def services(upstream: RecordingUpstream):
    """The upstream answers each app's upload path with that app's recorded answer."""
    paths = {app_request(app, b"").path: app for app in APPS}

    def respond(got: Received) -> tuple[int, dict[str, str], bytes] | None:
        app = paths.get(got.path.split("?", 1)[0])
        if app is not None:
            return 200, {"content-type": "application/json; charset=utf-8"}, answer_bytes(app)
        if got.method == "PUT" and got.host.endswith(".oaiusercontent.com"):
            return 201, {"x-ms-request-server-encrypted": "true"}, b""  # Azure's answer to a blob PUT
        return None

    upstream.responder = respond
    yield
    upstream.responder = None


def events(gateway: GatewayProcess) -> list[dict]:
    return [json.loads(line) for line in gateway.audit_lines()]


@pytest.mark.parametrize("app", APPS)
def test_a_clean_upload_is_followed_by_the_services_file_id_and_a_blocked_one_is_not(gateway, upstream, app):
    r = send(gateway, tagged(app_request(app, clean_png(app)), f"{app}-clean"))
    assert r.status_code == 200 and r.content == answer_bytes(app)  # the service's answer, untouched
    decision, completed = events(gateway)[-2:]
    assert decision["action"] == "allow" and "event" not in decision
    assert completed["event"] == "upload_completed" and completed["app"] == app
    assert completed["file_id"] == recorded_answer(app)["file_id"]
    assert completed["incident_id"] == decision["incident_id"]
    assert completed["destination_host"] == decision["destination_host"] and completed["status"] == 200

    before = len(events(gateway))
    r = send(gateway, tagged(app_request(app, pii_png(app)), f"{app}-pii"))
    assert r.status_code == 403
    after = events(gateway)[before:]
    assert [e["action"] for e in after] == ["block"] and not any(e.get("event") for e in after)


def test_chatgpt_blob_put_to_the_upload_url_is_linked_to_the_file_id(gateway, upstream):
    recorded = recorded_answer("chatgpt")
    image = clean_png("chatgpt")
    with client(gateway) as c:
        r = c.put(recorded["body"]["upload_url"], content=image,
                  headers={"x-ms-blob-type": "BlockBlob", "content-type": "image/png"})
    assert r.status_code == 201
    assert upstream.last_for(recorded["body"]["upload_url"].split("oaiusercontent.com", 1)[1]).body == image
    decision, completed = events(gateway)[-2:]
    assert decision["action"] == "allow"
    assert completed["event"] == "upload_completed" and completed["file_id"] == recorded["file_id"]
    assert completed["incident_id"] == decision["incident_id"] and completed["app"] == "chatgpt"


def test_the_audit_log_holds_ids_but_no_names_signatures_or_pii(gateway):
    text = "\n".join(gateway.audit_lines())
    assert text.count('"upload_completed"') == len(APPS) + 1
    for secret in [*PII_STRINGS, "screenshot.png", "sig=", "fileUri"]:
        assert secret not in text
