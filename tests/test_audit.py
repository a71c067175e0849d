"""The JSON audit log, and the promise that neither it nor /metrics ever holds the PII that was caught."""

from __future__ import annotations

import json
import re
import socket
import socketserver
import threading
import urllib.request
from dataclasses import fields
from datetime import datetime, timezone

import pytest

from gateway.audit import AuditEvent, AuditLog, build_audit_event, new_incident_id
from gateway.metrics import GatewayMetrics, start_http_server
from gateway.models import Action, Decision, Finding, ImageReport, InspectionErrorKind, RequestContext

CTX = RequestContext(
    host="chatgpt.com",
    path="/backend-api/files?filename=jane-doe-passport.jpg",
    method="POST",
    destination="openai",
    client_ip="10.1.2.3",
    user="alice",
    image_count=2,
    total_image_bytes=1500,
)
REPORTS = [
    ImageReport("a" * 64, 1000, "JPEG", 800, 600,
                [Finding("EMAIL_ADDRESS", "ocr", 0.9, (1, 2, 3, 4)), Finding("EMAIL_ADDRESS", "ocr", 0.8, (5, 6, 7, 8)),
                 Finding("FACE", "face", 0.7, (9, 9, 20, 20))]),
    ImageReport("b" * 64, 500, None, error=InspectionErrorKind.CORRUPT, error_detail="broken JPEG at offset 17"),
]
DECISION = Decision(Action.BLOCK, "block-contact", "EMAIL_ADDRESS in image 1", matched=REPORTS[0].findings[:2])


def _event(**kw) -> AuditEvent:
    return build_audit_event(CTX, DECISION, REPORTS, "inc123", 1.23456, "v7", **kw)


def test_build_audit_event_fields():
    event = _event()
    assert [f.name for f in fields(AuditEvent)] == [
        "time", "incident_id", "client_ip", "user", "destination_host", "destination_group", "method", "action",
        "rule", "reason", "entities", "images", "documents", "latency_ms", "policy_version", "override",
        "upload_id", "upload_pieces", "user_source"]
    stamp = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    assert event.time.endswith("Z") and abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event.time)
    assert (event.incident_id, event.client_ip, event.user) == ("inc123", "10.1.2.3", "alice")
    assert (event.destination_host, event.destination_group, event.method) == ("chatgpt.com", "openai", "POST")
    assert (event.action, event.rule, event.reason) == ("block", "block-contact", "EMAIL_ADDRESS in image 1")
    assert event.entities == {"EMAIL_ADDRESS": 2, "FACE": 1}
    assert event.images == [
        {"sha256": "a" * 64, "size_bytes": 1000, "format": "JPEG", "error": None},
        {"sha256": "b" * 64, "size_bytes": 500, "format": None, "error": "corrupt"},
    ]
    assert (event.latency_ms, event.policy_version, event.override) == (1234.6, "v7", False)
    assert _event(override=True).override is True
    assert (event.upload_id, event.upload_pieces) == (None, 0)
    linked = _event(upload_id="up-abc", upload_pieces=4)
    assert (linked.upload_id, linked.upload_pieces) == ("up-abc", 4)
    line = event.to_json()
    assert "\n" not in line and json.loads(line)["entities"] == {"EMAIL_ADDRESS": 2, "FACE": 1}


def test_incident_ids_are_short_unique_and_url_safe():
    ids = {new_incident_id() for _ in range(20000)}
    assert len(ids) == 20000
    assert all(re.fullmatch(r"[a-z2-7]{16}", i) for i in ids)


def test_stdout_is_the_default_target(capsys):
    log = AuditLog()
    log.write(_event())
    log.write(_event(override=True))
    log.close()
    log.write(_event())  # after close: dropped, not raised
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(l)["override"] for l in lines] == [False, True]


def test_file_target_rotates_without_splitting_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(str(path), max_bytes=4000, backups=3)
    for i in range(100):
        log.write(build_audit_event(CTX, DECISION, REPORTS, f"id{i:03d}", 0.1, "v1"))
    log.close()
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]
    ids = []
    for f in files[1:][::-1] + files[:1]:  # oldest backup first, current file last
        assert f.stat().st_size <= 4000
        ids += [json.loads(line)["incident_id"] for line in f.read_text().splitlines()]
    assert ids == [f"id{i:03d}" for i in range(100 - len(ids), 100)]  # the newest events, in order


