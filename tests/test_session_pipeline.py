"""Upload sessions through the proxy-free pipeline: chunks held and answered, the whole file judged once, then
replayed unchanged or refused (Google resumable, Graph and GCS Content-Range)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from gateway.audit import AuditLog
from gateway.cache import ReportCache
from gateway.metrics import GatewayMetrics
from gateway.models import Action
from gateway.pipeline import FORWARD, Recorder, ReplayHeld, RequestHead, Respond, UploadPipeline, UploadRequest
from gateway.policy import PolicyStore
from gateway.sessions import HeldRequest, SessionLimits, SessionStore
from gateway.warn import WarnOverrides
from tests.support.images import text_image
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection

POLICY = Path(__file__).parent / "policies" / "sessions.yaml"
PII = text_image(["Contact: jane.doe@corpmail.com"], size=(400, 120))
CLEAN = text_image(["Quarterly roadmap review"], size=(400, 120))
GOOGLE = "push.clients6.google.com"
SESSION_URL = f"https://{GOOGLE}/upload/?upload_id=AbC123&upload_protocol=resumable"
SESSION_PATH = "/upload/?upload_id=AbC123&upload_protocol=resumable"


def thirds(data: bytes) -> list[bytes]:
    a, b = len(data) // 3, 2 * len(data) // 3
    return [data[:a], data[a:b], data[b:]]


class Gateway:
    """A pipeline plus the upstream's side of a session start, driven request by request."""

    def __init__(self, tmp_path: Path, policy: Path = POLICY, clock=None, **limits) -> None:
        self.inspection = ScriptedInspection({PII: [EMAIL_FINDING]}, redacted=CLEAN)
        store = SessionStore(SessionLimits(directory=str(tmp_path), **limits), **({"clock": clock} if clock else {}))
        self.metrics = GatewayMetrics()
        self.pipeline = UploadPipeline(PolicyStore(policy), self.inspection, self.metrics, ReportCache(),
                                       WarnOverrides(), sessions=store)
        self.audit_path = tmp_path / "audit.log"
        self.recorder = Recorder(self.metrics, AuditLog(str(self.audit_path)))

    def send(self, method: str, host: str, path: str, headers: dict[str, str], body: bytes = b""):
        headers = {k.lower(): v for k, v in headers.items()}
        head = RequestHead(method, host, path, headers, "10.9.8.7", body_size=len(body))
        screened = self.pipeline.screen(head)
        req = UploadRequest(method, host, path, headers, "10.9.8.7", body_size=len(body), body=body)
        if screened.piece is None:
            result = screened.early or asyncio.run(self.pipeline.handle(req, screened.destination))
        else:
            held = HeldRequest(method, "https", host, 443, host, path, "HTTP/1.1",
                               tuple((k.encode(), v.encode()) for k, v in headers.items()), body)
            result = asyncio.run(self.pipeline.handle_piece(req, screened.piece, held, screened.destination))
        if result.record is not None:
            self.recorder.write(result.record)
        return screened, result

    def google_start(self, size: int, content_type: str = "image/png") -> str:
        screened, result = self.send("POST", GOOGLE, "/upload/", {
            "x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start",
            "x-goog-upload-header-content-length": str(size), "x-goog-upload-header-content-type": content_type,
            "content-type": "application/json"}, b'{"name": "shot.png"}')
        assert result.outcome == FORWARD  # the start carries no file bytes: it goes to the service
        head = RequestHead("POST", GOOGLE, "/upload/", {})
        self.pipeline.session_started(head, screened.piece, 200, {"x-goog-upload-status": "active",
                                                                 "x-goog-upload-url": SESSION_URL},
                                      result.upload_id, screened.destination)
        return result.upload_id

    def google_chunk(self, body: bytes, offset: int, finalize: bool = False):
        command = "upload, finalize" if finalize else "upload"
        return self.send("POST", GOOGLE, SESSION_PATH, {"x-goog-upload-command": command,
                                                        "x-goog-upload-offset": str(offset)}, body)[1]

    def audit(self) -> list[dict]:
        self.recorder.audit.close()
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


def replayed(result) -> list[HeldRequest]:
    assert isinstance(result.outcome, ReplayHeld), result.outcome
    held = list(result.outcome.requests())
    result.outcome.release()
    return held


