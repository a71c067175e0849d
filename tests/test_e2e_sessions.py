"""End to end: chunked/resumable upload sessions and WebSocket messages through a real `dlp-gateway run`, real
clients (httpx, the `websockets` library) and a recording upstream that speaks Google resumable, Graph upload
sessions and WebSockets (tests/support/upload_services.py). Real OCR decides."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import ssl
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.gateway_process import GatewayProcess
from tests.support.images import text_image
from tests.support.procmem import PeakSampler, rss_bytes
from tests.support.upload_services import UploadServices
from tests.support.upstream import RecordingUpstream

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

POLICY = Path(__file__).parent / "policies" / "sessions.yaml"
EMAIL = "jane.doe@corpmail.com"
TIMEOUT_S = 6  # dlp_session_timeout of the gateway under test
MEMORY_MIB = 4  # dlp_session_memory_mb
CHUNK = 2**20


@pytest.fixture(scope="module")
def services() -> UploadServices:
    return UploadServices()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory, services):
    server = RecordingUpstream(tmp_path_factory.mktemp("upstream"), responder=services)
    yield server
    server.close()


@pytest.fixture(scope="module")
def spill_parent(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spill")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, upstream, spill_parent):
    extra = ["--set", f"dlp_session_timeout={TIMEOUT_S}", "--set", f"dlp_session_memory_mb={MEMORY_MIB}",
             "--set", "dlp_session_max_held_mb=256", "--set", f"dlp_session_dir={spill_parent}"]
    proc = GatewayProcess(tmp_path_factory.mktemp("gateway"), POLICY, upstream.port, extra=extra)
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def client(gateway: GatewayProcess) -> httpx.Client:
    return httpx.Client(proxy=gateway.proxy_url, verify=ssl.create_default_context(cafile=str(gateway.ca_cert)),
                        timeout=180)


@pytest.fixture(scope="module")
def clean_png() -> bytes:
    return text_image(["Quarterly roadmap review", "Ship the onboarding flow in March"], size=(700, 160))


@pytest.fixture(scope="module")
def pii_png() -> bytes:
    return text_image(["Please contact the customer:", f"Email: {EMAIL}"], size=(700, 160))


def thirds(data: bytes) -> list[bytes]:
    a, b = len(data) // 3, 2 * len(data) // 3
    return [data[:a], data[a:b], data[b:]]


def gemini_upload(gateway: GatewayProcess, image: bytes, name: str) -> tuple[str, list[httpx.Response]]:
    """A Gemini-style resumable upload in three chunks; returns the session path and every answer."""
    with client(gateway) as c:
        start = c.post("https://push.clients6.google.com/upload/", content=json.dumps({"name": name}).encode(),
                       headers={"x-goog-upload-protocol": "resumable", "x-goog-upload-command": "start",
                                "x-goog-upload-header-content-length": str(len(image)),
                                "x-goog-upload-header-content-type": "image/png",
                                "content-type": "application/x-www-form-urlencoded;charset=utf-8"})
        assert start.status_code == 200 and start.headers["x-goog-upload-status"] == "active", start.text
        url = start.headers["x-goog-upload-url"]
        answers, offset = [start], 0
        for number, part in enumerate(thirds(image), 1):
            command = "upload, finalize" if number == 3 else "upload"
            answers.append(c.post(url, content=part, headers={"x-goog-upload-command": command,
                                                              "x-goog-upload-offset": str(offset),
                                                              "x-client-chunk": str(number)}))
            offset += len(part)
    return httpx.URL(url).raw_path.decode(), answers


def test_gemini_three_chunk_clean_upload_arrives_as_the_same_chunks_byte_identical(gateway, upstream, services,
                                                                                  clean_png):
    path, answers = gemini_upload(gateway, clean_png, "clean.png")
    *held, final = answers[1:]
    sizes = [str(len(b"".join(thirds(clean_png)[:n]))) for n in (1, 2)]
    assert [(a.status_code, a.headers["x-goog-upload-status"], a.headers["x-goog-upload-size-received"])
            for a in held] == [(200, "active", size) for size in sizes]  # held, answered as Google does
    assert final.status_code == 200, final.text
    assert final.json()["sha256"] == hashlib.sha256(clean_png).hexdigest()  # the service's own answer
    got = [r for r in upstream.received if r.path == path]
    assert [r.body for r in got] == thirds(clean_png)  # start, then each chunk, in order, unchanged
    assert [r.headers["x-client-chunk"] for r in got] == ["1", "2", "3"]
    assert [r.headers["x-goog-upload-command"] for r in got] == ["upload", "upload", "upload, finalize"]
    assert services.files[path] == clean_png
    event = [json.loads(line) for line in gateway.audit_lines() if json.loads(line).get("upload_id")][-1]
    assert event["action"] == "allow" and event["upload_pieces"] == 4


def test_gemini_three_chunk_upload_with_pii_in_chunk_two_never_reaches_the_upstream(gateway, upstream, pii_png):
    first, second, third = thirds(pii_png)
    assert EMAIL.encode() not in pii_png  # the e-mail is pixels in chunk 2's rows, not text
    path, answers = gemini_upload(gateway, pii_png, "pii.png")
    assert [a.status_code for a in answers[1:3]] == [200, 200]  # held, answered like Google
    final = answers[3]
    assert final.status_code == 403 and final.json()["error"]["rule"] == "block-pii"
    assert not [r for r in upstream.received if r.path == path]  # no chunk of it, ever
    with client(gateway) as c:  # any later chunk of that session gets the block too
        again = c.post(f"https://push.clients6.google.com{path}", content=second,
                       headers={"x-goog-upload-command": "upload", "x-goog-upload-offset": str(len(first))})
    assert again.status_code == 403 and not [r for r in upstream.received if r.path == path]
    event = [json.loads(line) for line in gateway.audit_lines() if json.loads(line)["action"] == "block"][-1]
    assert event["upload_id"].startswith("up-") and event["entities"].get("EMAIL_ADDRESS")
    assert EMAIL not in "\n".join(gateway.audit_lines())


def graph_upload(gateway: GatewayProcess, image: bytes, path: str) -> list[httpx.Response]:
    size = len(image) // 3 + 1
    answers = []
    with client(gateway) as c:
        for start in range(0, len(image), size):
            piece = image[start:start + size]
            answers.append(c.put(f"https://corp-my.sharepoint.com{path}", content=piece, headers={
                "content-range": f"bytes {start}-{start + len(piece) - 1}/{len(image)}"}))
    return answers


def test_graph_upload_session_clean_arrives_whole_and_pii_never_leaves(gateway, upstream, services, clean_png,
                                                                      pii_png):
    clean_path = "/personal/jane/_api/v2.0/drives/b!x/items/01/uploadSession?guid=clean&tempauth=t"
    answers = graph_upload(gateway, clean_png, clean_path)
    assert [a.status_code for a in answers] == [202, 202, 201]
    assert answers[0].json()["nextExpectedRanges"] == [f"{len(clean_png) // 3 + 1}-"]
    assert services.files[clean_path] == clean_png
    assert [len(r.body) for r in upstream.received if r.path == clean_path] == [len(clean_png) // 3 + 1] * 2 + [
        len(clean_png) - 2 * (len(clean_png) // 3 + 1)]
    pii_path = "/personal/jane/_api/v2.0/drives/b!x/items/02/uploadSession?guid=pii&tempauth=t"
    answers = graph_upload(gateway, pii_png, pii_path)
    assert [a.status_code for a in answers] == [202, 202, 403]
    assert not [r for r in upstream.received if r.path == pii_path]


def test_a_chunk_of_a_session_the_gateway_never_saw_is_refused(gateway, upstream):
    with client(gateway) as c:
        r = c.post("https://push.clients6.google.com/upload/?upload_id=elsewhere&upload_protocol=resumable",
                   content=b"x" * 1000, headers={"x-goog-upload-command": "upload", "x-goog-upload-offset": "5000"})
    assert r.status_code == 403 and r.json()["error"]["rule"] == "unknown_upload_session"
    assert not [x for x in upstream.received if "elsewhere" in x.path]


def copilot_send(image: bytes) -> str:
    return json.dumps({"event": "send", "conversationId": "conv-7", "mode": "chat", "content": [
        {"type": "text", "text": "What does this say?"},
        {"type": "image", "url": "data:image/png;base64," + base64.b64encode(image).decode()}]})


def ws(gateway: GatewayProcess, url: str):
    return connect(url, proxy=gateway.proxy_url, ssl=ssl.create_default_context(cafile=str(gateway.ca_cert)),
                   open_timeout=30, close_timeout=10, max_size=2**24)


def test_copilot_websocket_message_with_a_pii_image_is_dropped_and_audited_a_clean_one_arrives(
        gateway, upstream, clean_png, pii_png):
    clean, pii = copilot_send(clean_png), copilot_send(pii_png)
    with ws(gateway, "wss://copilot.microsoft.com/c/api/chat?api-version=2&clientSessionId=s1") as sock:
        sock.send(clean)
        ack = json.loads(sock.recv(timeout=180))
        assert ack == {"event": "received", "sha256": hashlib.sha256(clean.encode()).hexdigest()}
        sock.send(pii)
        answer = json.loads(sock.recv(timeout=180))
        assert answer["event"] == "error" and answer["conversationId"] == "conv-7" and answer["rule"] == "block-pii"
        sock.send('{"event":"ping"}')  # the socket stays usable: the conversation goes on without the image
        assert json.loads(sock.recv(timeout=60))["event"] == "received"
    texts = [m.data for m in upstream.ws_received if m.path.startswith("/c/api/chat")]
    assert texts == [clean, '{"event":"ping"}']  # the clean message byte-identical; the PII one never arrived
    blocked = [json.loads(line) for line in gateway.audit_lines() if '"WEBSOCKET"' in line]
    assert [(e["action"], e["destination_host"]) for e in blocked if e["action"] == "block"] == [
        ("block", "copilot.microsoft.com")]
    assert blocked[-1]["incident_id"] == answer["incidentId"]


def test_a_blocked_websocket_message_without_an_app_shape_closes_the_socket_with_1008(gateway, upstream, pii_png):
    with ws(gateway, "wss://gemini.google.com/ws/stream") as sock:
        sock.send(pii_png)  # a binary message: the file itself
        with pytest.raises(ConnectionClosed) as closed:
            sock.recv(timeout=180)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "DLP policy" in closed.value.rcvd.reason
    assert not [m for m in upstream.ws_received if m.path == "/ws/stream"]
    deadline = time.monotonic() + 10
    while ("/ws/stream", 1008) not in upstream.ws_closes and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ("/ws/stream", 1008) in upstream.ws_closes  # the service is told too


def metric(gateway: GatewayProcess, name: str) -> float:
    text = gateway.metrics_text()
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def spill_files(pid: int, parent: Path) -> list[str]:
    """Open (unlinked) spill files of the gateway, from /proc/PID/fd."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(parent)):
            out.append(target)
    return out


