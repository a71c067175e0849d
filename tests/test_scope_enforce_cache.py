"""Scope, block responses and the report cache: the proxy-free pieces of the addon."""

from __future__ import annotations

import json
import re

from gateway.cache import ReportCache
from gateway.enforce import block_response
from gateway.formats import sniff_format
from gateway.models import Action, Decision, ImageReport, InspectOptions, Limits
from gateway.policy.hosts import host_regex as host_glob_to_regex
from gateway.scope import is_upload
from tests.support.images import photo_like, text_image


def test_host_glob_regex_matches_host_and_port_like_mitmproxy():
    rx = re.compile(host_glob_to_regex("*.oaiusercontent.com"), re.I)
    assert rx.search("files.oaiusercontent.com:443")
    assert rx.search("a.b.OAIUSERCONTENT.com:443")
    assert not rx.search("oaiusercontent.com.evil.net:443")
    assert not rx.search("evil-oaiusercontent.com:443")
    exact = re.compile(host_glob_to_regex("chatgpt.com"))
    assert exact.search("chatgpt.com:443") and exact.search("chatgpt.com")
    assert not exact.search("notchatgpt.com:443") and not exact.search("chatgpt.com.evil:443")


def test_is_upload():
    assert is_upload("POST", 10) and is_upload("put", None)
    assert not is_upload("GET", 10) and not is_upload("POST", 0)


def test_sniff_formats():
    assert sniff_format(text_image(["x"])) == "PNG"
    assert sniff_format(photo_like(fmt="JPEG")) == "JPEG"
    assert sniff_format(photo_like(fmt="WEBP")) == "WEBP"
    assert sniff_format(photo_like(fmt="GIF")) == "GIF"
    assert sniff_format(photo_like(fmt="BMP")) == "BMP"
    assert sniff_format(photo_like(fmt="TIFF")) == "TIFF"
    assert sniff_format(b"%PDF-1.7 not an image") is None


DECISION = Decision(Action.BLOCK, "block-pii", "rule 'block-pii' matched: EMAIL_ADDRESS x1")


def test_api_hosts_get_their_provider_error_shape():
    openai = json.loads(block_response("api.openai.com", DECISION, "inc1").body)
    assert openai["error"]["code"] == "dlp_blocked" and openai["error"]["incident_id"] == "inc1"
    anthropic = json.loads(block_response("api.anthropic.com", DECISION, "inc2").body)
    assert anthropic["type"] == "error" and anthropic["error"]["type"] == "permission_error"
    google = json.loads(block_response("generativelanguage.googleapis.com", DECISION, "inc3").body)
    assert google["error"]["status"] == "PERMISSION_DENIED"
    # API clients get JSON even when they accept text/html
    assert block_response("api.openai.com", DECISION, "i", accept="text/html").headers["Content-Type"] == "application/json"


def test_browser_navigation_gets_a_page_with_rule_and_incident():
    resp = block_response("chatgpt.com", DECISION, "inc9", accept="text/html", sec_fetch_mode="navigate")
    assert resp.status == 403 and resp.headers["Content-Type"].startswith("text/html")
    page = resp.body.decode()
    assert len(resp.body) > 512 and "block-pii" in page and "inc9" in page
    xhr = block_response("chatgpt.com", DECISION, "inc9", accept="*/*", sec_fetch_mode="cors")
    assert xhr.headers["Content-Type"] == "application/json"


def test_report_cache_is_bounded_keyed_by_options_and_skips_errors():
    cache = ReportCache(max_entries=2)
    opts, other = InspectOptions(), InspectOptions(limits=Limits(max_pixels=10))
    for sha in "abc":
        cache.put(ImageReport(sha, 1), opts)
    assert len(cache) == 2 and cache.get("a", opts) is None
    hit = cache.get("c", opts)
    assert hit is not None and hit.cached
    assert cache.get("c", other) is None
    from gateway.models import InspectionErrorKind

    cache.put(ImageReport("d", 1, error=InspectionErrorKind.TIMEOUT), opts)
    assert cache.get("d", opts) is None
