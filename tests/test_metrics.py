"""GatewayMetrics and the /metrics, /healthz, /readyz server."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from gateway import __version__
from gateway.metrics import ERROR_KINDS, MAX_LABEL_VALUES, STAGES, GatewayMetrics, start_http_server
from gateway.models import Action, Decision, Finding, ImageReport, InspectionErrorKind, RequestContext

CTX = RequestContext(
    host="chatgpt.com",
    path="/backend-api/files/upload?name=passport-jane-doe.png",
    method="POST",
    destination="openai",
    client_ip="10.20.30.40",
    user="jane.doe@corp.example",
    groups=frozenset({"finance"}),
    image_count=2,
    total_image_bytes=3000,
)


def _report(sha: str, size: int, findings=(), cached=False, error=None, stages=None) -> ImageReport:
    return ImageReport(
        sha256=sha,
        size_bytes=size,
        format="PNG",
        width=800,
        height=600,
        findings=list(findings),
        stage_seconds=dict(stages if stages is not None else {"decode": 0.01, "ocr": 1.5, "analyze": 0.2}),
        error=error,
        cached=cached,
    )


def samples(metrics: GatewayMetrics) -> dict[tuple[str, frozenset], float]:
    """Parse the exposition text (as Prometheus would) into {(sample name, labels): value}."""
    text = _get(metrics, "/metrics")[2]
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(metrics: GatewayMetrics, name: str, **labels) -> float:
    return samples(metrics).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics()


_servers: dict[int, object] = {}


def _get(metrics: GatewayMetrics, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    server = _servers.get(id(metrics))
    if server is None:
        server = _servers[id(metrics)] = start_http_server(metrics, "127.0.0.1", 0)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, dict(resp.getheaders()), body


@pytest.fixture(autouse=True)
def _stop_servers():
    yield
    for server in _servers.values():
        server.shutdown()
    _servers.clear()


def test_observe_decision_counts_uploads_rules_findings_images_and_stages(metrics):
    reports = [
        _report("a" * 64, 1000, [Finding("EMAIL_ADDRESS", "ocr", 0.9, (1, 2, 3, 4)), Finding("FACE", "face", 0.8)],
                stages={"decode": 0.01, "metadata": 0.002, "ocr": 1.5, "analyze": 0.2, "faces": 0.05,
                        "barcodes": 0.03}),
        _report("b" * 64, 2000, [Finding("EMAIL_ADDRESS", "ocr", 0.7)], cached=True, stages={}),
    ]
    decision = Decision(Action.BLOCK, "block-contact-details", "EMAIL_ADDRESS in image 1", matched=reports[0].findings)
    metrics.observe_decision(CTX, decision, reports, 2.5)
    metrics.observe_decision(CTX, Decision(Action.ALLOW, None, "no rule matched"), [], 0.001)

    s = samples(metrics)
    get = lambda name, **labels: s.get((name, frozenset(labels.items())), 0.0)  # noqa: E731
    assert get("dlp_gateway_uploads_total", destination="openai", action="block") == 1
    assert get("dlp_gateway_uploads_total", destination="openai", action="allow") == 1
    assert get("dlp_gateway_decisions_total", destination="openai", action="block", rule="block-contact-details") == 1
    assert get("dlp_gateway_decisions_total", destination="openai", action="allow", rule="default") == 1
    assert get("dlp_gateway_findings_total", entity="EMAIL_ADDRESS", source="ocr") == 2
    assert get("dlp_gateway_findings_total", entity="FACE", source="face") == 1
    assert get("dlp_gateway_images_per_upload_count") == 2
    assert get("dlp_gateway_images_per_upload_sum") == 2
    assert get("dlp_gateway_images_per_upload_bucket", le="0.0") == 1  # the upload without images
    assert get("dlp_gateway_images_inspected_total") == 2
    assert get("dlp_gateway_image_cache_hits_total") == 1
    assert get("dlp_gateway_inspected_bytes_total", destination="openai") == 3000
    assert get("dlp_gateway_inspection_duration_seconds_count", destination="openai") == 2
    assert get("dlp_gateway_inspection_duration_seconds_sum", destination="openai") == pytest.approx(2.501)
    # Stage timings come from the first (uncached) report only.
    for stage in ("decode", "metadata", "ocr", "analyze", "faces", "barcodes"):
        assert get("dlp_gateway_stage_duration_seconds_count", stage=stage) == 1, stage
    assert get("dlp_gateway_stage_duration_seconds_sum", stage="ocr") == pytest.approx(1.5)
    assert get("dlp_gateway_stage_duration_seconds_bucket", stage="ocr", le="1.0") == 0
    assert get("dlp_gateway_stage_duration_seconds_bucket", stage="ocr", le="2.5") == 1
    assert get("dlp_gateway_on_error_total", destination="openai", action="block") == 0


def test_on_error_decisions_are_counted_by_action_and_placeholder_reports_are_not_images(metrics):
    placeholder = ImageReport("", 0, error=InspectionErrorKind.TOO_MANY_IMAGES)  # as the addon builds it
    metrics.observe_decision(CTX, Decision(Action.BLOCK, "on_error", "too_many_images"), [placeholder], 0.01)
    metrics.observe_decision(
        CTX, Decision(Action.ALLOW, "on_error", "timeout"), [_report("c" * 64, 10, error=InspectionErrorKind.TIMEOUT)],
        60.0,
    )
    assert value(metrics, "dlp_gateway_on_error_total", destination="openai", action="block") == 1
    assert value(metrics, "dlp_gateway_on_error_total", destination="openai", action="allow") == 1
    assert value(metrics, "dlp_gateway_images_inspected_total") == 1
    # observe_decision never counts errors: the addon reports each one through observe_error (no double counts).
    assert value(metrics, "dlp_gateway_errors_total", kind="timeout") == 0


def test_errors_are_preinitialised_and_counted_by_kind(metrics):
    s = samples(metrics)
    for kind in [k.value for k in InspectionErrorKind] + ["addon_exception", "extract"]:
        assert ("dlp_gateway_errors_total", frozenset({("kind", kind)})) in s, kind
    assert set(ERROR_KINDS) >= {"addon_exception", "extract", "timeout", "corrupt"}
    metrics.observe_error("timeout")
    metrics.observe_error(InspectionErrorKind.CORRUPT.value)
    metrics.observe_error("addon_exception")
    metrics.observe_error("addon_exception")
    assert value(metrics, "dlp_gateway_errors_total", kind="timeout") == 1
    assert value(metrics, "dlp_gateway_errors_total", kind="corrupt") == 1
    assert value(metrics, "dlp_gateway_errors_total", kind="addon_exception") == 2


def test_pool_redaction_overrides_and_ready(metrics):
    metrics.set_pool(7, 2)
    metrics.observe_redaction_seconds(0.3)
    metrics.observe_warn_override("midjourney")
    assert value(metrics, "dlp_gateway_pool_queue_depth") == 7
    assert value(metrics, "dlp_gateway_pool_in_flight") == 2
    assert value(metrics, "dlp_gateway_redaction_duration_seconds_count") == 1
    assert value(metrics, "dlp_gateway_stage_duration_seconds_count", stage="redact") == 1
    assert value(metrics, "dlp_gateway_warn_overrides_total", destination="midjourney") == 1
    assert value(metrics, "dlp_gateway_ready") == 0
    metrics.set_ready(True)
    assert value(metrics, "dlp_gateway_ready") == 1


def test_policy_reloads_keep_one_version_series_and_a_success_timestamp(metrics):
    before = time.time()
    metrics.observe_policy_reload(True, "v1-abc")
    metrics.observe_policy_reload(False, None)
    metrics.observe_policy_reload(True, "v2-def")
    s = samples(metrics)
    assert s[("dlp_gateway_policy_reloads_total", frozenset({("result", "success")}))] == 2
    assert s[("dlp_gateway_policy_reloads_total", frozenset({("result", "failure")}))] == 1
    versions = [dict(labels)["version"] for (name, labels), v in s.items() if name == "dlp_gateway_policy_version_info"]
    assert versions == ["v2-def"]
    assert before <= s[("dlp_gateway_policy_last_reload_success_timestamp_seconds", frozenset())] <= time.time()
    # A failed reload leaves the version and the timestamp alone.
    stamp = s[("dlp_gateway_policy_last_reload_success_timestamp_seconds", frozenset())]
    metrics.observe_policy_reload(False, "broken")
    assert value(metrics, "dlp_gateway_policy_last_reload_success_timestamp_seconds") == stamp
    assert value(metrics, "dlp_gateway_policy_version_info", version="v2-def") == 1


def test_build_info_and_process_collectors_use_a_dedicated_registry():
    registry = CollectorRegistry()
    a, b = GatewayMetrics(registry), GatewayMetrics()
    a.observe_error("corrupt")
    assert a.registry is registry
    assert value(b, "dlp_gateway_errors_total", kind="corrupt") == 0  # no shared global state
    s = samples(a)
    assert s[("dlp_gateway_build_info", frozenset({("version", __version__), ("python", _python())}))] == 1
    assert ("process_resident_memory_bytes", frozenset()) in s
    assert any(name == "python_info" for name, _ in s)


def _python() -> str:
    import platform

    return platform.python_version()


ALLOWED_LABELS = {"destination", "action", "rule", "entity", "source", "stage", "kind", "result", "version", "python",
                  "reason", "le", "document_type"}


def test_metric_names_units_and_labels_follow_the_rules(metrics):
    metrics.observe_decision(CTX, Decision(Action.REDACT, "r", "x"), [_report("d" * 64, 5, [Finding("X", "ocr", 1)])],
                             1)
    metrics.observe_policy_reload(True, "v")
    metrics.observe_warn_override("openai")
    families = list(text_string_to_metric_families(_get(metrics, "/metrics")[2]))
    ours = [f for f in families if f.name.startswith("dlp_gateway_")]
    assert len(ours) >= 20
    for family in ours:
        assert re.fullmatch(r"dlp_gateway_[a-z0-9_]+", family.name)
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name
        if family.type == "histogram":
            assert family.name.endswith(("_seconds", "_per_upload", "_per_document")), family.name
        if "duration" in family.name or "timestamp" in family.name:
            assert re.search(r"_seconds(_created)?$", family.name), family.name
        for s in family.samples:
            assert set(s.labels) <= ALLOWED_LABELS, (family.name, s.labels)


def test_label_values_are_capped_against_cardinality_explosions(metrics):
    for i in range(MAX_LABEL_VALUES + 50):
        metrics.observe_decision(
            RequestContext(host="h", path="/", method="POST", destination=f"group-{i}"),
            Decision(Action.ALLOW, f"rule-{i}", "r"),
            [_report("e" * 64, 1, [Finding(f"ENTITY_{i}" + "X" * 200, "ocr", 1.0)])],
            0.1,
        )
    s = samples(metrics)
    destinations = {dict(l)["destination"] for n, l in s if n == "dlp_gateway_uploads_total"}
    entities = {dict(l)["entity"] for n, l in s if n == "dlp_gateway_findings_total"}
    assert len(destinations) == MAX_LABEL_VALUES + 1 and "other" in destinations
    assert len(entities) == MAX_LABEL_VALUES + 1 and max(map(len, entities)) <= 64
    assert value(metrics, "dlp_gateway_uploads_total", destination="other", action="allow") == 50
    # The preset label values (stages, error kinds) are never pushed out by junk.
    for stage in STAGES:
        assert ("dlp_gateway_stage_duration_seconds_count", frozenset({("stage", stage)})) in s


def test_metrics_never_carry_user_host_path_ip_or_file_names(metrics):
    reports = [_report("f" * 64, 100, [Finding("US_SSN", "ocr", 0.95, (0, 0, 9, 9))])]
    metrics.observe_decision(CTX, Decision(Action.BLOCK, "block-ids", "US_SSN in image 1"), reports, 1.0)
    metrics.observe_warn_override("openai")
    text = _get(metrics, "/metrics")[2]
    for secret in ("jane", "corp.example", "chatgpt.com", "10.20.30.40", "passport", "backend-api", "finance",
                   "f" * 64):
        assert secret not in text, secret


def test_http_endpoints(metrics):
    status, headers, body = _get(metrics, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "dlp_gateway_build_info" in body
    status, headers, body = _get(metrics, "/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert status == 200 and headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.rstrip().endswith("# EOF")
    assert _get(metrics, "/healthz")[:3:2] == (200, "ok\n")
    status, _, body = _get(metrics, "/readyz")
    assert status == 503 and "starting" in body
    metrics.set_ready(False, "loading models")
    assert _get(metrics, "/readyz")[::2] == (503, "not ready: loading models\n")
    metrics.set_ready(True)
    assert _get(metrics, "/readyz")[::2] == (200, "ready\n")
    assert _get(metrics, "/readyz?verbose=1")[0] == 200
    assert _get(metrics, "/nope")[0] == 404
    assert _get(metrics, "/healthz")[0] == 200  # the first connection and keep-alive did not break anything


def test_server_is_threaded_and_shuts_down(metrics):
    server = start_http_server(metrics, "127.0.0.1", 0)
    # A client that connects and never sends a request must not block anyone else (the proxy's probes!).
    stuck = socket.create_connection(("127.0.0.1", server.port))
    try:
        results = []

        def fetch():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            conn.request("GET", "/healthz")
            results.append(conn.getresponse().status)
            conn.close()

        threads = [threading.Thread(target=fetch) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert results == [200] * 8
    finally:
        stuck.close()
    port = server.port
    server.shutdown()
    server.shutdown()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
