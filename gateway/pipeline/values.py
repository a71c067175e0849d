"""The pipeline's plain request and result types, and what it needs from inspection and policy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gateway.audit import new_incident_id
from gateway.models import (
    Decision,
    Finding,
    HttpRequest,
    ImageReport,
    InspectOptions,
    RequestContext,
)
from gateway.policy import Policy
from gateway.sessions import (
    HeldRequest,
    Piece,
)
from gateway.websocket import CLOSE_POLICY_VIOLATION

log = logging.getLogger(__name__)

OFF_LOOP_BYTES = 256_000  # walking a larger JSON body takes a while in Python: do it off the event loop


# --- what goes in -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestHead:
    """A request before its body arrived: enough to tell whether it is ours."""

    method: str
    host: str  # the host the client asked for (Host / :authority / SNI), without port
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    client_ip: str = ""
    proxy_user: str | None = None  # authenticated by the proxy (mitmproxy --proxyauth)
    body_size: int | None = None  # Content-Length or the known body size; None when unknown (chunked)


@dataclass(frozen=True)
class UploadRequest(RequestHead):
    """A whole request. `body` is as it came over the wire: still in its Content-Encoding."""

    body: bytes = b""


@dataclass(frozen=True)
class ServiceAnswer:
    """The service's answer to a forwarded upload. `body` is as sent (still in its Content-Encoding), or None when it
    was not read: not wanted (`UploadPipeline.wants_answer`), streamed, or over file_ids.MAX_ANSWER_BYTES."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes | None = None


# --- what comes out -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forward:
    """Send the request on unchanged."""


@dataclass(frozen=True)
class ForwardRebuilt:
    """Send the request on with this body (already in the request's Content-Encoding)."""

    body: bytes


@dataclass(frozen=True)
class Respond:
    """Answer the client; nothing reaches the server."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class ReplayHeld:
    """Send the held requests of an upload session upstream, in order, then this request (the last piece).

    `accepts(status, headers)` says whether the upstream took a held request; at the first it did not, its answer
    goes to the client instead of this request. `release` frees the held bytes once they were sent (or not)."""

    requests: Callable[[], Iterator[HeldRequest]]
    accepts: Callable[[int, Mapping[str, str]], bool]
    release: Callable[[], None]


@dataclass(frozen=True)
class DropMessage:
    """A WebSocket message that must not reach the server: drop it, then send `reply` to the client (the app's own
    error message) or, when there is none, close the socket with `close_code`."""

    reply: bytes | None = None
    reply_is_text: bool = True
    close_code: int = CLOSE_POLICY_VIOLATION
    close_reason: str = ""


Outcome = Forward | ForwardRebuilt | Respond | ReplayHeld | DropMessage
FORWARD = Forward()


@dataclass
class Record:
    """One decision, as metrics and the audit log see it."""

    context: RequestContext
    decision: Decision
    reports: list[ImageReport]
    incident_id: str
    latency_seconds: float
    policy_version: str
    override: bool = False
    upload_id: str | None = None  # the upload session this request belongs to
    pieces: int = 0  # requests of that session so far


@dataclass
class Result:
    outcome: Outcome = FORWARD
    record: Record | None = None
    upload_id: str | None = None  # set for every request of an upload session


def new_upload_id() -> str:
    return "up-" + new_incident_id()


@dataclass(frozen=True)
class Screened:
    """The verdict on a request head: in scope for `destination`, and an early answer if one is due already."""

    destination: str | None
    early: Result | None = None
    piece: Piece | None = None  # a request of a chunked/resumable upload session (gateway.sessions)


class Inspection(Protocol):
    """Where images and documents are read and redacted (gateway.workers.InspectionPool, or a stand-in in tests)."""

    waiting: int
    in_flight: int

    async def inspect(self, data: bytes, options: InspectOptions, timeout: float) -> ImageReport: ...

    async def redact(self, data: bytes, findings: list[Finding], options: InspectOptions, timeout: float) -> bytes: ...

    async def inspect_document(self, data: bytes, options: InspectOptions, timeout: float) -> ImageReport: ...

    async def redact_document(self, data: bytes, findings: list[Finding], options: InspectOptions,
                              timeout: float) -> bytes: ...

    async def inspect_prompt(self, texts: list[str], options: InspectOptions, timeout: float) -> list[ImageReport]: ...


class PolicySource(Protocol):
    @property
    def current(self) -> Policy: ...


def _http_request(head: RequestHead) -> HttpRequest:
    return HttpRequest(head.method, head.host, head.path, head.headers)
