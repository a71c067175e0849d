"""The request path without a proxy: scope -> decode -> extract -> inspect -> decide -> enforce -> record.

What is inspected: the images and documents of the body, and its prompt text (chat messages, prompt fields), which
the policy sees as one more upload of type PROMPT after the documents; a request with only prompt text is decided
too, from text analysis alone (no OCR).

It takes plain request data and returns what to do with the request (forward it unchanged, forward a rebuilt body,
or answer it) plus the record of the decision for metrics and the audit log. The mitmproxy addon only translates
flows to and from these types; tests call the pipeline directly.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from gateway.accounts import account_from_request
from gateway.audit import AuditLog, UploadCompletedEvent, build_audit_event, new_incident_id, rfc3339_now
from gateway.cache import ReportCache
from gateway.content_coding import BodyTooLarge, UndecodableBody, codings, decode_body, encode_body
from gateway.cpus import available_cpus
from gateway.enforce import block_response
from gateway.extract import Extraction, extract
from gateway.extract.apps import file_ids
from gateway.metrics import GatewayMetrics
from gateway.models import (
    Action,
    Decision,
    DocumentFacts,
    Finding,
    HttpRequest,
    ImageReport,
    InspectionError,
    InspectionErrorKind,
    InspectOptions,
    RequestContext,
)
from gateway.policy import Policy
from gateway.prompt import is_prompt_report, merged_report, prompt_sha256, redact_prompts
from gateway.scope import is_upload
from gateway.sessions import (
    PROTOCOLS,
    HeldRequest,
    Piece,
    PieceKind,
    Reply,
    SessionLimitExceeded,
    SessionStore,
    UploadSession,
    read_piece,
    session_key,
)
from gateway.warn import PROCEED_PATH, WarnOverrides, proceed_page
from gateway.websocket import CLOSE_POLICY_VIOLATION, block_frame, message_content_type

log = logging.getLogger(__name__)
T = TypeVar("T")

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


# --- the pipeline -------------------------------------------------------------------------------------------------


class UploadPipeline:
    """Decides uploads. Holds no proxy objects; one policy snapshot is used per call."""

    def __init__(self, policies: PolicySource, inspection: Inspection | None, metrics: GatewayMetrics,
                 cache: ReportCache, overrides: WarnOverrides, proceed_host: str = "dlp-gateway.internal",
                 sessions: SessionStore | None = None) -> None:
        self.policies = policies
        self.sessions = sessions if sessions is not None else SessionStore()
        self.inspection = inspection
        self.metrics = metrics
        self.cache = cache
        self.overrides = overrides
        self.proceed_host = proceed_host
        # Decoding and walking big bodies on at most half the cores, at a lower priority: a burst of bombs queues
        # here, bounded in memory, while the event loop keeps serving everyone else.
        self._body_work = ThreadPoolExecutor(max(1, available_cpus() // 2), thread_name_prefix="dlp-body",
                                             initializer=_lower_thread_priority)

    def close(self) -> None:
        self._body_work.shutdown(wait=False, cancel_futures=True)
        self.sessions.close()

    async def _off_loop(self, fn: Callable[..., T], *args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._body_work, fn, *args)

    def screen(self, head: RequestHead) -> Screened:
        """Scope: is this request an upload to a destination? Refuse an over-size body before it is read."""
        policy = self.policies.current
        dest = policy.destination_for(head.host, head.path, head.method)
        piece = self._read_piece(head, dest)
        if piece is not None:
            return Screened(dest or self._session_destination(piece.key), piece=piece)
        if dest is None or not is_upload(head.method, head.body_size):
            return Screened(None)
        if head.body_size is not None and head.body_size > policy.limits.max_body_bytes:
            early = self._on_error(head, policy, dest, InspectionErrorKind.TOO_LARGE, "request body over the size limit")
            return Screened(dest, early)
        return Screened(dest)

    def is_proceed(self, head: RequestHead) -> bool:
        return head.host == self.proceed_host and head.path.startswith(PROCEED_PATH)

    async def handle(self, req: UploadRequest, destination: str | None, redactable: bool = True) -> Result:
        """The decision on a whole request that `screen` put in scope for `destination` (None: not ours).

        `redactable=False`: the body cannot be rewritten (the pieces of an upload session go upstream as they were
        sent), so a redact decision becomes the rule's redact_fallback, else on_error."""
        if self.is_proceed(req):
            return self.proceed(req)
        if destination is None:
            return Result()
        policy = self.policies.current  # one policy snapshot per request: never half of a reload
        started = time.perf_counter()
        try:
            return await self._decide(req, policy, destination, started, redactable)
        except Exception as err:  # our bug must never let an upload through: apply on_error
            log.exception("DLP pipeline error on %s", req.host)
            self.metrics.observe_error("addon_exception")
            return self._on_error(req, policy, destination, InspectionErrorKind.INTERNAL, type(err).__name__)

    async def _decide(self, req: UploadRequest, policy: Policy, dest: str, started: float,
                      redactable: bool = True) -> Result:
        coding = req.headers.get("content-encoding")
        limit = policy.limits.max_body_bytes
        try:
            # Encoded bodies always go off the loop: a few KiB of brotli can be a gigabyte of output.
            body = await self._off_loop(decode_body, req.body, coding, limit) if codings(coding) \
                else decode_body(req.body, coding, limit)
        except UndecodableBody as err:
            return self._on_error(req, policy, dest, InspectionErrorKind.CORRUPT, f"undecodable Content-Encoding: {err}")
        except BodyTooLarge as err:
            return self._on_error(req, policy, dest, InspectionErrorKind.TOO_LARGE, f"{err} (max_body_bytes)")
        return await self._judge(req, policy, dest, started, body, req.headers.get("content-type"), coding, redactable)

    async def _judge(self, req: UploadRequest, policy: Policy, dest: str, started: float, body: bytes,
                     content_type: str | None, coding: str | None, redactable: bool) -> Result:
        """Extract -> inspect -> decide -> enforce on a decoded body (a request's, a file's or a message's)."""
        headers = {k: v for k, v in req.headers.items() if k != "content-type"}
        if content_type:
            headers["content-type"] = content_type
        args = (HttpRequest(req.method, req.host, req.path, headers), body, policy.limits.max_images_per_request)
        extraction = await self._off_loop(extract, *args) if len(body) > OFF_LOOP_BYTES else extract(*args)
        prompts = extraction.prompts if policy.inspect_options.prompt else []
        if not (extraction.images or extraction.documents or prompts or extraction.undecodable
                or extraction.too_many):
            return Result()  # an in-scope request without images, documents or prompt text: not ours to judge
        incident = new_incident_id()
        rctx = self.context(req, policy, dest, [])
        early = policy.decide_before_inspection(rctx)
        if early is not None:  # e.g. the allowed corporate tenant: no need to read the images
            outcome = self._block(req, early, incident) if early.action in (Action.BLOCK, Action.WARN) else FORWARD
            return Result(outcome, self._record(rctx, early, [], incident, started, policy))
        reports = await self._inspect_all(policy, extraction, prompts)
        for note in extraction.undecodable:
            reports.append(ImageReport("", 0, error=InspectionErrorKind.UNSUPPORTED_FORMAT, error_detail=note))
        if extraction.too_many:
            reports.append(ImageReport("", 0, error=InspectionErrorKind.TOO_MANY_IMAGES))
        rctx = self.context(req, policy, dest, reports)
        decision = policy.decide(rctx, reports)
        outcome: Outcome = FORWARD
        if decision.action is Action.REDACT and not redactable:
            decision = policy.after_redaction_error(decision, InspectionErrorKind.NOT_REDACTABLE,
                                                    "the pieces of an upload session go upstream as they were sent")
        if decision.action is Action.REDACT:
            try:
                rebuilt = await self._redact(policy, extraction, decision, len(body) > OFF_LOOP_BYTES, prompts)
                outcome = ForwardRebuilt(await self._off_loop(encode_body, rebuilt, coding) if codings(coding)
                                         else rebuilt)
            except InspectionError as err:  # content that cannot be rewritten: the rule's redact_fallback
                decision = policy.after_redaction_error(decision, err.kind, str(err))
        override = False
        if decision.action is Action.WARN:
            decision, override, outcome = self._warn(req, rctx, decision, reports, dest, incident)
        elif decision.action is Action.BLOCK:
            outcome = self._block(req, decision, incident)
        return Result(outcome, self._record(rctx, decision, reports, incident, started, policy, override))

    async def _redact(self, policy: Policy, extraction: Extraction, decision: Decision, big: bool,
                      prompts: list) -> bytes:
        """The decoded body rebuilt around the redacted images, documents and prompt texts (other bytes unchanged).

        Report indexes list the images first, then the documents, then the prompt (see _inspect_all)."""
        images, documents, texts = {}, {}, {}
        opts, timeout = policy.inspect_options, policy.limits.inspect_timeout_seconds
        n_uploads = len(extraction.images) + len(extraction.documents)
        for index, findings in decision.redactions.items():
            t0 = time.perf_counter()
            if index < len(extraction.images):
                images[index] = await self.inspection.redact(extraction.images[index].data, findings, opts, timeout)
            elif index < n_uploads:
                doc = extraction.documents[index - len(extraction.images)]
                documents[doc.index] = await self.inspection.redact_document(doc.data, findings, opts, timeout)
            elif prompts:  # the prompt's matched spans become [ENTITY] placeholders
                texts = redact_prompts([p.text for p in prompts], findings)
            self.metrics.observe_redaction_seconds(time.perf_counter() - t0)
        try:
            if big:
                return await self._off_loop(extraction.rebuild, images, documents, texts)
            return extraction.rebuild(images, documents, texts)
        except KeyError as err:  # a text file and an image inside it both changed: no faithful rebuild
            raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, str(err)) from None

    def _warn(self, req: UploadRequest, rctx: RequestContext, decision: Decision, reports: list[ImageReport],
              dest: str, incident: str) -> tuple[Decision, bool, Outcome]:
        """A warned upload passes if its user already chose to proceed for these images; else the coaching page."""
        identity = _warn_identity(rctx)
        shas = [r.sha256 for r in reports if r.sha256]
        if self.overrides.granted(identity, shas):
            allowed = Decision(Action.ALLOW, decision.rule, f"user proceeded after a warning; {decision.reason}",
                               matched=decision.matched)
            return allowed, True, FORWARD
        token = self.overrides.issue(identity, shas, decision.rule, dest)
        return decision, False, self._block(req, decision, incident, f"http://{self.proceed_host}{PROCEED_PATH}{token}")

    def proceed(self, req: RequestHead) -> Result:
        """The user clicked "proceed anyway" on a warning page: grant the warned images, record the override."""
        started = time.perf_counter()
        policy = self.policies.current
        rctx = self.context(req, policy, None, [])
        token = req.path[len(PROCEED_PATH):].split("?", 1)[0]
        grant = self.overrides.redeem(token, _warn_identity(rctx))
        page = proceed_page(grant is not None).encode()
        outcome = Respond(200 if grant else 410, {"Content-Type": "text/html; charset=utf-8",
                                                   "Cache-Control": "no-store"}, page)
        if grant is None:
            return Result(outcome)
        self.metrics.observe_warn_override(grant.destination or "unknown")
        decision = Decision(Action.ALLOW, grant.rule,
                            f"user chose to proceed after a warning ({len(grant.sha256s)} image(s))")
        return Result(outcome, self._record(rctx, decision, [], new_incident_id(), started, policy, override=True))

    async def _inspect_all(self, policy: Policy, extraction: Extraction, prompts: list) -> list[ImageReport]:
        options = policy.inspect_options
        pool = self.inspection

        async def one(data: bytes, document: str | None = None) -> ImageReport:
            sha = hashlib.sha256(data).hexdigest()
            cached = self.cache.get(sha, options)
            if cached is not None:
                return cached
            facts = DocumentFacts(document) if document else None
            if pool is None:
                self.metrics.observe_error(InspectionErrorKind.INTERNAL.value)
                return ImageReport(sha, len(data), document, error=InspectionErrorKind.INTERNAL,
                                   error_detail="no workers yet", document=facts)
            self.metrics.set_pool(pool.waiting + 1, pool.in_flight)
            inspect = pool.inspect_document if document else pool.inspect
            try:
                report = await inspect(data, options, policy.limits.inspect_timeout_seconds)
            except InspectionError as err:
                self.metrics.observe_error(err.kind.value)
                return ImageReport(sha, len(data), document, error=err.kind, error_detail=str(err), document=facts)
            finally:
                self.metrics.set_pool(pool.waiting, pool.in_flight)
            if report.error is not None:
                self.metrics.observe_error(report.error.value)
            self.cache.put(report, options)
            return report

        # Images first, then documents, then the prompt: decision.redactions indexes follow this order (see _redact).
        prompt = [self._inspect_prompt(policy, [p.text for p in prompts])] if prompts else []
        return list(await asyncio.gather(*(one(img.data) for img in extraction.images),
                                         *(one(doc.data, doc.type) for doc in extraction.documents), *prompt))

    async def _inspect_prompt(self, policy: Policy, texts: list[str]) -> ImageReport:
        """One report for the request's prompt texts; texts seen before (earlier turns) come from the cache."""
        options, pool = policy.inspect_options, self.inspection
        reports: list[ImageReport | None] = [self.cache.get(prompt_sha256(t), options) for t in texts]
        missing = [i for i, r in enumerate(reports) if r is None]
        if missing:
            try:
                if pool is None:
                    raise InspectionError(InspectionErrorKind.INTERNAL, "no workers yet")
                self.metrics.set_pool(pool.waiting + 1, pool.in_flight)
                try:
                    got = await pool.inspect_prompt([texts[i] for i in missing], options,
                                                    policy.limits.inspect_timeout_seconds)
                finally:
                    self.metrics.set_pool(pool.waiting, pool.in_flight)
            except InspectionError as err:
                self.metrics.observe_error(err.kind.value)
                got = [ImageReport(prompt_sha256(texts[i]), 0, "PROMPT", error=err.kind, error_detail=str(err))
                       for i in missing]
            for i, report in zip(missing, got):
                reports[i] = report
                self.cache.put(report, options)
        return merged_report(texts, reports)

    # --- upload sessions (gateway.sessions) ---------------------------------------------------------------------

    def _read_piece(self, head: RequestHead, dest: str | None) -> Piece | None:
        """A request of an upload session: to an in-scope host, or to a session URL the store holds."""
        known = self.sessions.knows(session_key(head.host, head.path))
        if dest is None and not known:
            return None
        return read_piece(head.method, head.host, head.path, head.headers, known)

    def _session_destination(self, key: str) -> str | None:
        session = self.sessions.get(key)
        return session.destination if session is not None else None

    def sweep_sessions(self) -> int:
        """Drop sessions idle past their timeout (their held bytes never went anywhere); returns how many."""
        expired = self.sessions.sweep()
        for session in expired:
            log.info("upload session %s expired unfinished after %d piece(s), %d bytes held: dropped",
                     session.upload_id, session.pieces, session.received)
        self.metrics.set_sessions(self.sessions.count, self.sessions.memory_bytes, self.sessions.disk_bytes,
                                  len(expired))
        return len(expired)

    def session_started(self, head: RequestHead, piece: Piece, status: int, headers: Mapping[str, str],
                        upload_id: str, destination: str | None) -> None:
        """The upstream's answer to a session start (Google `start`): remember the session URL it handed out."""
        key = PROTOCOLS[piece.protocol].session_url_key(status, headers)
        if key is not None:
            self.sessions.open(key, piece.protocol, upload_id, destination, piece.content_type, piece.total)
            self.metrics.set_sessions(self.sessions.count, self.sessions.memory_bytes, self.sessions.disk_bytes)

    def wants_answer(self, head: RequestHead) -> bool:
        """Whether the file id of this (forwarded) upload is in the service's answer body, so it is worth reading."""
        return file_ids.wants_answer(_http_request(head))

    def upload_completed(self, head: RequestHead, answer: ServiceAnswer, incident_id: str, upload_id: str | None,
                         destination: str | None) -> UploadCompletedEvent | None:
        """The follow-up audit event of a forwarded upload whose service named the stored file, else None."""
        body = answer.body
        if body is not None:
            try:
                body = decode_body(body, answer.headers.get("content-encoding"), file_ids.MAX_ANSWER_BYTES)
            except (BodyTooLarge, UndecodableBody):
                body = None
        found = file_ids.file_id(_http_request(head), answer.status, answer.headers.get("content-type", ""), body)
        if found is None:
            return None
        return UploadCompletedEvent(rfc3339_now(), "upload_completed", incident_id, upload_id, found.value, found.app,
                                    head.host, destination, head.client_ip, answer.status)

    async def handle_piece(self, req: UploadRequest, piece: Piece, held: HeldRequest,
                           destination: str | None) -> Result:
        """One request of a chunked/resumable upload: forwarded (no file bytes), held and answered in the service's
        place, judged with every held byte (the last piece), or refused. Nothing of an unjudged file leaves."""
        policy = self.policies.current
        self.sweep_sessions()
        try:
            result = await self._piece(req, piece, held, destination, policy)
        except Exception as err:  # our bug must never let a chunk through on its own
            log.exception("DLP upload session error on %s", req.host)
            self.metrics.observe_error("addon_exception")
            session = self.sessions.get(piece.key)
            if session is None:
                result = self._on_error(req, policy, destination, InspectionErrorKind.INTERNAL, type(err).__name__)
                if not isinstance(result.outcome, Respond):
                    result.outcome = self._refusal_answer(req, result)
            else:
                result = self._session_error(session, piece, req, policy, InspectionErrorKind.INTERNAL,
                                             type(err).__name__)
        self.metrics.set_sessions(self.sessions.count, self.sessions.memory_bytes, self.sessions.disk_bytes)
        self.metrics.observe_session_piece(piece.protocol, _piece_outcome(piece, result.outcome))
        return result

    async def _piece(self, req: UploadRequest, piece: Piece, held: HeldRequest, destination: str | None,
                     policy: Policy) -> Result:
        protocol = PROTOCOLS[piece.protocol]
        if piece.kind is PieceKind.START:  # no file bytes: judged as the request it is, the session opens on its answer
            result = await self.handle(req, destination)
            result.upload_id = new_upload_id()
            if result.record is not None:
                result.record.upload_id, result.record.pieces = result.upload_id, 1
            return result
        refusal = self.sessions.refusal(piece.key)
        if refusal is not None:
            return Result(refusal.answer, upload_id=refusal.upload_id)
        session = self.sessions.get(piece.key)
        if session is None:
            if piece.kind is PieceKind.CANCEL:
                return Result()
            if not protocol.opens(piece):
                return self._unknown_session(req, policy, destination)
            session = self.sessions.open(piece.key, piece.protocol, new_upload_id(), destination,
                                         req.headers.get("content-type"), piece.total, pieces=0)
        self.sessions.mark_piece(session)
        tagged = lambda outcome: Result(outcome, upload_id=session.upload_id)  # noqa: E731
        if session.passthrough or piece.kind is PieceKind.CANCEL:
            if piece.kind in (PieceKind.FINAL, PieceKind.CANCEL):
                self.sessions.drop(session.key)
            return tagged(FORWARD)
        if piece.kind is PieceKind.QUERY:
            return tagged(_respond(protocol.status(req.host, session)))
        problem = piece.detail if piece.kind is PieceKind.INVALID else _chunk_problem(req, piece, session)
        if problem:
            return tagged(_respond(protocol.mismatch(req.host, session, problem)))
        if codings(req.headers.get("content-encoding")):
            return self._session_error(session, piece, req, policy, InspectionErrorKind.UNSUPPORTED_FORMAT,
                                       "a content-encoded chunk of an upload session")
        if piece.kind is PieceKind.FINAL:
            return await self._finalize(session, piece, req, policy)
        return await self._hold(session, piece, req, held, policy)

    async def _hold(self, session: UploadSession, piece: Piece, req: UploadRequest, held: HeldRequest,
                    policy: Policy) -> Result:
        """A chunk that is not the last: kept, and answered as the service answers an accepted chunk."""
        try:
            if len(held.body) > OFF_LOOP_BYTES:  # a spilled chunk is written to disk: not on the event loop
                await self._off_loop(self.sessions.hold, session, held, policy.limits.max_body_bytes)
            else:
                self.sessions.hold(session, held, policy.limits.max_body_bytes)
        except SessionLimitExceeded as err:
            return self._session_error(session, piece, req, policy, InspectionErrorKind.TOO_LARGE, str(err))
        reply = PROTOCOLS[session.protocol].interim(req.host, session)
        return Result(_respond(reply), upload_id=session.upload_id)

    async def _finalize(self, session: UploadSession, piece: Piece, req: UploadRequest, policy: Policy) -> Result:
        """The last piece: the whole file, judged like a raw upload of it; then replayed upstream, or refused."""
        if session.received + len(req.body) > policy.limits.max_body_bytes:
            return self._session_error(session, piece, req, policy, InspectionErrorKind.TOO_LARGE,
                                       f"upload session over {policy.limits.max_body_bytes} bytes (max_body_bytes)")
        session.busy = True  # OCR may take longer than the session timeout: the sweeper must wait
        held = await self._off_loop(self.sessions.assemble, session) if session.received > OFF_LOOP_BYTES \
            else self.sessions.assemble(session)
        data = held + req.body
        whole = UploadRequest(req.method, req.host, req.path, _file_headers(req, session, len(data)), req.client_ip,
                              req.proxy_user, len(data), data)
        result = await self.handle(whole, session.destination, redactable=False)
        return self._session_outcome(session, piece, result)

    def _session_error(self, session: UploadSession, piece: Piece, req: UploadRequest, policy: Policy,
                       kind: InspectionErrorKind, detail: str) -> Result:
        """A limit or failure in a session: on_error decides, for the whole session."""
        result = self._on_error(req, policy, session.destination, kind, detail)
        if not isinstance(result.outcome, Respond):  # let through uninspected: the rest passes as it comes
            session.passthrough = True
        return self._session_outcome(session, piece, result)

    def _session_outcome(self, session: UploadSession, piece: Piece, result: Result) -> Result:
        """A session's decision carried out: refuse it (this and every later piece), or replay what is held."""
        if result.record is not None:
            result.record.upload_id, result.record.pieces = session.upload_id, session.pieces
        if isinstance(result.outcome, Respond):
            self.sessions.refuse(session, result.outcome)
            return Result(result.outcome, result.record, session.upload_id)
        final = piece.kind is PieceKind.FINAL

        session.busy = True

        def release() -> None:
            session.busy = False
            if final:
                self.sessions.drop(session.key)
            else:
                self.sessions.release_chunks(session)

        replay = ReplayHeld(lambda: self.sessions.held(session), PROTOCOLS[session.protocol].accepts, release)
        return Result(replay, result.record, session.upload_id)

    def _unknown_session(self, req: UploadRequest, policy: Policy, dest: str | None) -> Result:
        """A piece of a session this gateway does not hold: refused whatever on_error says (never forwarded)."""
        decision = Decision(Action.BLOCK, "unknown_upload_session",
                            "a piece of an upload session this gateway does not hold (it expired, or it began on "
                            "another replica or before a restart): refused, never forwarded; start the upload again")
        incident = new_incident_id()
        self.metrics.observe_error("unknown_upload_session")
        rctx = self.context(req, policy, dest, [])
        return Result(self._block(req, decision, incident), self._record(rctx, decision, [], incident,
                                                                          time.perf_counter(), policy))

    def _refusal_answer(self, req: RequestHead, result: Result) -> Respond:
        decision = result.record.decision if result.record else Decision(Action.BLOCK, "on_error", "internal error")
        return self._block(req, decision, result.record.incident_id if result.record else new_incident_id())

    # --- WebSocket messages ---------------------------------------------------------------------------------------

    def websocket_destination(self, head: RequestHead) -> str | None:
        """The destination of a WebSocket: its messages are uploads whatever the handshake's method."""
        return self.policies.current.destination_for(head.host, head.path, None)

    async def handle_message(self, head: RequestHead, content: bytes, is_text: bool, destination: str) -> Result:
        """One client-to-server WebSocket message, judged like a request body: forwarded untouched, rewritten
        (redact), or dropped with the app's own error message or a policy-violation close (block, warn)."""
        policy = self.policies.current
        started = time.perf_counter()
        req = UploadRequest("WEBSOCKET", head.host, head.path, head.headers, head.client_ip, head.proxy_user,
                            len(content), content)
        try:
            if len(content) > policy.limits.max_body_bytes:
                result = self._on_error(req, policy, destination, InspectionErrorKind.TOO_LARGE,
                                        "WebSocket message over the size limit (max_body_bytes)")
            else:
                result = await self._judge(req, policy, destination, started, content,
                                           message_content_type(content, is_text), None, True)
        except Exception as err:
            log.exception("DLP WebSocket message error on %s", head.host)
            self.metrics.observe_error("addon_exception")
            result = self._on_error(req, policy, destination, InspectionErrorKind.INTERNAL, type(err).__name__)
        if isinstance(result.outcome, Respond) and result.record is not None:
            record = result.record
            frame = block_frame(head.host, record.decision, record.incident_id, content if is_text else b"")
            reason = f"DLP policy: {record.decision.rule or 'default'} (incident {record.incident_id})"
            result.outcome = DropMessage(frame[0], frame[1]) if frame else DropMessage(close_reason=reason)
        elif isinstance(result.outcome, Respond):
            result.outcome = DropMessage(close_reason="DLP policy")
        return result

    def context(self, head: RequestHead, policy: Policy, dest: str | None,
                reports: list[ImageReport]) -> RequestContext:
        """Who sends what where, with the user from proxy auth or the policy's SSO header."""
        identity = policy.identity
        user, source = head.proxy_user, "proxy_auth"
        if user is None and identity.user_header:
            user, source = head.headers.get(identity.user_header.lower()), "header"
        if user is None:  # no proxy authentication: the account the user is signed in to the app with
            user, source = account_from_request(head.headers, head.path), "session_token"
        header_groups = head.headers.get(identity.groups_header.lower()) if identity.groups_header else None
        return RequestContext(
            host=head.host,
            path=head.path,
            method=head.method,
            destination=dest,
            client_ip=head.client_ip,
            user=user,
            user_source=source if user is not None else None,
            groups=identity.groups_for(user, header_groups),
            image_count=sum(1 for r in reports if r.sha256 and not is_prompt_report(r)),
            total_image_bytes=sum(r.size_bytes for r in reports if not is_prompt_report(r)),
            headers=head.headers,
        )

    def _block(self, head: RequestHead, decision: Decision, incident: str, proceed_url: str = "") -> Respond:
        resp = block_response(head.host, decision, incident, accept=head.headers.get("accept", ""),
                              sec_fetch_mode=head.headers.get("sec-fetch-mode", ""), proceed_url=proceed_url)
        return Respond(resp.status, resp.headers, resp.body)

    def _on_error(self, head: RequestHead, policy: Policy, dest: str, kind: InspectionErrorKind,
                  detail: str) -> Result:
        started = time.perf_counter()
        self.metrics.observe_error(kind.value)
        decision = on_error_decision(policy, kind, detail)
        report = ImageReport("", 0, error=kind, error_detail=detail)
        incident = new_incident_id()
        # The policy language refuses on_error: redact, so this either answers or lets the request pass untouched.
        outcome = self._block(head, decision, incident) if decision.action in (Action.BLOCK, Action.WARN) else FORWARD
        rctx = self.context(head, policy, dest, [report])
        return Result(outcome, self._record(rctx, decision, [report], incident, started, policy))

    @staticmethod
    def _record(rctx: RequestContext, decision: Decision, reports: list[ImageReport], incident: str, started: float,
                policy: Policy, override: bool = False) -> Record:
        return Record(rctx, decision, reports, incident, time.perf_counter() - started, policy.version_id, override)


