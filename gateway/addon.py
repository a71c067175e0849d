"""The mitmproxy addon: options, start-up, and hooks that translate flows to and from gateway.pipeline.

Load it with `dlp-gateway run`, or with plain `mitmdump -s gateway/addon.py` in an existing mitmproxy setup.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal

from mitmproxy import ctx, exceptions, http

from gateway.audit import AuditLog
from gateway.cache import ReportCache
from gateway.clients import ClientAcl
from gateway.metrics import GatewayMetrics, start_http_server
from gateway.pipeline import ForwardRebuilt, Recorder, RequestHead, Respond, Result, UploadPipeline, UploadRequest
from gateway.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, PolicyStore
from gateway.warn import WarnOverrides
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
        self.recorder = Recorder(self.metrics)
        self.pipeline: UploadPipeline | None = None  # exists once a policy is loaded

    # --- configuration ---------------------------------------------------------------------------------------

    def load(self, loader) -> None:
        loader.add_option("dlp_policy", str, "", "Policy YAML file (default: the shipped policies/default.yaml).")
        loader.add_option("dlp_metrics_host", str, "0.0.0.0", "Address for /metrics, /healthz and /readyz.")
        loader.add_option("dlp_metrics_port", int, 9090, "Port for /metrics, /healthz and /readyz (0: off).")
        loader.add_option("dlp_audit_log", str, "-", 'Audit log: "-" for stdout, a file path (rotated), or "syslog".')
        loader.add_option("dlp_workers", int, 1, "Inspection worker processes (each loads its own models).")
        loader.add_option("dlp_cache_entries", int, 4096, "Inspection reports kept by image hash (0: no cache).")
        loader.add_option(
            "dlp_worker_memory_mb", int, 0,
            "Memory cap of each inspection worker in MiB, models included (0: none). Set it below the container's "
            "limit minus the proxy's share: an image that needs more is then blocked by on_error and its worker "
            "restarted, instead of the kernel's OOM killer choosing a process.",
        )
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
        if "dlp_worker_memory_mb" in updated and not (ctx.options.dlp_worker_memory_mb == 0
                                                      or 256 <= ctx.options.dlp_worker_memory_mb <= 1 << 20):
            raise exceptions.OptionsError(
                f"dlp_worker_memory_mb must be 0 (no cap) or 256..1048576, not {ctx.options.dlp_worker_memory_mb}")
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
            if self.pipeline is None:
                self.pipeline = UploadPipeline(store, self.pool, self.metrics, self.cache, self.overrides,
                                               ctx.options.dlp_proceed_host)
            self.pipeline.policies = store
            self.cache.clear()
            self.metrics.observe_policy_reload(True, store.current.version_id)
            log.info("DLP policy %r loaded from %s", store.current.name, path)
        if "dlp_proceed_host" in updated and self.pipeline is not None:
            self.pipeline.proceed_host = ctx.options.dlp_proceed_host
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
        self.recorder.audit = self.audit
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
        self.pool = InspectionPool(ctx.options.dlp_workers, memory_limit_mb=ctx.options.dlp_worker_memory_mb)
        self.pipeline.inspection = self.pool
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
        if self.pipeline is not None:
            self.pipeline.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self.audit is not None:
            self.audit.close()

    # --- traffic: translate flows to and from the pipeline ------------------------------------------------------

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.pipeline is None:
            return
        screened = self.pipeline.screen(request_head(flow))
        if screened.destination is None:
            return
        flow.metadata["dlp_destination"] = screened.destination
        flow.request.stream = False  # nothing reaches the server before the decision
        if screened.early is not None:
            self._apply(flow, screened.early)

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.pipeline is None:
            return
        dest = flow.metadata.get("dlp_destination")
        if dest is None and not self.pipeline.is_proceed(request_head(flow)):
            return
        self._apply(flow, await self.pipeline.handle(upload_request(flow), dest))

    def _apply(self, flow: http.HTTPFlow, result: Result) -> None:
        """Carry out the pipeline's outcome on the flow and write its record."""
        outcome = result.outcome
        if isinstance(outcome, Respond):
            flow.response = http.Response.make(outcome.status, outcome.body, outcome.headers)
        elif isinstance(outcome, ForwardRebuilt):
            flow.request.raw_content = outcome.body  # already in the request's own Content-Encoding
            if "transfer-encoding" not in flow.request.headers:
                flow.request.headers["content-length"] = str(len(outcome.body))
        if result.record is not None:
            flow.metadata["dlp_incident"] = result.record.incident_id
            flow.metadata["dlp_decision"] = result.record.decision.to_json()
            self.recorder.write(result.record)


def request_head(flow: http.HTTPFlow) -> RequestHead:
    return RequestHead(**_head_fields(flow))


def upload_request(flow: http.HTTPFlow) -> UploadRequest:
    return UploadRequest(**_head_fields(flow), body=flow.request.raw_content or b"")


def _head_fields(flow: http.HTTPFlow) -> dict:
    req = flow.request
    auth = flow.metadata.get("proxyauth")  # set by mitmproxy's --proxyauth
    return {
        "method": req.method,
        "host": req.pretty_host,
        "path": req.path,
        "headers": {k.lower(): v for k, v in req.headers.items()},
        "client_ip": flow.client_conn.peername[0] if flow.client_conn.peername else "",
        "proxy_user": auth[0] if auth else None,
        "body_size": _content_length(flow),
    }


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
