"""The pipeline's steps for WebSocket messages: each client message judged like a request body. A mixin of
UploadPipeline."""

from __future__ import annotations

import logging
import time

from gateway.models import (
    InspectionErrorKind,
)
from gateway.pipeline.values import (
    DropMessage,
    RequestHead,
    Respond,
    Result,
    UploadRequest,
)
from gateway.websocket import block_frame, message_content_type

log = logging.getLogger(__name__)


class MessageSteps:
    """WebSocket-message handling of UploadPipeline."""


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

