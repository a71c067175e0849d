"""The JSON audit log: one event per decided upload, one JSON object per line (plus an `upload_completed` line
when the service names the file it stored).

An event says who sent how many images and documents where, what was decided and which entity *types* were found
how often. It never contains detected text, image bytes, file or member names, or the request path.
"""

from __future__ import annotations

import base64
import json
import logging
import logging.handlers
import os
import secrets
import sys
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from gateway.models import Decision, ImageReport, RequestContext


@dataclass
class AuditEvent:
    time: str  # RFC 3339, UTC, millisecond precision
    incident_id: str
    client_ip: str
    user: str | None
    destination_host: str
    destination_group: str | None
    method: str
    action: str
    rule: str | None
    reason: str
    entities: dict[str, int] = field(default_factory=dict)  # entity type -> number of findings
    images: list[dict] = field(default_factory=list)  # {sha256, size_bytes, format, error}
    # {sha256, size_bytes, type, pages, members, images, rendered_pages, error}: counts, never names or text
    documents: list[dict] = field(default_factory=list)
    latency_ms: float = 0.0
    policy_version: str = ""
    override: bool = False
    # One id for every request of one chunked/resumable upload session (start, chunks, last chunk), so the SOC sees
    # one upload; None for an upload in one request. upload_pieces: the session's requests up to this decision.
    upload_id: str | None = None
    upload_pieces: int = 0
    user_source: str | None = None  # "proxy_auth", "header" or "session_token" (the account signed in to the app)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"), sort_keys=False)


@dataclass
class UploadCompletedEvent:
    """A follow-up line to an upload's decision: the service accepted it and named the file `file_id`.

    Written after the service's answer, so it joins the decision by `incident_id` (and `upload_id` for a session).
    """

    time: str
    event: str  # always "upload_completed"; decision lines have no "event" key
    incident_id: str
    upload_id: str | None
    file_id: str
    app: str
    destination_host: str
    destination_group: str | None
    client_ip: str
    status: int  # the service's HTTP status

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def rfc3339_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_incident_id() -> str:
    """16 lowercase base32 characters (80 random bits): short, unique and safe in URLs and on the phone."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def build_audit_event(
    ctx: RequestContext,
    decision: Decision,
    reports: list[ImageReport],
    incident_id: str,
    latency_seconds: float,
    policy_version: str,
    override: bool = False,
    upload_id: str | None = None,
    upload_pieces: int = 0,
) -> AuditEvent:
    """Build the event from typed data only; nothing here can carry detected text."""
    entities = Counter(f.entity for r in reports for f in r.findings)
    return AuditEvent(
        time=rfc3339_now(),
        incident_id=incident_id,
        client_ip=ctx.client_ip,
        user=ctx.user,
        destination_host=ctx.host,
        destination_group=ctx.destination,
        method=ctx.method,
        action=decision.action.value,
        rule=decision.rule,
        reason=decision.reason,
        entities=dict(sorted(entities.items())),
        images=[
            {
                "sha256": r.sha256,
                "size_bytes": r.size_bytes,
                "format": r.format,
                "error": r.error.value if r.error is not None else None,
            }
            for r in reports if r.document is None
        ],
        documents=[_document_entry(r) for r in reports if r.document is not None],
        latency_ms=round(max(0.0, latency_seconds) * 1000.0, 1),
        policy_version=policy_version,
        override=override,
        upload_id=upload_id,
        upload_pieces=upload_pieces,
        user_source=ctx.user_source,
    )


def _document_entry(r: ImageReport) -> dict:
    facts = r.document
    return {
        "sha256": r.sha256,
        "size_bytes": r.size_bytes,
        "type": facts.type,
        "pages": facts.pages,
        "members": facts.members,
        "images": facts.images,
        "rendered_pages": facts.rendered_pages,
        "error": r.error.value if r.error is not None else None,
    }


def _syslog_handler(target: str) -> logging.Handler:
    """"syslog" -> the local socket (/dev/log) or localhost:514/udp; "syslog://host:port" (UDP) or
    "syslog+tcp://host:port"."""
    if target == "syslog":
        address: str | tuple[str, int] = "/dev/log" if os.path.exists("/dev/log") else ("localhost", 514)
        socktype = None
    else:
        url = urlsplit(target)
        if url.scheme not in ("syslog", "syslog+udp", "syslog+tcp") or not url.hostname:
            raise ValueError(f"bad syslog target {target!r}: use syslog, syslog://host:port or syslog+tcp://host:port")
        address = (url.hostname, url.port or 514)
        import socket

        socktype = socket.SOCK_STREAM if url.scheme == "syslog+tcp" else socket.SOCK_DGRAM
    handler = logging.handlers.SysLogHandler(
        address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV, socktype=socktype
    )
    handler.ident = "dlp-gateway: "
    handler.append_nul = False
    return handler


class AuditLog:
    """Writes AuditEvents as JSON lines to stdout, a rotating file or syslog. Thread-safe.

    A failing sink (full disk, syslog down) is reported on stderr and never raises into the proxy.
    """

    def __init__(self, target: str = "-", max_bytes: int = 50 * 2**20, backups: int = 5) -> None:
        self.target = target
        if target in ("-", "stdout", ""):
            handler: logging.Handler = logging.StreamHandler(sys.stdout)
        elif target == "stderr":
            handler = logging.StreamHandler(sys.stderr)
        elif target == "syslog" or target.startswith("syslog"):
            handler = _syslog_handler(target)
        else:
            directory = os.path.dirname(os.path.abspath(target))
            if not os.path.isdir(directory):  # fail loudly at start-up, not on the first upload
                raise FileNotFoundError(f"audit log directory does not exist: {directory}")
            handler = logging.handlers.RotatingFileHandler(
                target, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self._handler = handler
        self._lock = threading.Lock()
        self._closed = False

    def write(self, event: AuditEvent | UploadCompletedEvent) -> None:
        record = logging.makeLogRecord({"msg": event.to_json(), "levelno": logging.INFO, "levelname": "INFO"})
        with self._lock:
            if self._closed:
                return
            # emit() flushes every line; its errors go to handleError(): printed on stderr, never raised.
            self._handler.handle(record)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._handler.flush()
                self._handler.close()  # closes a file; a StreamHandler leaves stdout open