def test_google_three_chunks_clean_are_held_judged_whole_and_replayed_byte_identical(tmp_path):
    gw = Gateway(tmp_path)
    parts = thirds(CLEAN)
    upload_id = gw.google_start(len(CLEAN))
    offset = 0
    for part in parts[:2]:
        result = gw.google_chunk(part, offset)
        offset += len(part)
        assert isinstance(result.outcome, Respond) and result.outcome.status == 200  # held, answered as Google does
        assert result.outcome.headers["x-goog-upload-status"] == "active"
        assert result.outcome.headers["x-goog-upload-size-received"] == str(offset)
        assert result.record is None and result.upload_id == upload_id
    assert gw.inspection.inspected == []  # a chunk of an image is not an image
    final = gw.google_chunk(parts[2], offset, finalize=True)
    assert final.record.decision.action is Action.ALLOW and final.record.upload_id == upload_id
    assert gw.inspection.inspected == [hashlib.sha256(CLEAN).hexdigest()]  # the whole file, once
    held = replayed(final)
    assert [h.body for h in held] == parts[:2]  # the held chunks, unchanged and in order; the last one goes itself
    assert [dict(h.headers)[b"x-goog-upload-offset"] for h in held] == [b"0", str(len(parts[0])).encode()]
    assert gw.pipeline.sessions.count == 0 and gw.pipeline.sessions.memory_bytes == 0
    event = gw.audit()[-1]
    assert event["upload_id"] == upload_id and event["upload_pieces"] == 4 and event["action"] == "allow"


def test_google_pii_in_the_second_chunk_refuses_the_whole_upload_and_every_later_chunk(tmp_path):
    gw = Gateway(tmp_path)
    parts = thirds(PII)
    upload_id = gw.google_start(len(PII))
    assert gw.google_chunk(parts[0], 0).outcome.status == 200
    assert gw.google_chunk(parts[1], len(parts[0])).outcome.status == 200
    final = gw.google_chunk(parts[2], len(parts[0]) + len(parts[1]), finalize=True)
    assert isinstance(final.outcome, Respond) and final.outcome.status == 403
    assert json.loads(final.outcome.body)["error"]["rule"] == "block-pii"
    assert final.record.upload_id == upload_id and final.record.pieces == 4
    again = gw.google_chunk(parts[2], 0)  # a retry of any chunk gets the block, never the upstream
    assert again.outcome == final.outcome and again.record is None
    assert gw.pipeline.sessions.memory_bytes == 0  # the held chunks are freed at once
    events = gw.audit()
    assert len(events) == 1 and events[0]["upload_id"] == upload_id and events[0]["entities"] == {"EMAIL_ADDRESS": 1}


def test_a_chunk_of_a_session_this_gateway_does_not_hold_is_refused_even_when_on_error_allows(tmp_path):
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(POLICY.read_text().replace("on_error: block", "on_error: allow"))
    gw = Gateway(tmp_path, lenient)
    result = gw.google_chunk(CLEAN, 4096)  # e.g. its start went through another replica
    assert isinstance(result.outcome, Respond) and result.outcome.status == 403
    assert result.record.decision.rule == "unknown_upload_session"
    graph = gw.send("PUT", "corp.sharepoint.com", "/_api/up?guid=1", {"content-range": "bytes 100-199/300"},
                    b"x" * 100)[1]
    assert isinstance(graph.outcome, Respond) and graph.outcome.status == 403


def test_query_offsets_and_unreadable_headers_are_answered_by_the_gateway(tmp_path):
    gw = Gateway(tmp_path)
    gw.google_start(len(CLEAN))
    gw.google_chunk(CLEAN[:100], 0)
    query = gw.send("POST", GOOGLE, SESSION_PATH, {"x-goog-upload-command": "query"})[1]
    assert query.outcome.status == 200 and query.outcome.headers["x-goog-upload-size-received"] == "100"
    gap = gw.google_chunk(CLEAN[200:300], 200)
    assert gap.outcome.status == 400 and gap.outcome.headers["x-goog-upload-size-received"] == "100"
    odd = gw.send("POST", GOOGLE, SESSION_PATH, {"x-goog-upload-command": "upload, dance"}, b"x")[1]
    assert odd.outcome.status == 400
    final = gw.google_chunk(CLEAN[100:], 100, finalize=True)
    assert [h.body for h in replayed(final)] == [CLEAN[:100]]  # refused pieces were never held


