"""End to end: the README's transparent-proxy recipe, run as written on a router between network namespaces.

    client (eth0) ── eth1 router ai0 ── (eth0) ai: "chatgpt.com", "api.openai.com" (HTTPS on 443, HTTP on 80)
                             web0 ── (eth0) web: "www.example.org" (HTTPS on 443)

The router runs the README's sysctl/iptables lines and `dlp-gateway run --mode transparent`; the client is curl,
with no proxy setting, trusting the gateway's CA and resolving the host names to the upstreams' addresses (IPv4 and
IPv6). Needs root; namespaces are removed after the run, even when it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import select
import shlex
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import netns
from tests.support.gateway_process import REPO, GatewayProcess
from tests.support.images import text_image
from tests.support.netns import Netns, veth
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AI_HOST = "chatgpt.com"
WEB_HOST = "www.example.org"
EMAIL = "jane.doe@corpmail.com"
CARD = "4539 1488 0343 6467"
SSN = "536-22-1947"
# family -> (client, ai host, web host) addresses, as _wire() assigns them
FAMILIES = {
    "ipv4": ("10.77.1.2", "10.77.2.2", "10.77.3.2"),
    "ipv6": ("fd77:1::2", "fd77:2::2", "fd77:3::2"),
}
CURL_EXIT_BAD_CERT = 60


@dataclass
class Network:
    client: Netns
    router: Netns
    ai: Netns
    web: Netns


def readme_recipe() -> list[str]:
    """The command lines of the README's "Transparent proxy" block, comments dropped."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Transparent proxy", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _wire(net: Network) -> None:
    """Addresses and routes: the router is every other namespace's default gateway."""
    veth(net.router, "eth1", net.client, "eth0")
    veth(net.router, "ai0", net.ai, "eth0")
    veth(net.router, "web0", net.web, "eth0")
    net.router.add_address("eth1", "10.77.1.1/24", "fd77:1::1/64")
    net.router.add_address("ai0", "10.77.2.1/24", "fd77:2::1/64")
    net.router.add_address("web0", "10.77.3.1/24", "fd77:3::1/64")
    for ns, subnet in ((net.client, 1), (net.ai, 2), (net.web, 3)):
        ns.add_address("eth0", f"10.77.{subnet}.2/24", f"fd77:{subnet}::2/64")
        ns.ip("route", "add", "default", "via", f"10.77.{subnet}.1")
        ns.ip("-6", "route", "add", "default", "via", f"fd77:{subnet}::1")


