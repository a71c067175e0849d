"""The file id each app's service gives an upload (gateway/extract/apps/file_ids.py), read from the recorded
answers in tests/fixtures/apps/<app>/response.json (shapes from public reverse-engineering), and what is never read."""

from __future__ import annotations

import gzip
import json

import pytest

from gateway.cache import ReportCache
from gateway.extract.apps import file_ids
from gateway.metrics import GatewayMetrics
from gateway.models import HttpRequest
from gateway.pipeline import RequestHead, ServiceAnswer, UploadPipeline
from gateway.policy import DEFAULT_POLICY_PATH, PolicyStore
from gateway.warn import WarnOverrides
from tests.support.app_fixtures import FIXTURES, app_request

ANSWER_APPS = sorted(p.name for p in FIXTURES.iterdir() if (p / "response.json").exists())


def recorded_answer(app: str) -> dict:
    return json.loads((FIXTURES / app / "response.json").read_text())


def upload_request(app: str) -> HttpRequest:
    """The app's upload request (its request.json), or for ChatGPT the POST /backend-api/files the answer is to."""
    answer = recorded_answer(app)
    if "url" in answer:
        host, path = answer["url"].removeprefix("https://").split("/", 1)
        return HttpRequest(answer["method"], host, "/" + path, {})
    return app_request(app, b"\x89PNG").http_request()


def test_every_answer_fixture_is_from_public_reverse_engineering_and_covers_the_apps_with_a_known_shape():
    assert ANSWER_APPS == ["chatgpt", "claude", "deepseek", "grok"]
    for app in ANSWER_APPS:
        assert "public reverse-engineering" in recorded_answer(app)["source"]


@pytest.mark.parametrize("app", ANSWER_APPS)
def test_the_recorded_answer_gives_the_file_id(app):
    answer = recorded_answer(app)
    request = upload_request(app)
    assert file_ids.wants_answer(request)
    found = file_ids.file_id(request, answer["status"], answer["headers"]["content-type"],
                             json.dumps(answer["body"]).encode())
    assert found == file_ids.FileId(app, answer["file_id"])


@pytest.mark.parametrize("app", ANSWER_APPS)
def test_no_id_from_an_error_a_non_json_answer_a_wrong_shape_or_an_oversized_answer(app):
    answer = recorded_answer(app)
    request, body = upload_request(app), json.dumps(answer["body"]).encode()
    assert file_ids.file_id(request, 403, "application/json", body) is None
    assert file_ids.file_id(request, 200, "text/html", body) is None
    assert file_ids.file_id(request, 200, "application/json", b"{not json") is None
    assert file_ids.file_id(request, 200, "application/json", b"[1, 2]") is None
    assert file_ids.file_id(request, 200, "application/json", b"[" * 100_000) is None  # too deep: no crash
    assert file_ids.file_id(request, 200, "application/json", None) is None
    padded = body[:-1] + b"," + b'"pad":"' + b"x" * file_ids.MAX_ANSWER_BYTES + b'"}'
    assert file_ids.file_id(request, 200, "application/json", padded) is None


def test_an_id_that_is_not_a_plain_token_is_not_taken():
    """The answer's other fields hold file names and URLs: only an id of safe characters reaches the log."""
    request = upload_request("grok")
    for value in ("screenshot of jane.doe@corpmail.com.png", "a\nb", "", 42, "x" * 200, {"id": "x"}):
        body = json.dumps({"fileMetadataId": value}).encode()
        assert file_ids.file_id(request, 200, "application/json", body) is None


def test_chatgpt_blob_put_is_linked_to_the_file_id_by_its_upload_url():
    """The PUT to the upload_url of POST /backend-api/files is the inspected request; its path holds the id."""
    answer = recorded_answer("chatgpt")
    host, path = answer["body"]["upload_url"].removeprefix("https://").split("/", 1)
    put = HttpRequest("PUT", host, "/" + path, {"x-ms-blob-type": "BlockBlob"})
    assert not file_ids.wants_answer(put)  # the id is in the URL: the (empty) answer is not read
    assert file_ids.file_id(put, 201, "", None) == file_ids.FileId("chatgpt", answer["file_id"])
    assert file_ids.file_id(put, 403, "", None) is None
    for other in ("/file-exempt", "/file-1", "/blob/file-7Hq2Rk9LmXv4Tz1Pb8Nc3D.png"):  # not an id of ChatGPT's
        assert file_ids.file_id(HttpRequest("PUT", host, other, {}), 201, "", None) is None
    assert file_ids.file_id(HttpRequest("PUT", host, "/upload?name=file-7Hq2Rk9LmXv4", {}), 201, "", None) is None
    assert file_ids.file_id(HttpRequest("PUT", "files.example.com", "/" + path, {}), 201, "", None) is None


def test_other_requests_want_no_answer():
    for request in (HttpRequest("POST", "example.com", "/wiggle/upload-file", {}),
                    HttpRequest("POST", "chatgpt.com", "/backend-api/conversation", {}),
                    HttpRequest("GET", "grok.com", "/rest/app-chat/upload-file", {})):
        assert not file_ids.wants_answer(request)
        assert file_ids.file_id(request, 200, "application/json", b'{"file_id": "file-1234"}') is None


def _pipeline() -> UploadPipeline:
    return UploadPipeline(PolicyStore(str(DEFAULT_POLICY_PATH)), None, GatewayMetrics(), ReportCache(),
                          WarnOverrides())


def test_pipeline_builds_the_upload_completed_event_from_a_gzip_answer():
    pipeline = _pipeline()
    try:
        answer = recorded_answer("claude")
        req = upload_request("claude")
        head = RequestHead(req.method, req.host, req.path, {}, client_ip="10.1.2.3")
        body = gzip.compress(json.dumps(answer["body"]).encode())
        event = pipeline.upload_completed(
            head, ServiceAnswer(200, {"content-type": "application/json", "content-encoding": "gzip"}, body),
            "incident1", None, "anthropic")
        assert event is not None
        line = json.loads(event.to_json())
        assert line["event"] == "upload_completed" and line["file_id"] == answer["file_id"]
        assert line["incident_id"] == "incident1" and line["upload_id"] is None and line["app"] == "claude"
        assert line["destination_host"] == "claude.ai" and line["client_ip"] == "10.1.2.3" and line["status"] == 200
        assert "screenshot" not in event.to_json() and req.path not in event.to_json()
        bomb = gzip.compress(b" " * (10 * file_ids.MAX_ANSWER_BYTES) + json.dumps(answer["body"]).encode())
        assert pipeline.upload_completed(
            head, ServiceAnswer(200, {"content-type": "application/json", "content-encoding": "gzip"}, bomb),
            "incident1", None, "anthropic") is None
    finally:
        pipeline.close()