def test_start_upload_finalize_in_one_request_is_an_ordinary_upload(tmp_path):
    gw = Gateway(tmp_path)
    screened, result = gw.send("POST", GOOGLE, "/upload/", {"x-goog-upload-command": "start, upload, finalize",
                                                            "content-type": "image/png"}, PII)
    assert screened.piece is None and result.outcome.status == 403


def graph_chunks(gw: Gateway, data: bytes, path: str = "/personal/u/_api/upload?tempauth=t1", host=None,
                 size: int | None = None):
    size = size or (len(data) // 3 + 1)
    results = []
    for start in range(0, len(data), size):
        piece = data[start:start + size]
        results.append(gw.send("PUT", host or "corp-my.sharepoint.com", path, {
            "content-range": f"bytes {start}-{start + len(piece) - 1}/{len(data)}",
            "content-length": str(len(piece))}, piece)[1])
    return results


def test_graph_content_range_session_clean_is_answered_202_then_replayed(tmp_path):
    gw = Gateway(tmp_path)
    *held, final = graph_chunks(gw, CLEAN)
    for result in held:
        assert result.outcome.status == 202
        assert json.loads(result.outcome.body)["nextExpectedRanges"][0].endswith("-")
    assert json.loads(held[1].outcome.body)["nextExpectedRanges"] == [f"{2 * (len(CLEAN) // 3 + 1)}-"]
    assert final.record.decision.action is Action.ALLOW
    assert b"".join(h.body for h in replayed(final)) == CLEAN[:2 * (len(CLEAN) // 3 + 1)]
    assert {r.upload_id for r in held + [final]} == {final.record.upload_id}


def test_graph_content_range_session_with_pii_is_refused(tmp_path):
    gw = Gateway(tmp_path)
    *held, final = graph_chunks(gw, PII)
    assert [r.outcome.status for r in held] == [202, 202] and final.outcome.status == 403
    status = gw.send("GET", "corp-my.sharepoint.com", "/personal/u/_api/upload?tempauth=t1", {})[1]
    assert status.outcome.status == 403  # the session is refused: a status query learns nothing more


def test_whole_file_in_one_content_range_put_is_an_ordinary_upload(tmp_path):
    gw = Gateway(tmp_path)
    screened, result = gw.send("PUT", "corp.sharepoint.com", "/up", {"content-range": f"bytes 0-{len(PII) - 1}/"
                                                                                      f"{len(PII)}"}, PII)
    assert screened.piece is None and result.outcome.status == 403


def test_gcs_json_api_session_is_answered_308_with_the_range_held(tmp_path):
    gw = Gateway(tmp_path)
    path = "/upload/storage/v1/b/corp-bucket/o?uploadType=resumable&upload_id=xyz"
    data = CLEAN
    first = gw.send("PUT", "storage.googleapis.com", path, {"content-range": f"bytes 0-99/*"}, data[:100])[1]
    assert first.outcome.status == 308 and first.outcome.headers["range"] == "bytes=0-99"
    final = gw.send("PUT", "storage.googleapis.com", path,
                    {"content-range": f"bytes 100-{len(data) - 1}/{len(data)}"}, data[100:])[1]
    assert [h.body for h in replayed(final)] == [data[:100]]


def test_redact_on_a_session_falls_back_and_nothing_is_rewritten(tmp_path):
    gw = Gateway(tmp_path)  # claude.ai redacts e-mails; the chunks of a session cannot be rewritten faithfully
    *_, final = graph_chunks(gw, PII, path="/api/chunked?id=9", host="claude.ai")
    assert final.outcome.status == 403 and final.record.decision.rule == "redact-pii-claude"
    assert "cannot be redacted faithfully" in final.record.decision.reason
    assert gw.inspection.redactions == []


def test_a_session_over_max_body_bytes_follows_on_error(tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text(POLICY.read_text().replace("max_body_bytes: 16MiB", "max_body_bytes: 1KiB")
                     .replace("max_image_bytes: 8MiB", "max_image_bytes: 1KiB"))
    gw = Gateway(tmp_path, small)
    results = graph_chunks(gw, CLEAN, size=600)
    assert results[0].outcome.status == 202
    assert results[1].outcome.status == 403 and results[1].record.decision.rule == "on_error"
    assert "too_large" in results[1].record.decision.reason
    assert all(r.outcome.status == 403 for r in results[2:])
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(small.read_text().replace("on_error: block", "on_error: allow"))
    gw = Gateway(tmp_path, lenient)
    def put(start: int, end: int):
        return gw.send("PUT", "corp-my.sharepoint.com", "/s", {"content-range": f"bytes {start}-{end - 1}/"
                                                                              f"{len(CLEAN)}"}, CLEAN[start:end])[1]

    assert put(0, 600).outcome.status == 202
    assert [h.body for h in replayed(put(600, 1200))] == [CLEAN[:600]]  # uninspected (on_error: allow), in order
    assert put(1200, len(CLEAN)).outcome == FORWARD and gw.pipeline.sessions.count == 0


def test_the_global_cap_and_content_encoded_chunks_follow_on_error(tmp_path):
    gw = Gateway(tmp_path, total_bytes=1000, memory_bytes=100)
    ok = gw.send("PUT", "a.sharepoint.com", "/one", {"content-range": "bytes 0-799/5000"}, b"a" * 800)[1]
    assert ok.outcome.status == 202 and gw.pipeline.sessions.disk_bytes == 800
    over = gw.send("PUT", "a.sharepoint.com", "/two", {"content-range": "bytes 0-299/5000"}, b"b" * 300)[1]
    assert over.outcome.status == 403 and "together" in over.record.decision.reason
    coded = gw.send("PUT", "a.sharepoint.com", "/three", {"content-range": "bytes 0-9/5000",
                                                           "content-encoding": "gzip"}, b"c" * 10)[1]
    assert coded.outcome.status == 403 and coded.record.decision.rule == "on_error"


def test_an_abandoned_session_is_freed_after_its_timeout_and_its_next_chunk_refused(tmp_path):
    now = [100.0]
    gw = Gateway(tmp_path, clock=lambda: now[0], timeout_seconds=30, memory_bytes=0)
    gw.send("PUT", "a.sharepoint.com", "/s", {"content-range": "bytes 0-99/300"}, b"a" * 100)
    assert gw.pipeline.sessions.count == 1 and gw.pipeline.sessions.disk_bytes == 100
    now[0] += 31
    assert gw.pipeline.sweep_sessions() == 1
    assert gw.pipeline.sessions.count == 0 and gw.pipeline.sessions.disk_bytes == 0
    late = gw.send("PUT", "a.sharepoint.com", "/s", {"content-range": "bytes 100-199/300"}, b"b" * 100)[1]
    assert late.outcome.status == 403 and late.record.decision.rule == "unknown_upload_session"
    assert "dlp_gateway_upload_sessions_expired_total 1.0" in _metrics(gw)


def _metrics(gw: Gateway) -> str:
    from prometheus_client import generate_latest

    return generate_latest(gw.metrics.registry).decode()


def test_session_metrics_count_pieces_by_outcome(tmp_path):
    gw = Gateway(tmp_path)
    graph_chunks(gw, CLEAN)
    text = _metrics(gw)
    assert 'dlp_gateway_upload_session_pieces_total{outcome="held",protocol="content_range"} 2.0' in text
    assert 'dlp_gateway_upload_session_pieces_total{outcome="replayed",protocol="content_range"} 1.0' in text
    assert "dlp_gateway_upload_sessions 1.0" in text  # until the replay releases it


@pytest.mark.parametrize("cancel", ["google", "graph"])
def test_cancel_drops_the_held_bytes_and_goes_upstream(tmp_path, cancel):
    gw = Gateway(tmp_path)
    if cancel == "google":
        gw.google_start(len(CLEAN))
        gw.google_chunk(CLEAN[:50], 0)
        result = gw.send("POST", GOOGLE, SESSION_PATH, {"x-goog-upload-command": "cancel"})[1]
    else:
        gw.send("PUT", "a.sharepoint.com", "/s", {"content-range": "bytes 0-49/300"}, CLEAN[:50])
        result = gw.send("DELETE", "a.sharepoint.com", "/s", {})[1]
    assert result.outcome == FORWARD and gw.pipeline.sessions.count == 0