def test_writes_from_many_threads_never_interleave(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(str(path))

    def writer(n: int) -> None:
        for i in range(200):
            log.write(build_audit_event(CTX, DECISION, REPORTS, f"t{n}-{i}", 0.1, "v1"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 1600
    assert len({json.loads(line)["incident_id"] for line in lines}) == 1600


def test_syslog_udp_target():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    try:
        log = AuditLog(f"syslog://127.0.0.1:{sock.getsockname()[1]}")
        log.write(_event())
        data = sock.recv(65535).decode()
        log.close()
    finally:
        sock.close()
    # <priority>ident JSON: authpriv (10) * 8 + info (6) = 86
    match = re.fullmatch(r"<86>dlp-gateway: (\{.*\})", data)
    assert match, data
    assert json.loads(match.group(1))["incident_id"] == "inc123"


def test_syslog_tcp_target():
    received: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            received.append(self.rfile.readline())

    with socketserver.TCPServer(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.handle_request)
        thread.start()
        log = AuditLog(f"syslog+tcp://127.0.0.1:{server.server_address[1]}")
        log.write(_event())
        log.close()
        thread.join(5)
    line = received[0].decode()
    assert line.startswith("<86>dlp-gateway: {") and json.loads(line.split(": ", 1)[1])["action"] == "block"


def test_bad_targets_fail_at_start_up(tmp_path):
    with pytest.raises(FileNotFoundError):
        AuditLog(str(tmp_path / "missing-dir" / "audit.jsonl"))
    with pytest.raises(ValueError):
        AuditLog("syslog://")


def test_a_failing_sink_never_raises_into_the_proxy(tmp_path, capsys):
    log = AuditLog(str(tmp_path / "audit.jsonl"))
    log._handler.stream.close()  # e.g. the disk went away under us
    log.write(_event())  # reported on stderr by logging, not raised
    assert "ValueError" in capsys.readouterr().err


# --- no PII in the audit log or /metrics ----------------------------------------------------------------------

PII = {
    "email": "jane.doe@example.com",
    "ssn": "536-22-1947",
    "card": "4111 1111 1111 1111",
    "phone": "+1 415 555 0199",
    "name": "Jane Doe",
    "iban": "DE89370400440532013000",
}


def test_audit_and_metrics_never_contain_detected_text(tmp_path):
    """Drive the real policy engine with the reports inspection makes for an image full of PII (entity types and
    boxes only), from a request whose URL carries PII too, then grep everything we export."""
    from gateway.policy import load_default_policy

    policy = load_default_policy()
    host, path = "chatgpt.com", "/backend-api/files?name=jane.doe@example.com&ssn=536-22-1947"
    destination = policy.destination_for(host, path, "POST")
    assert destination is not None
    ctx = RequestContext(host=host, path=path, method="POST", destination=destination, client_ip="10.9.8.7",
                         user="alice", image_count=2, total_image_bytes=3000)
    entities = ["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD", "PHONE_NUMBER", "PERSON", "IBAN_CODE", "FACE", "EXIF_GPS"]
    source = {"FACE": "face", "EXIF_GPS": "metadata"}
    reports = [
        ImageReport("c" * 64, 2000, "PNG", 1240, 800,
                    [Finding(e, source.get(e, "ocr"), 0.95, None if e == "EXIF_GPS" else (10 * i, 10, 10 * i + 9, 30))
                     for i, e in enumerate(entities)],
                    stage_seconds={"decode": 0.01, "ocr": 2.0, "analyze": 0.3}),
        ImageReport("d" * 64, 1000, error=InspectionErrorKind.CORRUPT, error_detail=f"bad data near {PII['email']}"),
    ]
    email_only = ImageReport("f" * 64, 10, "PNG", 10, 10, [Finding("EMAIL_ADDRESS", "ocr", 0.9, (1, 1, 8, 8))])
    decisions = [policy.decide(ctx, reports), policy.decide(ctx, reports[:1]), policy.decide(ctx, [email_only]),
                 policy.decide(ctx, [ImageReport("e" * 64, 10, "PNG", 10, 10)])]
    assert {d.action for d in decisions} >= {Action.BLOCK, Action.REDACT, Action.ALLOW}, decisions

    audit_path = tmp_path / "audit.jsonl"
    log = AuditLog(str(audit_path))
    metrics = GatewayMetrics()
    for i, decision in enumerate(decisions):
        metrics.observe_decision(ctx, decision, reports, 2.5)
        log.write(build_audit_event(ctx, decision, reports, new_incident_id(), 2.5, policy.version_id,
                                    override=i == 2))
    metrics.observe_warn_override(destination)
    log.close()
    server = start_http_server(metrics, "127.0.0.1", 0)
    try:
        exposition = urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()

    audit = audit_path.read_text()
    events = [json.loads(line) for line in audit.splitlines()]
    assert len(events) == 4 and events[0]["entities"]["US_SSN"] == 1  # the events are real, not empty
    assert 'dlp_gateway_findings_total{entity="US_SSN",source="ocr"} 4.0' in exposition
    variants = set()
    for value in PII.values():
        variants |= {value, value.lower(), value.replace(" ", ""), value.replace("-", "")}
    for text, where in ((audit, "audit log"), (exposition, "/metrics")):
        for secret in variants | {"backend-api", "name=", "bad data near"}:
            assert secret not in text, f"{secret!r} found in the {where}"
    # /metrics additionally never names users, clients or hosts.
    for secret in ("alice", "10.9.8.7", "chatgpt.com", "c" * 64):
        assert secret not in exposition
