"""Prometheus metrics for the gateway, and the small HTTP server for /metrics, /healthz and /readyz.

Label values only come from small bounded sets: destination *group* names, actions, rule names, entity types,
finding sources, pipeline stages and error kinds. Never a user, client IP, host, URL, file name or content.
As a guard against a policy (or a bug) that produces many distinct values, each label keeps at most
MAX_LABEL_VALUES distinct values; the rest are reported as "other".
"""

from __future__ import annotations

import platform
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

from gateway import __version__
from gateway.formats import DOCUMENT_TYPES
from gateway.models import Decision, ImageReport, InspectionErrorKind, RequestContext

PREFIX = "dlp_gateway"
MAX_LABEL_VALUES = 64
MAX_LABEL_LENGTH = 64
OTHER = "other"

STAGES = ("decode", "metadata", "ocr", "analyze", "faces", "barcodes", "redact", "document")
ERROR_KINDS = tuple(k.value for k in InspectionErrorKind) + ("addon_exception", "extract")
SESSION_PROTOCOLS = ("google_resumable", "content_range")  # gateway.sessions
SESSION_OUTCOMES = ("held", "answered", "replayed", "forwarded", "refused")
CLIENT_REFUSALS = ("not_allowed", "block_global", "block_private")  # gateway.clients

# Inspection of one image takes 0.05 s (cache hit, tiny image) to tens of seconds (big scan on 2 cores).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
IMAGE_COUNT_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50)
PAGE_COUNT_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class _LabelGuard:
    """Caps the number of distinct values one label may take (cardinality guard)."""

    def __init__(self, preset: tuple[str, ...] = ()) -> None:
        self._seen: set[str] = set(preset)
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        text = "none" if value is None else str(getattr(value, "value", value))
        text = text[:MAX_LABEL_LENGTH] or "none"
        if text in self._seen:
            return text
        with self._lock:
            if len(self._seen) >= MAX_LABEL_VALUES:
                return OTHER
            self._seen.add(text)
        return text


