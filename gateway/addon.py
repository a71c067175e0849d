"""The mitmproxy addon: thin wiring of scope -> extract -> inspect -> policy -> enforce -> metrics + audit.

Load it with `dlp-gateway run`, or with plain `mitmdump -s gateway/addon.py` in an existing mitmproxy setup.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import signal
import time

from mitmproxy import ctx, exceptions, http

from gateway.audit import AuditLog, build_audit_event, new_incident_id
from gateway.cache import ReportCache
from gateway.clients import ClientAcl
from gateway.enforce import block_response
from gateway.extract import extract_images
from gateway.metrics import GatewayMetrics, start_http_server
from gateway.models import (
    Action,
    Decision,
    ImageReport,
    InspectionError,
    InspectionErrorKind,
    RequestContext,
)
from gateway.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, PolicyStore
from gateway.scope import is_upload
from gateway.warn import PROCEED_PATH, WarnOverrides, proceed_page
from gateway.workers import InspectionPool

log = logging.getLogger(__name__)


class DlpGateway:
    """Inspects image uploads to the policy's AI destinations and blocks, redacts or allows them."""

    def __init__(self) -> None:
        self.store: PolicyStore | None = None
        self.metrics = GatewayMetrics()
        self.cache = ReportCache()
        self.pool: InspectionPool | None = None
        self.audit: AuditLog | None = None
        self._metrics_server = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._managed_allow_hosts = False
        self.overrides = WarnOverrides()

    # --- configuration ---------------------------------------------------------------------------------------

    def load(self, loader) -> None:
        loader.add_option("dlp_policy", str, "", "Policy YAML file (default: the shipped policies/default.yaml).")
        loader.add_option("dlp_metrics_host", str, "0.0.0.0", "Address for /metrics, /healthz and /readyz.")
        loader.add_option("dlp_metrics_port", int, 9090, "Port for /metrics, /healthz and /readyz (0: off).")
        loader.add_option("dlp_audit_log", str, "-", 'Audit log: "-" for stdout, a file path (rotated), or "syslog".')
        loader.add_option("dlp_workers", int, 1, "Inspection worker processes (each loads its own models).")
        loader.add_option("dlp_cache_entries", int, 4096, "Inspection reports kept by image hash (0: no cache).")
        loader.add_option("dlp_warn_secret", str, "", "HMAC secret for warn 'proceed' links (share it across replicas).")
        loader.add_option(
            "dlp_proceed_host", str, "dlp-gateway.internal", "Host name of the gateway's own 'proceed anyway' pages."
        )
        loader.add_option(
            "dlp_intercept_only_destinations",
            bool,
            True,
            "Decrypt only the policy's destination hosts (sets allow_hosts); all other traffic passes untouched.",
        )

    def configure(self, updated: set[str]) -> None:
        if "dlp_workers" in updated and not 1 <= ctx.options.dlp_workers <= 64:
            raise exceptions.OptionsError(f"dlp_workers must be 1..64, not {ctx.options.dlp_workers}")
        if "dlp_metrics_port" in updated and not 0 <= ctx.options.dlp_metrics_port <= 65535:
            raise exceptions.OptionsError(f"dlp_metrics_port must be 0..65535, not {ctx.options.dlp_metrics_port}")
        if "dlp_cache_entries" in updated:
            if ctx.options.dlp_cache_entries < 0:
                raise exceptions.OptionsError("dlp_cache_entries must be >= 0")
            self.cache.max_entries = ctx.options.dlp_cache_entries
        if "dlp_warn_secret" in updated and ctx.options.dlp_warn_secret:
            self.overrides.secret = ctx.options.dlp_warn_secret.encode()
        if "dlp_policy" in updated:
            path = ctx.options.dlp_policy or str(DEFAULT_POLICY_PATH)
            try:
                store = PolicyStore(path)
            except PolicyError as err:  # fail loudly at start-up
                raise exceptions.OptionsError(f"invalid DLP policy:\n{err}") from None
            except OSError as err:
                raise exceptions.OptionsError(f"cannot read DLP policy {path}: {err}") from None
            if self.store is not None:
                self.store.stop_watching()
            self.store = store
            store.on_reload.append(self._policy_reloaded)
            self.cache.clear()
            self.metrics.observe_policy_reload(True, store.current.version_id)
            log.info("DLP policy %r loaded from %s", store.current.name, path)
        if updated & {"dlp_policy", "dlp_intercept_only_destinations", "allow_hosts", "ignore_hosts"}:
            self._update_allow_hosts()

    def _update_allow_hosts(self) -> None:
        """Decrypt only destination hosts, unless the operator chose allow_hosts/ignore_hosts themselves."""
        if not ctx.options.dlp_intercept_only_destinations or self.store is None:
            return
        user_set = (ctx.options.allow_hosts and not self._managed_allow_hosts) or ctx.options.ignore_hosts
        if user_set:
            return
        proceed = "^" + re.escape(ctx.options.dlp_proceed_host) + r"(?::\d+)?$"
        wanted = sorted(set(self.store.current.intercept_host_regexes()) | {proceed})
        if list(ctx.options.allow_hosts) != wanted:
            self._managed_allow_hosts = True
            ctx.options.update(allow_hosts=wanted)

    def _policy_reloaded(self, policy: Policy | None, success: bool, error: str) -> None:
        self.metrics.observe_policy_reload(success, policy.version_id if policy else None)
        if success:
            self.cache.clear()
            log.info("DLP policy reloaded (%s)", policy.version_id if policy else "?")
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._update_allow_hosts)
        else:
            log.error("DLP policy reload refused, the previous policy stays active:\n%s", error)

    async def running(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.audit = AuditLog(ctx.options.dlp_audit_log)
        if ctx.options.dlp_metrics_port:
            self._metrics_server = start_http_server(
                self.metrics, ctx.options.dlp_metrics_host, ctx.options.dlp_metrics_port
            )
        assert self.store is not None
        self.store.start_watching()
        try:
            self._loop.add_signal_handler(signal.SIGHUP, self.store.reload)
        except (NotImplementedError, RuntimeError):  # not on the main thread / not on this platform
            pass
        self.metrics.set_ready(False, "loading models")
        self.pool = InspectionPool(ctx.options.dlp_workers)
        asyncio.create_task(self._start_pool())

    async def _start_pool(self) -> None:
        assert self.pool is not None
        try:
            seconds = await self.pool.start()
        except Exception as err:  # a missing model must be loud: not ready, and every upload fails closed
            log.error("inspection workers failed to start: %s", err)
            self.metrics.set_ready(False, f"workers failed to start: {err}")
            return
        log.info("DLP gateway ready: %d inspection worker(s) loaded in %.1fs", self.pool.size, seconds)
        self.metrics.set_ready(True)

    def done(self) -> None:
        if self.store is not None:
            self.store.stop_watching()
        if self.pool is not None:
            self.pool.shutdown()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self.audit is not None:
            self.audit.close()

    # --- traffic -------------------------------------------------------------------------------------------------

    def _destination(self, policy: Policy, flow: http.HTTPFlow) -> str | None:
        req = flow.request
        return policy.destination_for(req.pretty_host, req.path, req.method)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.store is None:
            return
        policy = self.store.current
        dest = self._destination(policy, flow)
        if dest is None or not is_upload(flow.request.method, _content_length(flow)):
            return
        flow.metadata["dlp_destination"] = dest
        flow.request.stream = False  # nothing reaches the server before the decision
        size = _content_length(flow)
        if size is not None and size > policy.limits.max_body_bytes:
            self._respond_on_error(flow, policy, dest, InspectionErrorKind.TOO_LARGE, "request body over the size limit")

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.store is None:
            return
        if flow.request.pretty_host == ctx.options.dlp_proceed_host and flow.request.path.startswith(PROCEED_PATH):
            self._proceed(flow)
            return
        if "dlp_destination" not in flow.metadata:
            return
        policy = self.store.current  # one policy snapshot per request: never half of a reload
        dest = flow.metadata["dlp_destination"]
        started = time.perf_counter()
        try:
            await self._inspect_and_enforce(flow, policy, dest, started)
        except Exception as err:  # our bug must never let an upload through: apply on_error
            log.exception("DLP addon error on %s", flow.request.pretty_host)
            self.metrics.observe_error("addon_exception")
            if flow.response is None:
                self._respond_on_error(flow, policy, dest, InspectionErrorKind.INTERNAL, type(err).__name__)

    async def _inspect_and_enforce(self, flow: http.HTTPFlow, policy: Policy, dest: str, started: float) -> None:
        req = flow.request
        try:
            body = req.get_content(strict=True) or b""
        except ValueError:
            self._respond_on_error(flow, policy, dest, InspectionErrorKind.CORRUPT, "undecodable Content-Encoding")
            return
        if len(body) > policy.limits.max_body_bytes:
            self._respond_on_error(flow, policy, dest, InspectionErrorKind.TOO_LARGE, "request body over the size limit")
            return
        args = (req.headers.get("content-type"), body, policy.limits.max_images_per_request)
        # Walking a large JSON body takes a while in Python: keep it off the event loop.
        extraction = await asyncio.to_thread(extract_images, *args) if len(body) > 256_000 else extract_images(*args)
        if not extraction.images and not extraction.undecodable and not extraction.too_many:
            return  # an in-scope request without images: not ours to judge
        early = policy.decide_before_inspection(self._request_context(flow, policy, dest, []))
        if early is not None:  # e.g. the allowed corporate tenant: no need to read the images
            if early.action in (Action.BLOCK, Action.WARN):
                self._block(flow, early)
            self._record(flow, self._request_context(flow, policy, dest, []), early, [], started, policy)
            return
        reports = await self._inspect_all(policy, extraction)
        for note in extraction.undecodable:
            reports.append(ImageReport("", 0, error=InspectionErrorKind.UNSUPPORTED_FORMAT, error_detail=note))
        if extraction.too_many:
            reports.append(ImageReport("", 0, error=InspectionErrorKind.TOO_MANY_IMAGES))
        rctx = self._request_context(flow, policy, dest, reports)
        decision = policy.decide(rctx, reports)

        if decision.action is Action.REDACT:
            try:
                replacements = {}
                for index, findings in decision.redactions.items():
                    image = extraction.images[index]
                    t0 = time.perf_counter()
                    replacements[index] = await self.pool.redact(
                        image.data, findings, policy.inspect_options, policy.limits.inspect_timeout_seconds
                    )
                    self.metrics.observe_redaction_seconds(time.perf_counter() - t0)
                req.content = extraction.rebuild(replacements)  # re-encodes Content-Encoding, fixes Content-Length
            except InspectionError as err:
                decision = _on_error_decision(policy, err.kind, "redaction failed")
        override = False
        if decision.action is Action.WARN:
            identity = rctx.user or rctx.client_ip
            shas = [r.sha256 for r in reports if r.sha256]
            if self.overrides.granted(identity, shas):
                override = True
                decision = Decision(Action.ALLOW, decision.rule, f"user proceeded after a warning; {decision.reason}",
                                    matched=decision.matched)
            else:
                token = self.overrides.issue(identity, shas, decision.rule, dest)
                self._block(flow, decision, f"http://{ctx.options.dlp_proceed_host}{PROCEED_PATH}{token}")
        elif decision.action is Action.BLOCK:
            self._block(flow, decision)
        self._record(flow, rctx, decision, reports, started, policy, override)

    def _proceed(self, flow: http.HTTPFlow) -> None:
        """The user clicked "proceed anyway" on a warning page: grant the warned images, record the override."""
        started = time.perf_counter()
        policy = self.store.current
        rctx = self._request_context(flow, policy, None, [])
        token = flow.request.path[len(PROCEED_PATH):].split("?", 1)[0]
        grant = self.overrides.redeem(token, rctx.user or rctx.client_ip)
        page = proceed_page(grant is not None)
        flow.response = http.Response.make(200 if grant else 410, page, {"Content-Type": "text/html; charset=utf-8",
                                                                          "Cache-Control": "no-store"})
        if grant is not None:
            self.metrics.observe_warn_override(grant.destination or "unknown")
            decision = Decision(Action.ALLOW, grant.rule, f"user chose to proceed after a warning ({len(grant.sha256s)} image(s))")
            self._record(flow, rctx, decision, [], started, policy, override=True)

    async def _inspect_all(self, policy: Policy, extraction) -> list[ImageReport]:
        options = policy.inspect_options

        async def one(data: bytes) -> ImageReport:
            sha = hashlib.sha256(data).hexdigest()
            cached = self.cache.get(sha, options)
            if cached is not None:
                return cached
            self.metrics.set_pool(self.pool.waiting + 1, self.pool.in_flight)
            try:
                report = await self.pool.inspect(data, options, policy.limits.inspect_timeout_seconds)
            except InspectionError as err:
                self.metrics.observe_error(err.kind.value)
                return ImageReport(sha, len(data), error=err.kind, error_detail=str(err))
            finally:
                self.metrics.set_pool(self.pool.waiting, self.pool.in_flight)
            if report.error is not None:
                self.metrics.observe_error(report.error.value)
            self.cache.put(report, options)
            return report

        return list(await asyncio.gather(*(one(img.data) for img in extraction.images)))

    def _request_context(
        self, flow: http.HTTPFlow, policy: Policy, dest: str | None, reports: list[ImageReport]
    ) -> RequestContext:
        req = flow.request
        identity = policy.identity
        user = None
        if auth := flow.metadata.get("proxyauth"):  # set by mitmproxy's --proxyauth
            user = auth[0]
        if user is None and identity.user_header:
            user = req.headers.get(identity.user_header)
        header_groups = req.headers.get(identity.groups_header) if identity.groups_header else None
        groups = identity.groups_for(user, header_groups)
        return RequestContext(
            host=req.pretty_host,
            path=req.path,
            method=req.method,
            destination=dest,
            client_ip=flow.client_conn.peername[0] if flow.client_conn.peername else "",
            user=user,
            groups=groups,
            image_count=sum(1 for r in reports if r.sha256),
            total_image_bytes=sum(r.size_bytes for r in reports),
            headers={k.lower(): v for k, v in req.headers.items()},
        )

    def _block(self, flow: http.HTTPFlow, decision: Decision, proceed_url: str = "") -> None:
        incident = flow.metadata.setdefault("dlp_incident", new_incident_id())
        resp = block_response(
            flow.request.pretty_host,
            decision,
            incident,
            accept=flow.request.headers.get("accept", ""),
            sec_fetch_mode=flow.request.headers.get("sec-fetch-mode", ""),
            proceed_url=proceed_url,
        )
        flow.response = http.Response.make(resp.status, resp.body, resp.headers)

    def _respond_on_error(
        self, flow: http.HTTPFlow, policy: Policy, dest: str, kind: InspectionErrorKind, detail: str
    ) -> None:
        started = time.perf_counter()
        self.metrics.observe_error(kind.value)
        decision = _on_error_decision(policy, kind, detail)
        report = ImageReport("", 0, error=kind, error_detail=detail)
        if decision.action in (Action.BLOCK, Action.WARN):  # the policy language refuses on_error: redact
            self._block(flow, decision)
        self._record(flow, self._request_context(flow, policy, dest, [report]), decision, [report], started, policy)

    def _record(self, flow, rctx: RequestContext, decision: Decision, reports, started: float, policy: Policy,
                override: bool = False) -> None:
        latency = time.perf_counter() - started
        incident = flow.metadata.setdefault("dlp_incident", new_incident_id())
        flow.metadata["dlp_decision"] = decision.to_json()
        self.metrics.observe_decision(rctx, decision, reports, latency)
        if self.audit is not None:
            self.audit.write(build_audit_event(rctx, decision, reports, incident, latency, policy.version_id, override))


def _on_error_decision(policy: Policy, kind: InspectionErrorKind, detail: str) -> Decision:
    return Decision(
        action=policy.on_error,
        rule="on_error",
        reason=f"the upload could not be inspected ({kind.value}: {detail}); policy on_error is {policy.on_error.value}",
    )


def _content_length(flow: http.HTTPFlow) -> int | None:
    value = flow.request.headers.get("content-length")
    if value is None:
        return None if flow.request.raw_content is None else len(flow.request.raw_content)
    try:
        return int(value)
    except ValueError:
        return None


_gateway = DlpGateway()
addons = [_gateway, ClientAcl(_gateway.metrics)]  # for `mitmdump -s gateway/addon.py`; `dlp-gateway run` adds both too
