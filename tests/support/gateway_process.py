"""Start a real `dlp-gateway run` subprocess for end-to-end tests and wait until it is ready."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpcore
import httpx

REPO = Path(__file__).resolve().parents[2]
REDIRECT_SCRIPT = Path(__file__).with_name("redirect_upstream.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dlp_gateway_exe() -> str:
    exe = Path(sys.executable).with_name("dlp-gateway")
    return str(exe) if exe.exists() else (shutil.which("dlp-gateway") or "dlp-gateway")


class GatewayProcess:
    """A gateway process on 127.0.0.1 whose intercepted traffic goes to a local upstream.

    By default `dlp-gateway run`; with script_mode=True a plain `mitmdump -s gateway/addon.py`, as operators who run
    mitmproxy already would start it. `listen_host` "" listens on all interfaces; `upstream_options` are the `--set`
    options for reaching the upstream (a fake host name resolved lazily, its self-signed certificate accepted);
    `env` adds environment variables (e.g. DLP_GATEWAY_CACHE).
    """

    def __init__(self, workdir: Path, policy: Path, upstream_port: int | None, extra: list[str] = (),
                 workers: int = 1, script_mode: bool = False, listen_host: str = "127.0.0.1",
                 port: int | None = None,
                 upstream_options: tuple[str, ...] = ("connection_strategy=lazy", "ssl_insecure=true"),
                 env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.confdir = workdir / "confdir"
        self.confdir.mkdir(parents=True, exist_ok=True)
        self.audit_path = workdir / "audit.log"
        self.port = port or free_port()
        self.metrics_port = free_port()
        self.policy = policy
        if script_mode:
            args = [
                str(Path(sys.executable).with_name("mitmdump")), "-s", str(REPO / "gateway" / "addon.py"),
                "--listen-port", str(self.port),
                "--set", f"confdir={self.confdir}",
                "--set", f"dlp_policy={policy}",
                "--set", "dlp_metrics_host=127.0.0.1", "--set", f"dlp_metrics_port={self.metrics_port}",
                "--set", f"dlp_audit_log={self.audit_path}",
                "--set", f"dlp_workers={workers}",
            ]
        else:
            args = [
                dlp_gateway_exe(), "run",
                "--policy", str(policy),
                "--listen-port", str(self.port),
                "--metrics-host", "127.0.0.1", "--metrics-port", str(self.metrics_port),
                "--confdir", str(self.confdir),
                "--audit-log", str(self.audit_path),
                "--workers", str(workers),
            ]
        if listen_host:
            args += ["--listen-host", listen_host]
        for option in upstream_options:
            args += ["--set", option]
        if upstream_port is not None:
            args += ["-s", str(REDIRECT_SCRIPT), "--set", f"test_upstream=127.0.0.1:{upstream_port}"]
        args += list(extra)
        self.log_path = workdir / "gateway.log"
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                     start_new_session=True)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_cert(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.metrics_port}{path}"

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as resp:
                    if resp.status == 200 and self.ca_cert.exists():
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"gateway not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def audit_lines(self) -> list[str]:
        return self.audit_path.read_text().splitlines() if self.audit_path.exists() else []

    def metrics_text(self) -> str:
        with urllib.request.urlopen(self.url("/metrics"), timeout=5) as resp:
            return resp.read().decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        try:  # inspection workers are children in the same session
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


def client(gateway: GatewayProcess, http2: bool = False, timeout: float = 300.0,
           local_address: str | None = None) -> httpx.Client:
    """An HTTPS client that goes through the gateway and trusts its CA (real OCR runs behind it: be patient).
    `local_address`: the client's source address (another loopback address is another client to the gateway)."""
    verify = ssl.create_default_context(cafile=str(gateway.ca_cert))
    if local_address is None:
        return httpx.Client(proxy=gateway.proxy_url, verify=verify, http2=http2, timeout=timeout)
    # httpx's proxy pool drops local_address (httpcore's too, for the connection to the proxy): bind in the backend
    transport = httpx.HTTPTransport(verify=verify, http2=http2)
    transport._pool = httpcore.HTTPProxy(gateway.proxy_url, ssl_context=verify, http2=http2,
                                         network_backend=_BoundBackend(local_address))
    return httpx.Client(transport=transport, timeout=timeout)


class _BoundBackend(httpcore.SyncBackend):
    """Every TCP connection from this source address."""

    def __init__(self, source: str) -> None:
        self.source = source

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return super().connect_tcp(host, port, timeout, self.source, socket_options)