class GatewayMetrics:
    """Every metric the gateway exports, in its own registry (tests can create as many as they like)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

        self._destination = _LabelGuard()
        self._rule = _LabelGuard()
        self._entity = _LabelGuard()
        self._source = _LabelGuard()
        self._stage = _LabelGuard(STAGES)
        self._kind = _LabelGuard(ERROR_KINDS)
        self._doc_type = _LabelGuard(tuple(DOCUMENT_TYPES))
        self._ready = False
        self._ready_reason = "starting"

        Info(f"{PREFIX}_build", "Gateway build information.", registry=r).info(
            {"version": __version__, "python": platform.python_version()}
        )
        self.uploads = Counter(
            f"{PREFIX}_uploads_total", "In-scope uploads by destination group and final action.",
            ["destination", "action"], registry=r,
        )
        self.decisions = Counter(
            f"{PREFIX}_decisions_total",
            "Policy decisions by destination group, action and matching rule (rule=default when no rule matched).",
            ["destination", "action", "rule"], registry=r,
        )
        self.findings = Counter(
            f"{PREFIX}_findings_total", "Findings in inspected images by entity type and source.",
            ["entity", "source"], registry=r,
        )
        self.images_per_upload = Histogram(
            f"{PREFIX}_images_per_upload", "Number of images found in one upload.", buckets=IMAGE_COUNT_BUCKETS,
            registry=r,
        )
        self.images = Counter(f"{PREFIX}_images_inspected_total", "Images inspected (cache hits included).",
                              registry=r)
        self.cache_hits = Counter(f"{PREFIX}_image_cache_hits_total", "Images answered from the report cache.",
                                  registry=r)
        self.inspected_bytes = Counter(
            f"{PREFIX}_inspected_bytes_total", "Bytes of image and document data inspected, by destination group.",
            ["destination"], registry=r,
        )
        self.inspection_seconds = Histogram(
            f"{PREFIX}_inspection_duration_seconds",
            "Time from upload intercepted to decision made, by destination group.",
            ["destination"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.stage_seconds = Histogram(
            f"{PREFIX}_stage_duration_seconds", "Time spent in one inspection stage for one image.",
            ["stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.on_error = Counter(
            f"{PREFIX}_on_error_total",
            "Uploads decided by the policy's on_error (an image could not be inspected); action=block is fail-closed.",
            ["destination", "action"], registry=r,
        )
        self.errors = Counter(
            f"{PREFIX}_errors_total", "Errors by kind: image inspection errors, extraction and addon exceptions.",
            ["kind"], registry=r,
        )
        self.warn_overrides = Counter(
            f"{PREFIX}_warn_overrides_total", "Users who proceeded past a warn page, by destination group.",
            ["destination"], registry=r,
        )
        self.documents = Counter(
            f"{PREFIX}_documents_inspected_total", "Documents and archives inspected (cache hits included), by type.",
            ["document_type"], registry=r,
        )
        self.document_pages = Histogram(
            f"{PREFIX}_pages_per_document", "Pages (slides, sheets) of one inspected document, by type.",
            ["document_type"],
            buckets=PAGE_COUNT_BUCKETS, registry=r,
        )
        self.pool_queue = Gauge(f"{PREFIX}_pool_queue_depth", "Images waiting for an inspection worker.", registry=r)
        self.pool_in_flight = Gauge(f"{PREFIX}_pool_in_flight", "Images being inspected right now.", registry=r)
        self.policy_reloads = Counter(
            f"{PREFIX}_policy_reloads_total", "Policy (re)loads by result.", ["result"], registry=r,
        )
        self.policy_last_success = Gauge(
            f"{PREFIX}_policy_last_reload_success_timestamp_seconds",
            "Unix time of the last successful policy load.", registry=r,
        )
        self.policy_version = Gauge(
            f"{PREFIX}_policy_version_info", "The policy version in force (value is always 1).", ["version"],
            registry=r,
        )
        self.upload_sessions = Gauge(
            f"{PREFIX}_upload_sessions", "Chunked/resumable upload sessions held, waiting for their last chunk.",
            registry=r,
        )
        self.upload_session_bytes = Gauge(
            f"{PREFIX}_upload_session_held_bytes", "File bytes held for upload sessions, in memory or spilled to disk.",
            ["storage"], registry=r,
        )
        self.upload_session_pieces = Counter(
            f"{PREFIX}_upload_session_pieces_total",
            "Requests of upload sessions by protocol and what happened to them (held, answered, replayed, forwarded, "
            "refused).", ["protocol", "outcome"], registry=r,
        )
        self.upload_sessions_expired = Counter(
            f"{PREFIX}_upload_sessions_expired_total", "Upload sessions dropped unfinished after their timeout.",
            registry=r,
        )
        self.ready = Gauge(f"{PREFIX}_ready", "1 when the gateway is ready to serve traffic.", registry=r)
        self.clients_refused = Counter(
            f"{PREFIX}_clients_refused_total",
            "Client connections refused, by reason: not_allowed (outside dlp_allow_clients), block_global or "
            "block_private (mitmproxy's options).", ["reason"], registry=r,
        )
        self.redaction_seconds = Histogram(
            f"{PREFIX}_redaction_duration_seconds", "Time to redact and re-encode the images of one upload.",
            buckets=LATENCY_BUCKETS, registry=r,
        )

        # Create the fixed label sets up front so rate() and alerts see 0 instead of no series at all.
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for result in ("success", "failure"):
            self.policy_reloads.labels(result)
        for stage in STAGES:
            self.stage_seconds.labels(stage)
        for reason in CLIENT_REFUSALS:
            self.clients_refused.labels(reason)
        for doc_type in DOCUMENT_TYPES:
            self.documents.labels(doc_type)

    # --- per request -------------------------------------------------------------------------------------------

    def observe_decision(
        self, ctx: RequestContext, decision: Decision, reports: list[ImageReport], latency_seconds: float
    ) -> None:
        """Record one decided upload. Inspection errors are not counted here (the addon reports each one once
        through observe_error()); reports without a sha256 (placeholders for unreadable uploads) are not images."""
        destination = self._destination(ctx.destination)
        action = decision.action.value
        self.uploads.labels(destination, action).inc()
        self.decisions.labels(destination, action, self._rule(decision.rule or "default")).inc()
        if decision.rule == "on_error":
            self.on_error.labels(destination, action).inc()
        self.inspection_seconds.labels(destination).observe(max(0.0, latency_seconds))

        inspectable = [r for r in reports if r.sha256]
        self.images_per_upload.observe(sum(1 for r in inspectable if r.document is None))
        inspected = 0
        for report in inspectable:
            if report.document is None:
                self.images.inc()
            else:
                doc_type = self._doc_type(report.document.type)
                self.documents.labels(doc_type).inc()
                self.document_pages.labels(doc_type).observe(max(0, report.document.pages))
            inspected += max(0, report.size_bytes)
            if report.cached:
                self.cache_hits.inc()
            for finding in report.findings:
                self.findings.labels(self._entity(finding.entity), self._source(finding.source)).inc()
            if not report.cached:  # a cached report's timings belong to its first inspection
                for stage, seconds in report.stage_seconds.items():
                    self.stage_seconds.labels(self._stage(stage)).observe(max(0.0, seconds))
        if inspected:
            self.inspected_bytes.labels(destination).inc(inspected)

    def observe_error(self, kind: str) -> None:
        """Count an error that is not in an ImageReport: InspectionErrorKind values, "addon_exception", "extract"."""
        self.errors.labels(self._kind(kind)).inc()

    def observe_redaction_seconds(self, seconds: float) -> None:
        self.redaction_seconds.observe(max(0.0, seconds))
        self.stage_seconds.labels("redact").observe(max(0.0, seconds))

    def observe_client_refused(self, reason: str) -> None:
        """A client connection refused; `reason` is one of CLIENT_REFUSALS."""
        self.clients_refused.labels(reason if reason in CLIENT_REFUSALS else OTHER).inc()

    def observe_warn_override(self, destination: str) -> None:
        self.warn_overrides.labels(self._destination(destination)).inc()

    def observe_session_piece(self, protocol: str, outcome: str) -> None:
        """One request of an upload session; protocol is a gateway.sessions protocol NAME, outcome one of
        SESSION_OUTCOMES."""
        self.upload_session_pieces.labels(protocol if protocol in SESSION_PROTOCOLS else OTHER,
                                          outcome if outcome in SESSION_OUTCOMES else OTHER).inc()

    def set_sessions(self, count: int, memory_bytes: int, disk_bytes: int, expired: int = 0) -> None:
        self.upload_sessions.set(count)
        self.upload_session_bytes.labels("memory").set(memory_bytes)
        self.upload_session_bytes.labels("disk").set(disk_bytes)
        if expired:
            self.upload_sessions_expired.inc(expired)

    # --- state -------------------------------------------------------------------------------------------------

    def set_pool(self, queue_depth: int, in_flight: int) -> None:
        self.pool_queue.set(queue_depth)
        self.pool_in_flight.set(in_flight)

    def observe_policy_reload(self, success: bool, policy_version: str | None) -> None:
        self.policy_reloads.labels("success" if success else "failure").inc()
        if success:
            self.policy_last_success.set(time.time())
            if policy_version is not None:
                # One series only: the version in force. Old versions are removed, not left at 0.
                self.policy_version.clear()
                self.policy_version.labels(str(policy_version)[:MAX_LABEL_LENGTH]).set(1)

    def set_ready(self, ready: bool, reason: str = "") -> None:
        self._ready = bool(ready)
        self._ready_reason = "" if ready else (reason or "not ready")
        self.ready.set(1 if ready else 0)

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def ready_reason(self) -> str:
        return self._ready_reason


class _Handler(BaseHTTPRequestHandler):
    server: "_MetricsServer"
    # One request per connection: a stopped server must not keep answering on a scraper's kept-alive connection.
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?", 1)[0]
        metrics = self.server.metrics
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(metrics.registry), content_type)
        elif path == "/healthz":
            self._send(200, b"ok\n")
        elif path == "/readyz":
            if metrics.is_ready:
                self._send(200, b"ready\n")
            else:
                self._send(503, f"not ready: {metrics.ready_reason}\n".encode())
        else:
            self._send(404, b"not found\n")

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes every few seconds: stay quiet
        pass


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], metrics: GatewayMetrics) -> None:
        self.metrics = metrics
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self._thread = threading.Thread(target=self.serve_forever, args=(0.2,), name="dlp-metrics-http", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def shutdown(self) -> None:
        """Stop serving and close the socket. Safe to call twice."""
        if self._thread.is_alive():
            super().shutdown()
            self._thread.join(timeout=5)
        self.server_close()


def start_http_server(metrics: GatewayMetrics, host: str, port: int) -> _MetricsServer:
    """Serve /metrics, /healthz and /readyz from a daemon thread. Port 0 picks a free port (see `.port`)."""
    server = _MetricsServer((host, port), metrics)
    server._thread.start()
    return server
