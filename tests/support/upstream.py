"""A real HTTPS server on 127.0.0.1 that records every request it receives (the stand-in for the AI services)."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import wsproto.connection
import wsproto.events
from wsproto.connection import Connection, ConnectionType
from wsproto.utilities import generate_accept_token

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    method: str
    path: str
    host: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WsReceived:
    path: str
    host: str
    data: bytes | str  # str for a text message


# An answer instead of the default 200 JSON: (status, headers, body), or None to keep the default.
Responder = Callable[[Received], "tuple[int, dict[str, str], bytes] | None"]


def make_cert(directory: Path, names: tuple[str, ...] = ("localhost",),
              ips: tuple[str, ...] = ("127.0.0.1",)) -> tuple[Path, Path]:
    """A self-signed certificate for `names` and `ips` (default localhost / 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alt_names = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(alt_names),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "upstream-cert.pem", directory / "upstream-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _DualStackServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)  # HTTPServer's would look up a host name for "::"
        self.server_name, self.server_port = "localhost", self.server_address[1]


class RecordingUpstream:
    """Threaded HTTPS server; `received` lists what arrived, newest last.

    `host` "::" listens on every IPv4 and IPv6 address (dual stack); `names` are the certificate's host names;
    tls=False serves plain HTTP. `responder` may answer a request in a service's own way (an upload protocol, see
    tests/support/upload_services.py). A GET with `Upgrade: websocket` becomes a WebSocket whose client messages are
    recorded in `ws_received` and acknowledged with `{"event": "received", "sha256": ...}`.
    """

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0,
                 names: tuple[str, ...] = ("localhost",), tls: bool = True, responder: Responder | None = None) -> None:
        self.cert, key = make_cert(directory, names, ips=(host,) if host not in ("::", "0.0.0.0") else ())
        self.received: list[Received] = []
        self.ws_received: list[WsReceived] = []
        self.responder = responder
        self._lock = threading.Lock()
        self._ws_partial: dict[int, list] = {}
        self.ws_closes: list[tuple[str, int]] = []  # (path, close code) of each WebSocket the peer closed
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every response stalls ~40 ms (delayed ACK)

            def _handle(self) -> None:
                if self.headers.get("upgrade", "").lower() == "websocket":
                    return self._websocket()
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                got = Received(self.command, self.path, self.headers.get("host", ""), dict(self.headers), body)
                with upstream._lock:
                    upstream.received.append(got)
                    answer = upstream.responder(got) if upstream.responder else None
                status, headers, payload = answer or (200, {"content-type": "application/json"}, json.dumps(
                    {"ok": True, "sha256": hashlib.sha256(body).hexdigest()}).encode())
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _websocket(self) -> None:
                key = self.headers.get("sec-websocket-key", "").encode()
                self.send_response(101)
                self.send_header("upgrade", "websocket")
                self.send_header("connection", "Upgrade")
                self.send_header("sec-websocket-accept", generate_accept_token(key).decode())
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                ws = Connection(ConnectionType.SERVER)
                path, host = self.path, self.headers.get("host", "")
                while True:
                    data = self.connection.recv(65536)
                    ws.receive_data(data or None)
                    for event in ws.events():
                        if isinstance(event, wsproto.events.Message):
                            with upstream._lock:  # messages arrive whole: wsproto joins frames only if asked
                                upstream._ws_partial.setdefault(id(ws), []).append(event.data)
                                if not event.message_finished:
                                    continue
                                parts = upstream._ws_partial.pop(id(ws))
                                whole = "".join(parts) if isinstance(event.data, str) else b"".join(parts)
                                upstream.ws_received.append(WsReceived(path, host, whole))
                            raw = whole.encode() if isinstance(whole, str) else whole
                            ack = json.dumps({"event": "received", "sha256": hashlib.sha256(raw).hexdigest()})
                            self.connection.sendall(ws.send(wsproto.events.TextMessage(ack)))
                        elif isinstance(event, wsproto.events.Ping):
                            self.connection.sendall(ws.send(event.response()))
                        elif isinstance(event, wsproto.events.CloseConnection):
                            if ws.state is wsproto.connection.ConnectionState.REMOTE_CLOSING:
                                self.connection.sendall(ws.send(event.response()))
                            upstream.ws_closes.append((path, event.code))
                            return
                    if not data:
                        return

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, *args) -> None:
                pass

        server_class = _DualStackServer if ":" in host else ThreadingHTTPServer
        self.server = server_class((host, port), Handler)
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def last_for(self, path: str) -> Received | None:
        with self._lock:
            for r in reversed(self.received):
                if r.path == path:
                    return r
        return None

    def close(self) -> None:
        self.server.shutdown()
