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
from gateway.extract.apps import file_ids
from gateway.metrics import GatewayMetrics, start_http_server
from gateway.models import Action
from gateway.pipeline import (
    DropMessage,
    ForwardRebuilt,
    Recorder,
    ReplayHeld,
    RequestHead,
    Respond,
    Result,
    ServiceAnswer,
    UploadPipeline,
    UploadRequest,
)
from gateway.pipeline.cooldown import COOLDOWN_SECONDS, BombCooldown
from gateway.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, PolicyStore
from gateway.proxy_actions import (
    CLOSE_TRIGGER_MARK,
    REPLAY_MARK,
    close_websocket,
    held_request,
    replay_held,
    send_to_client,
)
from gateway.sessions import Piece, PieceKind, SessionLimits, SessionStore
from gateway.warn import WarnOverrides
from gateway.workers import InspectionPool

log = logging.getLogger(__name__)

FORWARDED_MARK = "dlp_forwarded"  # flow.metadata: an inspected upload that went upstream (allowed or redacted)
FORWARDED_ACTIONS = (Action.ALLOW, Action.AUDIT, Action.REDACT)


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
        self.bomb_cooldown = BombCooldown()
        self.recorder = Recorder(self.metrics)
        self.pipeline: UploadPipeline | None = None  # exists once a policy is loaded
        self.sessions = SessionStore()
        self._sweeper: asyncio.Task | None = None
        # What is done to mitmproxy itself (gateway.proxy_actions); in-process tests put stand-ins here.
        self.replay_held = replay_held
        self.close_websocket = close_websocket
        self.send_to_client = send_to_client

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
            "dlp_session_timeout", int, 900,
            "Seconds an unfinished chunked/resumable upload session is held with no new request before it is "
            "dropped (its held bytes never went upstream).",
        )
        loader.add_option(
            "dlp_session_memory_mb", int, 64,
            "MiB of held upload-session chunks kept in memory, all sessions together; more is spilled to private "
            "temporary files.",
        )
        loader.add_option(
            "dlp_session_max_held_mb", int, 1024,
            "MiB of upload-session chunks held in memory and on disk, all sessions together; a chunk over it gets "
            "the policy's on_error (each session is also capped by the policy's max_body_bytes).",
        )
        loader.add_option(
            "dlp_session_dir", str, "",
            "Directory in which a private (0700) directory for spilled upload-session chunks is made (default: the "
            "system temporary directory, $TMPDIR).",
        )
        loader.add_option(
            "dlp_bomb_cooldown", int, int(COOLDOWN_SECONDS),
            "Seconds a client that sent a decompression bomb has its Content-Encoded uploads refused without "
            "decoding (on_error block policies only; 0: off).",
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
        if "dlp_bomb_cooldown" in updated:
            if ctx.options.dlp_bomb_cooldown < 0:
                raise exceptions.OptionsError("dlp_bomb_cooldown must be >= 0")
            self.bomb_cooldown.seconds = float(ctx.options.dlp_bomb_cooldown)
        if "dlp_cache_entries" in updated:
            if ctx.options.dlp_cache_entries < 0:
                raise exceptions.OptionsError("dlp_cache_entries must be >= 0")
            self.cache.max_entries = ctx.options.dlp_cache_entries
        if "dlp_warn_secret" in updated and ctx.options.dlp_warn_secret:
            self.overrides.secret = ctx.options.dlp_warn_secret.encode()
        if updated & {"dlp_session_timeout", "dlp_session_memory_mb", "dlp_session_max_held_mb", "dlp_session_dir"}:
            self._configure_sessions()
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
                                               ctx.options.dlp_proceed_host, self.sessions, self.bomb_cooldown)
            self.pipeline.policies = store
            self.cache.clear()
            self.metrics.observe_policy_reload(True, store.current.version_id)
            log.info("DLP policy %r loaded from %s", store.current.name, path)
        if "dlp_proceed_host" in updated and self.pipeline is not None:
            self.pipeline.proceed_host = ctx.options.dlp_proceed_host
        if updated & {"dlp_policy", "dlp_intercept_only_destinations", "allow_hosts", "ignore_hosts"}:
            self._update_allow_hosts()

    def _configure_sessions(self) -> None:
        o = ctx.options
        if not 1 <= o.dlp_session_timeout <= 7 * 86400:
            raise exceptions.OptionsError(f"dlp_session_timeout must be 1..604800 seconds, not {o.dlp_session_timeout}")
        if not 0 <= o.dlp_session_memory_mb <= o.dlp_session_max_held_mb or o.dlp_session_max_held_mb < 1:
            raise exceptions.OptionsError(
                f"dlp_session_memory_mb ({o.dlp_session_memory_mb}) must be 0..dlp_session_max_held_mb "
                f"({o.dlp_session_max_held_mb}), which must be >= 1")
        limits = SessionLimits(o.dlp_session_memory_mb * 2**20, o.dlp_session_max_held_mb * 2**20,
                               float(o.dlp_session_timeout), o.dlp_session_dir)
        if limits.directory != self.sessions.limits.directory:
            self.sessions.close()
            self.sessions = SessionStore(limits)
            if self.pipeline is not None:
                self.pipeline.sessions = self.sessions
        self.sessions.limits = limits
        try:  # fail loudly at start-up: the spill directory is made now, not on the first big upload
            self.sessions.directory
        except OSError as err:
            raise exceptions.OptionsError(f"cannot make the upload-session directory in "
                                          f"{o.dlp_session_dir or 'the temporary directory'}: {err}") from None

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
        self._sweeper = asyncio.create_task(self._sweep_sessions())

    async def _sweep_sessions(self) -> None:
        """Abandoned upload sessions are freed within a quarter of their timeout (and at every new piece)."""
        while True:
            await asyncio.sleep(min(30.0, max(0.05, self.sessions.limits.timeout_seconds / 4)))
            if self.pipeline is not None:
                self.pipeline.sweep_sessions()

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
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.sessions.close()
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
        if flow.response or flow.error or self.pipeline is None or flow.metadata.get(REPLAY_MARK):
            return
        screened = self.pipeline.screen(request_head(flow))
        if screened.destination is None and screened.piece is None:
            return
        flow.metadata["dlp_destination"] = screened.destination
        if screened.piece is not None:
            flow.metadata["dlp_piece"] = screened.piece.to_json()
        flow.request.stream = False  # nothing reaches the server before the decision
        if screened.early is not None:
            self._apply(flow, screened.early)

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or self.pipeline is None or flow.metadata.get(REPLAY_MARK):
            return
        dest = flow.metadata.get("dlp_destination")
        piece = _piece(flow)
        if piece is not None:
            result = await self.pipeline.handle_piece(upload_request(flow), piece, held_request(flow), dest)
            self._apply(flow, result)
            if isinstance(result.outcome, ReplayHeld):
                await self._replay(flow, result.outcome)
            return
        if dest is None and not self.pipeline.is_proceed(request_head(flow)):
            return
        self._apply(flow, await self.pipeline.handle(upload_request(flow), dest))

    async def _replay(self, flow: http.HTTPFlow, replay: ReplayHeld) -> None:
        """The held chunks go upstream first; this (last) piece follows unless the upstream refused one of them."""
        try:
            timeout = self.store.current.limits.inspect_timeout_seconds if self.store else 60.0
            refused = await self.replay_held(flow, replay, max(30.0, timeout))
            if refused is not None:
                flow.response = refused
        finally:
            replay.release()

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.response is None or self.pipeline is None:
            return
        self._session_started(flow)
        self._upload_completed(flow)

    def _session_started(self, flow: http.HTTPFlow) -> None:
        piece = _piece(flow)
        if piece is None or piece.kind is not PieceKind.START:
            return
        if flow.metadata.get("dlp_decision", {}).get("action") == "block" or "dlp_upload_id" not in flow.metadata:
            return
        headers = {k.lower(): v for k, v in flow.response.headers.items()}
        self.pipeline.session_started(request_head(flow), piece, flow.response.status_code, headers,
                                      flow.metadata["dlp_upload_id"], flow.metadata.get("dlp_destination"))

    def _upload_completed(self, flow: http.HTTPFlow) -> None:
        """A forwarded upload's answer: the file id the service gave it goes in an `upload_completed` audit line.

        The answer is read, never changed, and only when the file id is in it: JSON up to MAX_ANSWER_BYTES that
        mitmproxy already holds (a streamed answer has no content here and is left alone)."""
        if not flow.metadata.get(FORWARDED_MARK):
            return
        head, answer = request_head(flow), flow.response
        raw = answer.raw_content
        wanted = raw is not None and len(raw) <= file_ids.MAX_ANSWER_BYTES and self.pipeline.wants_answer(head)
        event = self.pipeline.upload_completed(
            head, ServiceAnswer(answer.status_code, {k.lower(): v for k, v in answer.headers.items()},
                                raw if wanted else None),
            flow.metadata["dlp_incident"], flow.metadata.get("dlp_upload_id"), flow.metadata.get("dlp_destination"))
        if event is not None:
            flow.metadata["dlp_file_id"] = event.file_id
            self.recorder.write_completed(event)

    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        """Client-to-server messages to in-scope hosts are judged like uploads (gateway.pipeline.handle_message)."""
        assert flow.websocket is not None
        message = flow.websocket.messages[-1]
        if message.injected:
            if flow.metadata.get(CLOSE_TRIGGER_MARK) and not message.content:
                message.drop()  # our own wake-up for the close (gateway.proxy_actions.close_websocket)
            return
        if not message.from_client or self.pipeline is None:
            return
        if flow.metadata.get("dlp_ws_closing"):
            message.drop()  # the socket is being closed for a policy violation: nothing more goes out
            return
        head = request_head(flow)
        dest = self.pipeline.websocket_destination(head)  # per message: a reloaded policy applies to open sockets
        if dest is None:
            return
        result = await self.pipeline.handle_message(head, message.content, message.is_text, dest)
        outcome = result.outcome
        if isinstance(outcome, DropMessage):
            message.drop()
            if outcome.reply is not None:
                self.send_to_client(flow, outcome.reply, outcome.reply_is_text)
            else:
                flow.metadata["dlp_ws_closing"] = True
                self.close_websocket(flow, outcome.close_code, outcome.close_reason)
        elif isinstance(outcome, ForwardRebuilt):
            message.content = outcome.body
        self._record(flow, result)

    def _apply(self, flow: http.HTTPFlow, result: Result) -> None:
        """Carry out the pipeline's outcome on the flow and write its record."""
        outcome = result.outcome
        if isinstance(outcome, Respond):
            flow.response = http.Response.make(outcome.status, outcome.body, outcome.headers)
        elif isinstance(outcome, ForwardRebuilt):
            flow.request.raw_content = outcome.body  # already in the request's own Content-Encoding
            if "transfer-encoding" not in flow.request.headers:
                flow.request.headers["content-length"] = str(len(outcome.body))
        self._record(flow, result)
        if (result.record is not None and not isinstance(outcome, Respond)
                and result.record.decision.action in FORWARDED_ACTIONS):
            flow.metadata[FORWARDED_MARK] = True

    def _record(self, flow: http.HTTPFlow, result: Result) -> None:
        if result.upload_id is not None:
            flow.metadata["dlp_upload_id"] = result.upload_id
        if result.record is not None:
            flow.metadata["dlp_incident"] = result.record.incident_id
            flow.metadata["dlp_decision"] = result.record.decision.to_json()
            self.recorder.write(result.record)


def _piece(flow: http.HTTPFlow) -> Piece | None:
    data = flow.metadata.get("dlp_piece")
    return Piece.from_json(data) if data else None


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
