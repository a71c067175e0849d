"""The request path without a proxy: plain request data in, a typed outcome and a decision record out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from gateway.cache import ReportCache
from gateway.metrics import GatewayMetrics
from gateway.models import Action, InspectionErrorKind
from gateway.pipeline import FORWARD, Forward, ForwardRebuilt, RequestHead, Respond, UploadPipeline, UploadRequest
from gateway.policy import PolicyStore
from gateway.warn import WarnOverrides
from tests.support.images import photo_like, text_image
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection

POLICY = Path(__file__).parent / "policies" / "e2e.yaml"
PII = text_image(["Contact: jane.doe@corpmail.com"], size=(400, 120))
CLEAN = photo_like(size=(64, 48), fmt="PNG")


def pipeline(inspection=None) -> UploadPipeline:
    inspection = inspection or ScriptedInspection({PII: [EMAIL_FINDING]}, redacted=CLEAN)
    return UploadPipeline(PolicyStore(POLICY), inspection, GatewayMetrics(), ReportCache(), WarnOverrides())


def put(body: bytes, host: str = "files.oaiusercontent.com", **headers: str) -> UploadRequest:
    return UploadRequest("PUT", host, "/file", {"content-type": "image/png", **headers}, "10.1.2.3",
                         body_size=len(body), body=body)


def decide(p: UploadPipeline, req: UploadRequest):
    screened = p.screen(req)
    return screened.early or asyncio.run(p.handle(req, screened.destination))


def test_outcomes_are_typed_and_every_decision_has_a_record():
    p = pipeline()
    blocked = decide(p, put(PII))
    assert isinstance(blocked.outcome, Respond) and blocked.outcome.status == 403
    assert json.loads(blocked.outcome.body)["error"]["incident_id"] == blocked.record.incident_id
    assert blocked.record.decision.rule == "block-pii" and blocked.record.context.client_ip == "10.1.2.3"
    allowed = decide(p, put(CLEAN))
    assert allowed.outcome == FORWARD and allowed.record.decision.action is Action.ALLOW
    redacted = decide(p, put(PII, host="claude.ai"))
    assert redacted.outcome == ForwardRebuilt(CLEAN) and redacted.record.decision.action is Action.REDACT


def test_requests_that_are_not_ours_get_no_record():
    p = pipeline()
    assert p.screen(put(PII, host="example.com")).destination is None
    assert p.screen(RequestHead("GET", "chatgpt.com", "/", {})).destination is None
    assert asyncio.run(p.handle(put(PII, host="example.com"), None)).record is None
    no_image = decide(p, UploadRequest("POST", "chatgpt.com", "/x", {"content-type": "application/json"},
                                       body=b'{"text": "hello"}'))
    assert isinstance(no_image.outcome, Forward) and no_image.record is None


def test_inspection_failures_and_bugs_fail_closed():
    timeout = pipeline(ScriptedInspection(failing={PII: InspectionErrorKind.TIMEOUT}))
    result = decide(timeout, put(PII))
    assert isinstance(result.outcome, Respond) and result.record.decision.rule == "on_error"
    assert result.record.reports[0].error is InspectionErrorKind.TIMEOUT

    class Broken(ScriptedInspection):
        async def inspect(self, data, options, timeout):
            raise RuntimeError("a bug")

    result = decide(pipeline(Broken()), put(PII))
    assert isinstance(result.outcome, Respond) and result.record.decision.rule == "on_error"
    assert "internal" in result.record.decision.reason


def test_unknown_content_encoding_is_an_on_error_decision():
    result = decide(pipeline(), put(PII, **{"content-encoding": "x-compress-9000"}))
    assert isinstance(result.outcome, Respond) and result.record.decision.rule == "on_error"
    assert result.record.reports[0].error is InspectionErrorKind.CORRUPT


def test_a_decompression_bomb_is_an_on_error_decision_decoded_off_the_event_loop(monkeypatch):
    import threading

    import gateway.pipeline.core as pipeline_module
    from tests.test_content_coding import bomb

    threads = []

    def spy(*args):
        threads.append(threading.current_thread().name)
        return real(*args)

    real = pipeline_module.decode_body
    monkeypatch.setattr(pipeline_module, "decode_body", spy)
    p = pipeline()
    result = decide(p, put(bomb("gzip", 256 << 20), **{"content-encoding": "gzip"}))  # limit: 100 MiB
    assert isinstance(result.outcome, Respond) and result.record.decision.rule == "on_error"
    assert result.record.reports[0].error is InspectionErrorKind.TOO_LARGE
    assert "over the limit of 104857600 bytes" in result.record.decision.reason
    assert threads and all(name.startswith("dlp-body") for name in threads)
    assert p.inspection.inspected == []


def test_a_bomb_sender_has_its_next_encoded_bodies_refused_without_decoding(monkeypatch):
    import gateway.pipeline.core as pipeline_module
    from gateway.content_coding import encode_body
    from gateway.pipeline.cooldown import BombCooldown
    from tests.test_content_coding import bomb

    now = [1000.0]
    p = pipeline()
    p.bomb_cooldown = BombCooldown(30, clock=lambda: now[0])
    assert decide(p, put(bomb("gzip", 256 << 20), **{"content-encoding": "gzip"})).record.decision.rule == "on_error"
    decoded = []
    real = pipeline_module.decode_body
    monkeypatch.setattr(pipeline_module, "decode_body", lambda *a: decoded.append(a) or real(*a))
    clean_gz = put(encode_body(CLEAN, "gzip"), **{"content-encoding": "gzip"})
    screened = p.screen(clean_gz)  # refused at the headers: the body is never decoded
    assert screened.early is not None and screened.early.record.decision.rule == "on_error"
    assert "decompression bomb" in screened.early.record.decision.reason and decoded == []
    assert decide(p, put(CLEAN)).outcome == FORWARD  # its plain uploads are inspected as ever
    other = UploadRequest("PUT", "files.oaiusercontent.com", "/file", clean_gz.headers, "10.9.9.9",
                          body_size=len(clean_gz.body), body=clean_gz.body)
    assert decide(p, other).outcome == FORWARD  # another client is not affected
    now[0] += 31
    assert decide(p, clean_gz).outcome == FORWARD  # the cooldown is over
    assert [a[1] for a in decoded] == [None, "gzip", "gzip"]  # the plain, the other client's and this last one


def test_no_bomb_cooldown_where_on_error_allows(tmp_path):
    from gateway.content_coding import encode_body
    from tests.test_content_coding import bomb

    lax = tmp_path / "lax.yaml"
    lax.write_text(POLICY.read_text().replace("on_error: block", "on_error: allow"))
    assert "on_error: allow" in lax.read_text()
    p = UploadPipeline(PolicyStore(lax), ScriptedInspection({PII: [EMAIL_FINDING]}, redacted=CLEAN), GatewayMetrics(),
                       ReportCache(), WarnOverrides())
    decide(p, put(bomb("gzip", 256 << 20), **{"content-encoding": "gzip"}))
    pii_gz = put(encode_body(PII, "gzip"), **{"content-encoding": "gzip"})
    assert p.screen(pii_gz).early is None  # a refusal here would forward it uninspected
    assert decide(p, pii_gz).record.decision.rule == "block-pii"


def test_truncated_stream_is_on_error_and_stacked_codings_are_rebuilt_the_same_way():
    from gateway.content_coding import decode_body, encode_body

    truncated = encode_body(PII, "br")[:-10]
    result = decide(pipeline(), put(truncated, **{"content-encoding": "br"}))
    assert result.record.decision.rule == "on_error" and result.record.reports[0].error is InspectionErrorKind.CORRUPT
    stacked = encode_body(PII, "gzip, br")
    result = decide(pipeline(), put(stacked, host="claude.ai", **{"content-encoding": "gzip, br"}))
    assert isinstance(result.outcome, ForwardRebuilt) and result.record.decision.action is Action.REDACT
    assert decode_body(result.outcome.body, "gzip, br", 10**8) == CLEAN
