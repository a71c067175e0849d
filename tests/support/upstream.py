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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
    tls=False serves plain HTTP.
    """

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0,
                 names: tuple[str, ...] = ("localhost",), tls: bool = True) -> None:
        self.cert, key = make_cert(directory, names, ips=(host,) if host not in ("::", "0.0.0.0") else ())
        self.received: list[Received] = []
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every response stalls ~40 ms (delayed ACK)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with upstream._lock:
                    upstream.received.append(
                        Received(self.command, self.path, self.headers.get("host", ""), dict(self.headers), body)
                    )
                payload = json.dumps({"ok": True, "sha256": hashlib.sha256(body).hexdigest()}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = _handle

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
