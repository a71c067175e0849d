"""One module per app upload shape: each app's recorded request is recognised by host and path, its file is found
in the shape the module names, and a replacement rebuilds the request exactly as the app would have sent it."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from gateway.cache import ReportCache
from gateway.extract import extract
from gateway.extract.apps import APPS, app_for, lechat
from gateway.metrics import GatewayMetrics
from gateway.models import HttpRequest, InspectionErrorKind
from gateway.pipeline import Respond, UploadPipeline, UploadRequest
from gateway.policy import DEFAULT_POLICY_PATH, PolicyStore, load_policy
from gateway.warn import WarnOverrides
from tests.support.app_fixtures import APPS as FIXTURE_APPS
from tests.support.app_fixtures import app_request
from tests.support.images import photo_like
from tests.support.inspection import ScriptedInspection

PNG = photo_like(size=(48, 32), fmt="PNG")
OTHER_PNG = photo_like(size=(40, 30), fmt="PNG")
JPEG = photo_like(size=(40, 30), fmt="JPEG")
JXL = b"\x00\x00\x00\x0cJXL \r\n\x87\n" + bytes(range(256)) * 2  # JPEG XL: an image format we cannot decode


def test_every_app_module_has_a_recorded_fixture_and_every_fixture_a_module():
    assert sorted({app.name for app in APPS}) == FIXTURE_APPS
    wanted = {"grok", "lechat", "perplexity", "deepseek", "midjourney", "discord", "copilot", "claude"}
    assert wanted <= set(FIXTURE_APPS)


@pytest.mark.parametrize("app", FIXTURE_APPS)
def test_the_recorded_request_is_found_in_its_apps_shape(app):
    req = app_request(app, PNG)
    shape = app_for(req.http_request())
    assert shape is not None and shape.name == app
    ex = extract(req.http_request(), req.body)
    assert ex.app == app and ex.kind == shape.carrier
    assert [i.data for i in ex.images] == [PNG] and not ex.undecodable and not ex.too_many
    assert ex.rebuild({}) == req.body
    # a redacted image is written where the app put the file, in the app's encoding; every other byte unchanged
    assert ex.rebuild({0: OTHER_PNG}) == app_request(app, OTHER_PNG).body


def test_perplexity_s3_policy_fields_come_first_and_stay_byte_identical():
    req = app_request("perplexity", PNG)
    ex = extract(req.http_request(), req.body)
    assert ex.images[0].where == "multipart part 'file'"
    rebuilt = ex.rebuild({0: OTHER_PNG})
    head = req.body[: req.body.index(b'name="file"')]
    assert rebuilt.startswith(head) and b'name="policy"' in head and b'name="x-amz-signature"' in head


def test_grok_redaction_re_encodes_the_base64_in_place_and_keeps_the_json_valid():
    req = app_request("grok", PNG)
    ex = extract(req.http_request(), req.body)
    assert ex.images[0].where == "json $.content"
    rebuilt = json.loads(ex.rebuild({0: JPEG}))
    assert rebuilt["fileName"] == "screenshot.png"
    assert rebuilt["fileMimeType"] == "image/jpeg"  # the sibling type follows a replacement in another format
    assert list(rebuilt) == ["fileName", "fileMimeType", "content"]


def test_grok_file_claimed_as_an_image_that_we_cannot_read_is_reported_not_passed():
    req = app_request("grok", JXL)
    body = req.body.replace(b'"image/png"', b'"image/jxl"')
    ex = extract(req.http_request(), body)
    assert not ex.images and ex.undecodable == [
        "json $.content: media type image/jxl but data is not a known image format"]
    # the generic walk alone would let it through: "content" and "fileMimeType" are Grok's names
    generic = extract(HttpRequest("POST", "api.example.com", "/upload", req.http_request().headers), body)
    assert generic.app is None and not generic.images and not generic.undecodable


def test_apps_are_chosen_by_method_host_and_path_only():
    grok = app_request("grok", PNG).http_request()
    assert app_for(HttpRequest("POST", "GROK.com:443", "/rest/app-chat/upload-file?x=1", {})).name == "grok"
    assert app_for(HttpRequest("POST", "grok.com", "/rest/app-chat/conversations/new", grok.headers)) is None
    assert app_for(HttpRequest("GET", "grok.com", "/rest/app-chat/upload-file", {})) is None
    assert app_for(HttpRequest("POST", "evil-grok.com", "/rest/app-chat/upload-file", {})) is None
    claude = "/api/organizations/o-1/conversations/c-1/wiggle/upload-file"
    assert app_for(HttpRequest("POST", "claude.ai", claude, {})).name == "claude"
    assert app_for(HttpRequest("POST", "claude.ai", claude + "/more", {})) is None
    path_style = "/discord-attachments-uploads-prd/6f3a/reference.png?upload_id=x"
    assert app_for(HttpRequest("PUT", "storage.googleapis.com", path_style, {})).name == "discord"
    assert app_for(HttpRequest("PUT", "storage.googleapis.com", "/another-bucket/reference.png", {})) is None


ISSUE_18_HOSTS = [
    "chatgpt.com", "files.oaiusercontent.com", "claude.ai", "push.clients6.google.com", "content-push.googleapis.com",
    "copilot.microsoft.com", "contoso-my.sharepoint.com", "graph.microsoft.com", "perplexity.ai", "www.perplexity.ai",
    "ppl-ai-file-upload.s3.amazonaws.com", "midjourney.com", "www.midjourney.com", "discord.com",
    "discord-attachments-uploads-prd.storage.googleapis.com", "chat.deepseek.com", "grok.com", "chat.mistral.ai",
    lechat.BLOB_HOST,
]


def test_the_default_policy_decrypts_every_host_of_the_issue_18_table():
    regexes = load_policy(DEFAULT_POLICY_PATH).intercept_host_regexes()
    missing = [h for h in ISSUE_18_HOSTS if not any(re.search(r, f"{h}:443") for r in regexes)]
    assert not missing


@pytest.mark.parametrize("app", FIXTURE_APPS)
def test_every_apps_recorded_upload_is_in_scope_of_the_default_policy(app):
    req = app_request(app, PNG)
    assert load_policy(DEFAULT_POLICY_PATH).destination_for(req.host, req.path, req.method) is not None


def test_an_unreadable_image_to_grok_is_blocked_by_on_error_through_the_pipeline():
    """The pipeline hands extraction the request: the Grok module's claim check decides, not the generic walk."""
    req = app_request("grok", JXL)
    body = req.body.replace(b'"image/png"', b'"image/jxl"')
    upload = UploadRequest(req.method, req.host, req.path, req.http_request().headers, "10.1.2.3",
                           body_size=len(body), body=body)
    p = UploadPipeline(PolicyStore(DEFAULT_POLICY_PATH), ScriptedInspection(), GatewayMetrics(), ReportCache(),
                       WarnOverrides())
    screened = p.screen(upload)
    assert screened.destination == "xai"
    result = asyncio.run(p.handle(upload, screened.destination))
    assert isinstance(result.outcome, Respond) and result.outcome.status == 403
    assert result.record.decision.rule == "on_error"
    assert result.record.reports[0].error is InspectionErrorKind.UNSUPPORTED_FORMAT