@pytest.fixture(scope="module")
def network():
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(reason)
    for tool in ("iptables", "ip6tables", "curl"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/install-system-deps.sh"
    netns.remove_stale()
    with contextlib.ExitStack() as cleanup:
        spaces = {}
        for role in ("client", "router", "ai", "web"):
            spaces[role] = Netns(role)
            cleanup.callback(spaces[role].delete)
        net = Network(**spaces)
        _wire(net)
        for line in readme_recipe():
            if not line.startswith("dlp-gateway "):
                net.router.run(shlex.split(line))
        yield net


def _upstream(ns: Netns, directory: Path, names: tuple[str, ...], port: int = 443) -> RecordingUpstream:
    with ns.entered():  # the listening socket belongs to the namespace
        return RecordingUpstream(directory, host="::", port=port, names=names, tls=port != 80)


@pytest.fixture(scope="module")
def ai_upstream(network, tmp_path_factory):
    server = _upstream(network.ai, tmp_path_factory.mktemp("ai"), (AI_HOST, "api.openai.com"))
    yield server
    server.close()
    server.server.server_close()


@pytest.fixture(scope="module")
def ai_plain_upstream(network, tmp_path_factory):
    """The AI host's port 80."""
    server = _upstream(network.ai, tmp_path_factory.mktemp("ai80"), (AI_HOST,), port=80)
    yield server
    server.close()
    server.server.server_close()


@pytest.fixture(scope="module")
def web_upstream(network, tmp_path_factory):
    server = _upstream(network.web, tmp_path_factory.mktemp("web"), (WEB_HOST,))
    yield server
    server.close()
    server.server.server_close()


def _recipe_gateway_args() -> tuple[int, list[str]]:
    """(listen port, other arguments) of the recipe's `dlp-gateway run` line."""
    line = next(line for line in readme_recipe() if line.startswith("dlp-gateway run"))
    args = shlex.split(line)[2:]
    at = args.index("--listen-port")
    return int(args[at + 1]), args[:at] + args[at + 2:]


@pytest.fixture(scope="module")
def gateway(network, ai_upstream, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("gateway")
    policy = yaml.safe_load((REPO / "policies" / "default.yaml").read_text())
    policy["settings"]["limits"]["inspect_timeout_seconds"] = 600  # a busy 2-core machine; not what is tested
    policy_path = workdir / "default-slow-machine.yaml"
    policy_path.write_text(yaml.safe_dump(policy, sort_keys=False))
    port, recipe_args = _recipe_gateway_args()
    with network.router.entered():  # the gateway process, its workers and the readiness probe live on the router
        proc = GatewayProcess(workdir, policy_path, upstream_port=None, extra=recipe_args, listen_host="", port=port,
                              upstream_options=(f"ssl_verify_upstream_trusted_ca={ai_upstream.cert}",))
        try:
            proc.wait_ready(timeout=900)
        except BaseException:
            proc.stop()
            raise
    yield proc
    proc.stop()


@dataclass
class CurlResult:
    exit_code: int
    status: int
    headers: str
    body: bytes
    stderr: str


def curl(network: Network, tmp_path: Path, url: str, address: str, cacert: Path, data: bytes | None = None,
         content_type: str = "image/png") -> CurlResult:
    """curl in the client namespace, `url`'s host resolved to `address`; POSTs `data` when given."""
    host = re.match(r"https?://([^/:]+)", url).group(1)
    port = 443 if url.startswith("https") else 80
    addr = f"[{address}]" if ":" in address else address
    out, head, upload = tmp_path / "body", tmp_path / "headers", tmp_path / "upload"
    argv = ["curl", "-sS", "--connect-timeout", "60", "--max-time", "900", "--cacert", str(cacert),
            "--resolve", f"{host}:{port}:{addr}", "-o", str(out), "-D", str(head), "-w", "%{http_code}", url]
    if data is not None:
        upload.write_bytes(data)
        argv += ["--data-binary", f"@{upload}", "-H", f"content-type: {content_type}"]
    done = network.client.run(argv, check=False, timeout=1000)
    return CurlResult(done.returncode, int(done.stdout or 0), head.read_text() if head.exists() else "",
                      out.read_bytes() if out.exists() else b"", done.stderr)


@pytest.fixture(scope="module")
def pii_png() -> bytes:
    return text_image(["Customer record", f"Card {CARD} exp 09/29", f"SSN: {SSN}", f"Email: {EMAIL}"])


@pytest.fixture(scope="module")
def clean_png() -> bytes:
    return text_image(["Quarterly roadmap review", "Ship the new onboarding flow in March"])


def audit_events(gateway: GatewayProcess) -> list[dict]:
    return [json.loads(line) for line in gateway.audit_lines()]


@pytest.mark.parametrize("family", FAMILIES)
def test_pii_upload_to_ai_host_is_blocked(network, gateway, ai_upstream, pii_png, tmp_path, family):
    client_ip, ai_ip, _ = FAMILIES[family]
    path = f"/backend-api/files/pii-{family}"
    r = curl(network, tmp_path, f"https://{AI_HOST}{path}", ai_ip, gateway.ca_cert, pii_png)
    assert r.exit_code == 0, r.stderr
    assert r.status == 403, r.body[:500]
    assert re.search(r"(?im)^x-dlp-action: block\r?$", r.headers)
    assert json.loads(r.body)["error"]["rule"] == "block-financial-identifiers"
    assert ai_upstream.last_for(path) is None
    assert CARD.encode() not in r.body and SSN.encode() not in r.body and EMAIL.encode() not in r.body
    event = next(e for e in audit_events(gateway) if e["incident_id"] == json.loads(r.body)["error"]["incident_id"])
    assert event["destination_host"] == AI_HOST and event["action"] == "block"
    assert event["client_ip"].removeprefix("::ffff:") == client_ip  # the real client, not a proxy hop


@pytest.mark.parametrize("family", FAMILIES)
def test_clean_upload_reaches_ai_host_byte_identical(network, gateway, ai_upstream, clean_png, tmp_path, family):
    _, ai_ip, _ = FAMILIES[family]
    path = f"/backend-api/files/clean-{family}"
    r = curl(network, tmp_path, f"https://{AI_HOST}{path}", ai_ip, gateway.ca_cert, clean_png)
    assert r.exit_code == 0, r.stderr
    assert r.status == 200, r.body[:500]
    assert ai_upstream.last_for(path).body == clean_png
    assert json.loads(r.body)["sha256"] == hashlib.sha256(clean_png).hexdigest()


def test_ai_host_is_decrypted_by_the_gateway_not_the_upstream(network, gateway, ai_upstream, tmp_path):
    """The client is shown the gateway CA's certificate: trusting only the upstream's own one fails."""
    _, ai_ip, _ = FAMILIES["ipv4"]
    r = curl(network, tmp_path, f"https://{AI_HOST}/v1/models", ai_ip, ai_upstream.cert)
    assert r.exit_code == CURL_EXIT_BAD_CERT, (r.exit_code, r.stderr)
    assert ai_upstream.last_for("/v1/models") is None


@pytest.mark.parametrize("family", FAMILIES)
def test_plain_http_to_ai_host_is_redirected_and_inspected(network, gateway, ai_plain_upstream, pii_png, clean_png,
                                                          tmp_path, family):
    """Port 80 goes through the gateway too: the PII upload is blocked there, the clean one arrives unchanged."""
    client_ip, ai_ip, _ = FAMILIES[family]
    blocked = curl(network, tmp_path, f"http://{AI_HOST}/plain/pii-{family}", ai_ip, gateway.ca_cert, pii_png)
    assert blocked.exit_code == 0, blocked.stderr
    assert blocked.status == 403 and re.search(r"(?im)^x-dlp-action: block\r?$", blocked.headers)
    assert ai_plain_upstream.last_for(f"/plain/pii-{family}") is None
    decided = len(audit_events(gateway))
    sent = curl(network, tmp_path, f"http://{AI_HOST}/plain/clean-{family}", ai_ip, gateway.ca_cert, clean_png)
    assert sent.status == 200 and ai_plain_upstream.last_for(f"/plain/clean-{family}").body == clean_png
    event = audit_events(gateway)[decided]  # the gateway decided it (and nothing else happened meanwhile)
    assert event["action"] == "allow" and event["client_ip"].removeprefix("::ffff:") == client_ip


@pytest.mark.parametrize("family", FAMILIES)
def test_non_ai_https_passes_undecrypted(network, gateway, web_upstream, pii_png, tmp_path, family):
    """Another site keeps its own certificate and gets the bytes untouched, PII or not: the gateway only relays."""
    _, _, web_ip = FAMILIES[family]
    path = f"/upload-{family}"
    r = curl(network, tmp_path, f"https://{WEB_HOST}{path}", web_ip, web_upstream.cert, pii_png)
    assert r.exit_code == 0, r.stderr
    assert r.status == 200
    assert web_upstream.last_for(path).body == pii_png
    denied = curl(network, tmp_path, f"https://{WEB_HOST}{path}-again", web_ip, gateway.ca_cert, pii_png)
    assert denied.exit_code == CURL_EXIT_BAD_CERT, (denied.exit_code, denied.stderr)
    assert not [e for e in audit_events(gateway) if e["destination_host"] == WEB_HOST]


class UdpEcho:
    """Echoes datagrams on some UDP ports (IPv4 and IPv6) in a namespace; `received` counts them per port."""

    def __init__(self, ns: Netns, ports: tuple[int, ...]) -> None:
        self.received = {port: 0 for port in ports}
        self._socks = []
        with ns.entered():
            for port in ports:
                sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                sock.bind(("::", port))
                self._socks.append(sock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(self._socks, [], [], 0.2)
            for sock in ready:
                data, peer = sock.recvfrom(2048)
                self.received[sock.getsockname()[1]] += 1
                sock.sendto(data, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self._socks:
            sock.close()


def udp_probe(ns: Netns, address: str, port: int) -> bytes | OSError:
    """One datagram from the namespace; the echo, or the error (ICMP port unreachable -> ConnectionRefusedError)."""
    with ns.entered():
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        sock.settimeout(60)  # a wait, not a measurement
        sock.connect((address, port))
        sock.send(b"quic?")
        try:
            return sock.recv(2048)
        except OSError as err:
            return err


@pytest.mark.parametrize("family", FAMILIES)
def test_quic_udp_443_is_rejected_other_udp_is_forwarded(network, family):
    _, ai_ip, _ = FAMILIES[family]
    echo = UdpEcho(network.ai, (443, 4443))
    try:
        assert udp_probe(network.client, ai_ip, 4443) == b"quic?"  # the router forwards UDP...
        refused = udp_probe(network.client, ai_ip, 443)  # ...but not to port 443, though the echo listens there
        assert isinstance(refused, ConnectionRefusedError), refused
        assert echo.received == {443: 0, 4443: 1}
    finally:
        echo.close()
