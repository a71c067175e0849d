"""The addon's session and WebSocket hooks in-process (taddons + tflow): they only translate flows and messages to
gateway.pipeline and back. Replaying upstream and closing sockets are mitmproxy actions swapped for recorders here;
the real ones run in tests/test_e2e_sessions.py."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

from mitmproxy import http
from mitmproxy.test import taddons, tflow
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

from gateway.addon import DlpGateway
from gateway.audit import AuditLog
from tests.support.images import text_image
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection

POLICY = Path(__file__).parent / "policies" / "sessions.yaml"
PII = text_image(["Contact: jane.doe@corpmail.com"], size=(400, 120))
CLEAN = text_image(["Quarterly roadmap review"], size=(400, 120))
SESSION_URL = "https://push.clients6.google.com/upload/?upload_id=Zz9&upload_protocol=resumable"


def request(method: str, url: str, body: bytes = b"", **headers: str) -> http.HTTPFlow:
    req = http.Request.make(method, url, b"", {k.replace("_", "-"): v for k, v in headers.items()})
    req.raw_content = body
    req.headers["content-length"] = str(len(body))
    return tflow.tflow(req=req)


class Harness:
    """A configured DlpGateway whose upstream replays and socket actions are recorded."""

    def __init__(self, tmp_path: Path, **options) -> None:
        self.tmp_path, self.options = tmp_path, options
        self.replayed: list[list[bytes]] = []
        self.closed: list[tuple[int, str]] = []
        self.sent: list[bytes] = []

    async def run(self, steps) -> DlpGateway:
        addon = DlpGateway()
        with taddons.context(addon) as tctx:
            tctx.configure(addon, dlp_policy=str(POLICY), dlp_metrics_port=0, dlp_session_dir=str(self.tmp_path),
                           **self.options)
            addon.pipeline.inspection = ScriptedInspection({PII: [EMAIL_FINDING]})
            addon.recorder.audit = AuditLog(str(self.tmp_path / "audit.log"))

            async def replay(flow, outcome, timeout):
                self.replayed.append([h.body for h in outcome.requests()])
                return None

            addon.replay_held = replay
            addon.close_websocket = lambda flow, code, reason: self.closed.append((code, reason))
            addon.send_to_client = lambda flow, payload, is_text: self.sent.append(payload)
            await steps(addon)
            addon.recorder.audit.close()
            addon.done()
        return addon

    def audit(self) -> list[dict]:
        return [json.loads(line) for line in (self.tmp_path / "audit.log").read_text().splitlines()]


async def through(addon: DlpGateway, flow: http.HTTPFlow, upstream: http.Response | None = None) -> http.HTTPFlow:
    addon.requestheaders(flow)
    if flow.response is None:
        await addon.request(flow)
    if flow.response is None and upstream is not None:
        flow.response = upstream
    if flow.response is not None:
        addon.response(flow)
    return flow


def google_flows(image: bytes) -> tuple[http.HTTPFlow, list[http.HTTPFlow]]:
    start = request("POST", "https://push.clients6.google.com/upload/", b'{"name":"a.png"}',
                    x_goog_upload_protocol="resumable", x_goog_upload_command="start",
                    x_goog_upload_header_content_length=str(len(image)),
                    x_goog_upload_header_content_type="image/png", content_type="application/json")
    a, b = len(image) // 3, 2 * len(image) // 3
    chunks = [request("POST", SESSION_URL, image[lo:hi], x_goog_upload_command=command,
                      x_goog_upload_offset=str(lo))
              for lo, hi, command in ((0, a, "upload"), (a, b, "upload"), (b, len(image), "upload, finalize"))]
    return start, chunks


def test_google_resumable_clean_chunks_are_answered_then_replayed_before_the_last_goes(tmp_path):
    harness = Harness(tmp_path)
    start, chunks = google_flows(CLEAN)

    async def steps(addon):
        started = http.Response.make(200, b"", {"x-goog-upload-status": "active", "x-goog-upload-url": SESSION_URL})
        await through(addon, start, started)
        for flow in chunks:
            await through(addon, flow)

    asyncio.run(harness.run(steps))
    assert start.response.status_code == 200 and start.metadata["dlp_upload_id"].startswith("up-")
    for held in chunks[:2]:  # answered by the gateway as Google would, never sent on
        assert held.response.status_code == 200 and held.response.headers["x-goog-upload-status"] == "active"
        assert held.request.stream is False
    last = chunks[2]
    assert last.response is None and last.request.raw_content == CLEAN[2 * len(CLEAN) // 3:]  # forwarded untouched
    assert harness.replayed == [[c.request.raw_content for c in chunks[:2]]]
    assert {f.metadata["dlp_upload_id"] for f in [start, *chunks]} == {start.metadata["dlp_upload_id"]}
    assert harness.audit()[-1]["upload_id"] == start.metadata["dlp_upload_id"]


def test_google_resumable_pii_is_refused_at_the_last_chunk_and_nothing_is_replayed(tmp_path):
    harness = Harness(tmp_path)
    start, chunks = google_flows(PII)
    retry = request("POST", SESSION_URL, PII[:10], x_goog_upload_command="upload", x_goog_upload_offset="0")

    async def steps(addon):
        started = http.Response.make(200, b"", {"x-goog-upload-status": "active", "x-goog-upload-url": SESSION_URL})
        await through(addon, start, started)
        for flow in [*chunks, retry]:
            await through(addon, flow)

    asyncio.run(harness.run(steps))
    assert chunks[2].response.status_code == 403 and chunks[2].response.headers["x-dlp-rule"] == "block-pii"
    assert retry.response.status_code == 403 and harness.replayed == []
    event = harness.audit()[-1]
    assert event["action"] == "block" and event["upload_id"] == start.metadata["dlp_upload_id"]
    assert event["upload_pieces"] == 4


def test_a_chunk_without_a_session_on_this_gateway_is_refused_at_once(tmp_path):
    harness = Harness(tmp_path)
    orphan = request("PUT", "https://corp.sharepoint.com/_api/up?x=1", CLEAN[:100],
                     content_range=f"bytes 100-199/{len(CLEAN)}")

    async def steps(addon):
        await through(addon, orphan)

    asyncio.run(harness.run(steps))
    assert orphan.response.status_code == 403 and orphan.response.headers["x-dlp-rule"] == "unknown_upload_session"


def test_bad_session_options_are_refused_at_start_up(tmp_path):
    import pytest
    from mitmproxy import exceptions

    addon = DlpGateway()
    with taddons.context(addon) as tctx:
        with pytest.raises(exceptions.OptionsError, match="dlp_session_timeout"):
            tctx.configure(addon, dlp_session_timeout=0)
        with pytest.raises(exceptions.OptionsError, match="dlp_session_memory_mb"):
            tctx.configure(addon, dlp_session_memory_mb=2048, dlp_session_max_held_mb=1024)
        with pytest.raises(exceptions.OptionsError, match="upload-session directory"):
            tctx.configure(addon, dlp_session_dir=str(tmp_path / "missing"))


def ws_flow(host: str, *messages: tuple[bytes, bool, bool]) -> http.HTTPFlow:
    flow = tflow.twebsocketflow(messages=False)
    flow.request.host = host
    flow.request.scheme, flow.request.port = "https", 443
    flow.request.headers["host"] = host
    flow.websocket.messages = []
    return flow


async def message(addon: DlpGateway, flow: http.HTTPFlow, content: bytes, is_text: bool = True,
                  from_client: bool = True) -> WebSocketMessage:
    msg = WebSocketMessage(Opcode.TEXT if is_text else Opcode.BINARY, from_client, content)
    flow.websocket.messages.append(msg)
    await addon.websocket_message(flow)
    return msg


def send_frame(image: bytes) -> bytes:
    return json.dumps({"event": "send", "conversationId": "c1", "content": [
        {"type": "image", "url": "data:image/png;base64," + base64.b64encode(image).decode()}]}).encode()


def test_websocket_messages_are_dropped_answered_closed_or_left_byte_identical(tmp_path):
    harness = Harness(tmp_path)
    copilot, gemini, other = (ws_flow(h) for h in ("copilot.microsoft.com", "gemini.google.com", "example.com"))
    got = {}

    async def steps(addon):
        got["clean"] = await message(addon, copilot, send_frame(CLEAN))
        got["pii"] = await message(addon, copilot, send_frame(PII))
        got["server"] = await message(addon, copilot, send_frame(PII), from_client=False)
        got["binary"] = await message(addon, gemini, PII, is_text=False)
        got["after-close"] = await message(addon, gemini, b"hello")
        got["out-of-scope"] = await message(addon, other, send_frame(PII))

    asyncio.run(harness.run(steps))
    assert not got["clean"].dropped and got["clean"].content == send_frame(CLEAN)
    assert got["pii"].dropped and json.loads(harness.sent[0])["event"] == "error"
    assert not got["server"].dropped  # what the service sends is not an upload
    assert got["binary"].dropped and harness.closed[0][0] == 1008
    assert got["after-close"].dropped  # nothing more goes out on a socket being closed for a violation
    assert not got["out-of-scope"].dropped
    blocked = [e for e in harness.audit() if e["action"] == "block"]
    assert [e["destination_host"] for e in blocked] == ["copilot.microsoft.com", "gemini.google.com"]
    assert all(e["method"] == "WEBSOCKET" for e in blocked)