class Recorder:
    """Writes each decision's record: Prometheus metrics and one audit line."""

    def __init__(self, metrics: GatewayMetrics, audit: AuditLog | None = None) -> None:
        self.metrics = metrics
        self.audit = audit

    def write(self, record: Record) -> None:
        self.metrics.observe_decision(record.context, record.decision, record.reports, record.latency_seconds)
        if self.audit is not None:
            self.audit.write(build_audit_event(record.context, record.decision, record.reports, record.incident_id,
                                               record.latency_seconds, record.policy_version, record.override,
                                               upload_id=record.upload_id, upload_pieces=record.pieces))

    def write_completed(self, event: UploadCompletedEvent) -> None:
        if self.audit is not None:
            self.audit.write(event)


def _http_request(head: RequestHead) -> HttpRequest:
    return HttpRequest(head.method, head.host, head.path, head.headers)


def _lower_thread_priority() -> None:
    """Body work is batch work: the event loop's thread wins the CPU whenever both want it (Linux: per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def on_error_decision(policy: Policy, kind: InspectionErrorKind, detail: str) -> Decision:
    return Decision(
        action=policy.on_error,
        rule="on_error",
        reason=f"the upload could not be inspected ({kind.value}: {detail}); policy on_error is {policy.on_error.value}",
    )


def _respond(reply: Reply) -> Respond:
    return Respond(reply.status, dict(reply.headers), reply.body)


def _chunk_problem(req: UploadRequest, piece: Piece, session: UploadSession) -> str:
    """Why a chunk does not continue its session ("" when it does)."""
    if piece.offset is not None and piece.offset != session.received:
        return f"chunk at byte {piece.offset}, but {session.received} bytes were received"
    if piece.length is not None and piece.length != len(req.body):
        return f"Content-Range says {piece.length} bytes, the body has {len(req.body)}"
    if piece.total is not None and session.total is not None and piece.total != session.total:
        return f"the file size changed from {session.total} to {piece.total}"
    return ""


_SESSION_HEADERS = ("content-range", "content-encoding", "content-length", "x-goog-upload-command",
                    "x-goog-upload-offset")


def _file_headers(req: UploadRequest, session: UploadSession, size: int) -> dict[str, str]:
    """The headers of a raw upload of the whole file: the last piece's, with the file's own type and size."""
    headers = {k: v for k, v in req.headers.items() if k not in _SESSION_HEADERS}
    headers["content-length"] = str(size)
    if session.content_type:
        headers["content-type"] = session.content_type
    return headers


def _piece_outcome(piece: Piece, outcome: Outcome) -> str:
    """The metrics label of what happened to one piece."""
    if isinstance(outcome, ReplayHeld):
        return "replayed"
    if isinstance(outcome, Respond):
        if outcome.status == 403:
            return "refused"
        return "held" if piece.kind is PieceKind.CHUNK and outcome.status < 400 else "answered"
    return "forwarded"


def _warn_identity(rctx: RequestContext) -> str:
    """Who a warn grant belongs to: the proxy or SSO user, else the client IP. Not an app account: the click on
    the proceed link goes to the gateway's own page, which gets no app token."""
    if rctx.user and rctx.user_source != "session_token":
        return rctx.user
    return rctx.client_ip
