"""UploadPipeline: the request path (screen, extract, inspect, decide, redact, warn, record) and its Recorder."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from gateway.accounts import account_from_request
from gateway.audit import (
    AuditLog,
    UploadCompletedEvent,
    build_audit_event,
    new_incident_id,
)
from gateway.cache import ReportCache
from gateway.content_coding import (
    BodyTooLarge,
    UndecodableBody,
    codings,
    decode_body,
    encode_body,
)
from gateway.cpus import available_cpus
from gateway.enforce import block_response
from gateway.extract import Extraction, extract
from gateway.metrics import GatewayMetrics
from gateway.models import (
    Action,
    Decision,
    DocumentFacts,
    HttpRequest,
    ImageReport,
    InspectionError,
    InspectionErrorKind,
    RequestContext,
)
from gateway.pipeline.cooldown import BombCooldown
from gateway.pipeline.messages import MessageSteps
from gateway.pipeline.sessions import SessionSteps
from gateway.pipeline.values import (
    FORWARD,
    OFF_LOOP_BYTES,
    ForwardRebuilt,
    Inspection,
    Outcome,
    PolicySource,
    Record,
    RequestHead,
    Respond,
    Result,
    Screened,
    UploadRequest,
)
from gateway.policy import Policy
from gateway.prompt import (
    is_prompt_report,
    merged_report,
    prompt_sha256,
    redact_prompts,
)
from gateway.scope import is_upload
from gateway.sessions import (
    SessionStore,
)
from gateway.warn import PROCEED_PATH, WarnOverrides, proceed_page

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- the pipeline -------------------------------------------------------------------------------------------------


class UploadPipeline(SessionSteps, MessageSteps):
    """Decides uploads. Holds no proxy objects; one policy snapshot is used per call."""

    def __init__(self, policies: PolicySource, inspection: Inspection | None, metrics: GatewayMetrics,
                 cache: ReportCache, overrides: WarnOverrides, proceed_host: str = "dlp-gateway.internal",
                 sessions: SessionStore | None = None, bomb_cooldown: BombCooldown | None = None) -> None:
        self.policies = policies
        self.bomb_cooldown = bomb_cooldown if bomb_cooldown is not None else BombCooldown()
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
        left = self.bomb_cooldown.remaining(head.client_ip) if codings(head.headers.get("content-encoding")) else 0
        if left and policy.on_error is Action.BLOCK:
            detail = (f"this client sent a decompression bomb: its encoded bodies are refused without decoding for "
                      f"{left:.0f} s more")
            return Screened(dest, self._on_error(head, policy, dest, InspectionErrorKind.TOO_LARGE, detail))
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
            if codings(coding):
                self.bomb_cooldown.mark(req.client_ip)
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

    # --- shared steps ------------------------------------------------------------------------------------------

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


def _warn_identity(rctx: RequestContext) -> str:
    """Who a warn grant belongs to: the proxy or SSO user, else the client IP. Not an app account: the click on
    the proceed link goes to the gateway's own page, which gets no app token."""
    if rctx.user and rctx.user_source != "session_token":
        return rctx.user
    return rctx.client_ip