def test_twenty_half_finished_sessions_keep_memory_bounded_and_abandoned_ones_are_freed(gateway, upstream,
                                                                                        spill_parent):
    sessions, chunks, workers = 20, 4, 4
    total = (chunks + 1) * CHUNK  # each file is one chunk longer than what is sent: never finished
    payload = os.urandom(CHUNK)

    def put(number: int, part: int) -> int:
        with client(gateway) as c:
            return c.put(f"https://corp-my.sharepoint.com/big/{number}?tempauth=t", content=payload, headers={
                "content-range": f"bytes {part * CHUNK}-{(part + 1) * CHUNK - 1}/{total}"}).status_code

    put(99, 0)  # warm up (TLS, certificates, code paths)
    urllib.request.urlopen(gateway.url("/metrics")).read()
    baseline = rss_bytes(gateway.proc.pid)
    with PeakSampler(gateway.proc.pid) as sampler, ThreadPoolExecutor(workers) as pool:
        for part in range(chunks):  # round by round, so every session stays alive (idle < the timeout)
            assert set(pool.map(lambda n: put(n, part), range(sessions))) == {202}
    held = sessions * chunks * CHUNK
    assert metric(gateway, "dlp_gateway_upload_sessions") == sessions + 1
    memory = metric(gateway, 'dlp_gateway_upload_session_held_bytes{storage="memory"}')
    disk = metric(gateway, 'dlp_gateway_upload_session_held_bytes{storage="disk"}')
    assert memory <= MEMORY_MIB * 2**20 and memory + disk == held + CHUNK
    # The bound: the in-memory budget, each in-flight chunk a few times over (TLS buffers, the request, the held
    # copy), and a fixed slack for the allocator; holding everything would cost `held` (80 MiB) on top.
    in_flight = workers * CHUNK * 4
    cap = MEMORY_MIB * 2**20 + in_flight + 24 * 2**20
    grown = sampler.peak - baseline
    print(f"\nproxy RSS baseline {baseline / 2**20:.1f} MiB, peak +{grown / 2**20:.1f} MiB while holding "
          f"{held / 2**20:.0f} MiB (cap +{cap / 2**20:.0f} MiB)")
    assert grown < cap < held
    # 4 MiB of memory hold 4 chunks: the warm-up one and 3 others, so each of the 20 sessions spilled some.
    assert len(spill_files(gateway.proc.pid, spill_parent)) == sessions
    deadline = time.monotonic() + TIMEOUT_S * 3
    while metric(gateway, "dlp_gateway_upload_sessions") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert metric(gateway, "dlp_gateway_upload_sessions") == 0  # abandoned: freed after the timeout
    assert metric(gateway, 'dlp_gateway_upload_session_held_bytes{storage="disk"}') == 0
    assert metric(gateway, "dlp_gateway_upload_sessions_expired_total") >= sessions + 1
    assert spill_files(gateway.proc.pid, spill_parent) == []  # every spill file closed: its disk space freed
    assert put(3, chunks) == 403  # the next chunk of an expired session: never forwarded
    assert not [r for r in upstream.received if r.path.startswith("/big/")]


def test_an_http2_client_session_is_replayed_to_an_http1_upstream(gateway, upstream, services, clean_png, tmp_path):
    """curl speaks HTTP/2 to the proxy; the held chunks go to the HTTP/1.1 upstream as mitmproxy sends any request."""
    import subprocess

    path = "/personal/jane/_api/v2.0/drives/b!x/items/03/uploadSession?guid=h2&tempauth=t"
    size = len(clean_png) // 2 + 1
    codes = []
    for start in (0, size):
        piece = clean_png[start:start + size]
        (tmp_path / "piece.bin").write_bytes(piece)
        out = subprocess.run(
            ["curl", "-sS", "--http2", "--proxy", gateway.proxy_url, "--cacert", str(gateway.ca_cert), "-X", "PUT",
             "-H", f"content-range: bytes {start}-{start + len(piece) - 1}/{len(clean_png)}",
             "--data-binary", f"@{tmp_path / 'piece.bin'}", "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
             f"https://corp-my.sharepoint.com{path}"], capture_output=True, text=True, timeout=180, check=True)
        codes.append(out.stdout)
    assert codes == ["202 2", "201 2"]
    assert services.files[path] == clean_png
