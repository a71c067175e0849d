"""WebSocket messages through the proxy-free pipeline: judged like request bodies, answered in the app's shape."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

from gateway.cache import ReportCache
from gateway.metrics import GatewayMetrics
from gateway.models import Action, Decision
from gateway.pipeline import FORWARD, DropMessage, ForwardRebuilt, RequestHead, UploadPipeline
from gateway.policy import PolicyStore
from gateway.warn import WarnOverrides
from gateway.websocket import CLOSE_POLICY_VIOLATION, block_frame, message_content_type
from tests.support.images import text_image
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection

POLICY = Path(__file__).parent / "policies" / "sessions.yaml"
PII = text_image(["Contact: jane.doe@corpmail.com"], size=(400, 120))
CLEAN = text_image(["Quarterly roadmap review"], size=(400, 120))
REDACTED = text_image(["Contact: [redacted]"], size=(400, 120))


def copilot_send(image: bytes) -> bytes:
    return json.dumps({"event": "send", "conversationId": "conv-42", "mode": "chat", "content": [
        {"type": "text", "text": "what is in this picture?"},
        {"type": "image", "url": "data:image/png;base64," + base64.b64encode(image).decode()}]}).encode()


def judge(host: str, content: bytes, is_text: bool = True):
    inspection = ScriptedInspection({PII: [EMAIL_FINDING]}, redacted=REDACTED)
    p = UploadPipeline(PolicyStore(POLICY), inspection, GatewayMetrics(), ReportCache(), WarnOverrides())
    head = RequestHead("GET", host, "/c/api/chat?api-version=2", {"upgrade": "websocket"}, "10.0.0.5")
    dest = p.websocket_destination(head)
    assert dest is not None
    return asyncio.run(p.handle_message(head, content, is_text, dest)), inspection


def test_copilot_message_with_a_pii_data_url_is_dropped_and_answered_with_an_error_event():
    result, _ = judge("copilot.microsoft.com", copilot_send(PII))
    assert isinstance(result.outcome, DropMessage) and result.outcome.reply_is_text
    frame = json.loads(result.outcome.reply)
    assert frame["event"] == "error" and frame["conversationId"] == "conv-42"
    assert frame["incidentId"] == result.record.incident_id and frame["rule"] == "block-pii"
    assert "jane.doe" not in result.outcome.reply.decode()
    assert result.record.context.method == "WEBSOCKET" and result.record.decision.action is Action.BLOCK


def test_a_blocked_message_to_an_app_without_a_known_error_shape_closes_with_1008():
    binary, _ = judge("gemini.google.com", PII, is_text=False)
    assert isinstance(binary.outcome, DropMessage) and binary.outcome.reply is None
    assert binary.outcome.close_code == CLOSE_POLICY_VIOLATION == 1008
    assert binary.record.incident_id in binary.outcome.close_reason
    assert len(binary.outcome.close_reason.encode()) <= 123


def test_clean_messages_pass_untouched_without_a_record_and_redact_rewrites_the_message():
    clean, inspection = judge("copilot.microsoft.com", copilot_send(CLEAN))
    assert clean.outcome == FORWARD and clean.record.decision.action is Action.ALLOW
    chatter, inspection = judge("copilot.microsoft.com", b'{"event":"ping"}')
    assert chatter.outcome == FORWARD and chatter.record is None and inspection.inspected == []
    redacted, _ = judge("claude.ai", copilot_send(PII))
    assert isinstance(redacted.outcome, ForwardRebuilt)
    sent = json.loads(redacted.outcome.body)
    assert sent["content"][1]["url"] == "data:image/png;base64," + base64.b64encode(REDACTED).decode()
    assert sent["content"][0] == {"type": "text", "text": "what is in this picture?"}


def test_a_websocket_to_a_host_outside_the_policy_is_not_ours():
    p = UploadPipeline(PolicyStore(POLICY), None, GatewayMetrics(), ReportCache(), WarnOverrides())
    assert p.websocket_destination(RequestHead("GET", "example.com", "/ws", {})) is None


def test_message_reading_hints_and_frames():
    assert message_content_type(b' {"a": 1}', True) == "application/json"
    assert message_content_type(b"hello", True) == "text/plain"
    assert message_content_type(PII, False) is None
    decision = Decision(Action.BLOCK, "r", "why")
    assert block_frame("other.example", decision, "inc", b"") is None
    frame, is_text = block_frame("Copilot.Microsoft.com", decision, "inc", b"not json")
    assert is_text and json.loads(frame)["conversationId"] is None
