"""What the addon does to mitmproxy beyond answering a flow: replay held requests upstream, close a WebSocket.

Held chunks are replayed through mitmproxy's own client-replay machinery (`ReplayHandler`, what `replay.client`
uses), not a second HTTP client: each goes out on mitmproxy's server side with the proxy's own upstream settings
(`upstream:` mode, `ssl_insecure`, client certificates, connection strategy) and the request as it came in: method,
path, headers in order and case, body. The upstream so sees the same requests as without the gateway (start, each
chunk, the last one), only later. Replays are marked `flow.metadata["dlp_replay"]`, and the gateway's hooks let
them pass.

A WebSocket cannot be closed with a code from a hook in mitmproxy 11.0.2 (`flow.kill()` does not reach the
WebSocket layer), so `close_websocket` queues a close event (code, reason) on the flow's WebSocket layer as if
the client had sent it, then wakes the layer with an empty injected message that the addon drops: the layer
itself then sends the close frame to both peers and ends the flow. When the layer cannot be found (a flow not on
a live connection) the flow's connection is aborted instead: the message is dropped either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import wsproto.events
from mitmproxy import ctx, http
from mitmproxy.addons.clientplayback import ReplayHandler
from mitmproxy.proxy.layers.websocket import WebSocketMessageInjected, WebsocketLayer
from mitmproxy.websocket import WebSocketMessage
from wsproto.frame_protocol import Opcode

from gateway.pipeline import ReplayHeld
from gateway.sessions import HeldRequest

log = logging.getLogger(__name__)
REPLAY_MARK = "dlp_replay"
CLOSE_TRIGGER_MARK = "dlp_ws_close_trigger"


def held_request(flow: http.HTTPFlow) -> HeldRequest:
    """The flow's request as it would go upstream now (after every requestheaders/request hook before ours)."""
    req = flow.request
    return HeldRequest(req.method, req.scheme, req.host, req.port, req.authority, req.path,
                       req.http_version, tuple(req.headers.fields), req.raw_content or b"")


def _replay_flow(template: http.HTTPFlow, held: HeldRequest) -> http.HTTPFlow:
    flow = template.copy()
    flow.request = http.Request(held.host, held.port, held.method.encode(), held.scheme.encode(),
                                held.authority.encode(), held.path.encode(), held.http_version.encode(),
                                http.Headers(list(held.headers)), held.body, None, 0.0, 0.0)
    flow.response = None
    flow.error = None
    flow.metadata = {REPLAY_MARK: True}
    flow.is_replay = "request"
    return flow


async def replay_held(template: http.HTTPFlow, replay: ReplayHeld, timeout: float) -> http.Response | None:
    """Send the held requests upstream in order. None when the upstream took each; else the answer to give the
    client instead of forwarding the last piece (the upstream's own refusal, or 502/504)."""
    requests: Iterator[HeldRequest] = replay.requests()
    for number, held in enumerate(requests, 1):
        flow = _replay_flow(template, held)
        try:
            await asyncio.wait_for(ReplayHandler(flow, ctx.options).replay(), timeout)
        except asyncio.TimeoutError:
            return _gateway_error(504, f"the upstream did not answer held chunk {number} within {timeout:g} s")
        if flow.response is None:
            reason = flow.error.msg if flow.error else "no response"
            return _gateway_error(502, f"held chunk {number} could not be sent upstream: {reason}")
        headers = {k.lower(): v for k, v in flow.response.headers.items()}
        if not replay.accepts(flow.response.status_code, headers):
            log.warning("upstream refused held chunk %d with %d: its answer goes to the client",
                        number, flow.response.status_code)
            return flow.response
    return None


def _gateway_error(status: int, message: str) -> http.Response:
    log.warning("upload session replay failed: %s", message)
    body = json.dumps({"error": {"message": message, "type": "dlp_gateway_upstream_error"}}).encode()
    return http.Response.make(status, body, {"content-type": "application/json", "cache-control": "no-store"})


def _websocket_layer(flow: http.HTTPFlow) -> WebsocketLayer | None:
    server = ctx.master.addons.get("proxyserver")
    handler = getattr(server, "connections", {}).get(flow.client_conn.id) if server else None
    stack = [getattr(handler, "layer", None)]
    seen = 0
    while stack and seen < 200:
        layer = stack.pop()
        seen += 1
        if layer is None:
            continue
        if isinstance(layer, WebsocketLayer) and layer.flow is flow:
            return layer
        stack.append(getattr(layer, "child_layer", None))
        stack.append(getattr(layer, "layer", None))  # NextLayer
        delegate = getattr(getattr(layer, "_handle_event", None), "__self__", None)
        if delegate is not layer:  # modes.HttpProxy hands its events to its child's bound method
            stack.append(delegate)
        stack.extend(getattr(layer, "streams", {}).values())  # HttpLayer
        stack.extend(getattr(layer, "connections", {}).values())
    return None


def close_websocket(flow: http.HTTPFlow, code: int, reason: str) -> bool:
    """Close the flow's WebSocket with `code` on both sides; False if only the connection could be aborted."""
    layer = _websocket_layer(flow)
    if layer is None:
        log.warning("WebSocket to %s: its layer was not found, aborting the connection instead of closing with %d",
                    flow.request.pretty_host, code)
        if flow.killable:
            flow.kill()
        return False
    log.info("WebSocket to %s closed with %d (%s)", flow.request.pretty_host, code, reason)
    reason = reason.encode()[:120].decode(errors="ignore")  # a close frame's reason fits in 123 bytes
    layer.client_ws._events.append(wsproto.events.CloseConnection(code=code, reason=reason))
    trigger = WebSocketMessage(Opcode.TEXT, True, b"")
    trigger.injected = True
    flow.metadata[CLOSE_TRIGGER_MARK] = True
    ctx.master.addons.get("proxyserver").inject_event(WebSocketMessageInjected(flow, trigger))
    return True


def send_to_client(flow: http.HTTPFlow, payload: bytes, is_text: bool) -> None:
    """Inject a message to the client (the app's own error frame for a blocked message)."""
    ctx.master.commands.call("inject.websocket", flow, True, payload, is_text)
