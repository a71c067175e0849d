"""WebSocket messages as uploads: how a message is read, and how a blocked one is answered in the app's shape.

Proxy-free: gateway.pipeline judges a message's bytes like a request body (binary messages are sniffed as files,
text messages are read as JSON with base64 / data: URL images, else as text); gateway.addon drops or rewrites the
message in mitmproxy. A blocked message is dropped; where the app's own error message is known the client gets it
on the open socket, else the socket is closed with 1008 (policy violation, RFC 6455 7.4.1).

Microsoft Copilot (consumer, `wss://copilot.microsoft.com/c/api/chat`): the web app sends
`{"event": "send", "conversationId", "content": [{"type": "text"|"image", ...}], "mode"}` and dispatches server
frames on their `event` name, `error` among them (static reading of its JavaScript bundle, 2026). The gateway
answers a blocked `send` with one `{"event": "error", ...}` frame and keeps the socket open, so the conversation
goes on without the image. Only the event name is the app's; the other fields (`conversationId` echoed,
`message`, `errorCode`, `incidentId`, `rule`) are ours, since the app's error envelope is not documented.
"""

from __future__ import annotations

import json

from gateway.enforce import block_message
from gateway.models import Decision

CLOSE_POLICY_VIOLATION = 1008
_JSON_START = (b"{", b"[")


def message_content_type(content: bytes, is_text: bool) -> str | None:
    """The media type hint for reading a message: JSON for JSON text, text/plain for other text, None (sniff the
    bytes: a raw file) for binary messages."""
    if not is_text:
        return None
    return "application/json" if content.lstrip()[:1] in _JSON_START else "text/plain"


def _copilot(decision: Decision, incident_id: str, original: bytes) -> bytes:
    conversation = None
    try:
        sent = json.loads(original)
        if isinstance(sent, dict) and isinstance(sent.get("conversationId"), str):
            conversation = sent["conversationId"]
    except ValueError:
        pass
    frame = {"event": "error", "id": f"dlp-{incident_id}", "conversationId": conversation,
             "errorCode": "dlp_blocked", "message": block_message(decision, incident_id), "incidentId": incident_id,
             "rule": decision.rule}
    return json.dumps(frame).encode()


# host -> builder of the server frame that tells the app its message was refused
APP_ERROR_FRAMES = {
    "copilot.microsoft.com": _copilot,
}


def block_frame(host: str, decision: Decision, incident_id: str, original: bytes) -> tuple[bytes, bool] | None:
    """(frame, is_text) to send to the client instead of a blocked message, or None: close the socket with 1008.

    `original` is the blocked text message (to echo ids such as the conversation), b"" for binary messages."""
    build = APP_ERROR_FRAMES.get(host.lower())
    if build is None:
        return None
    return build(decision, incident_id, original), True
