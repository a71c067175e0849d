"""Soak: a sustained mixed load through a real gateway, every decision checked, memory sampled over time.

    nice -n 5 python -m bench.soak [--minutes 10] [--uploaders 2] [--keep]

One `dlp-gateway run` (1 worker, all the machine's cores) in front of a local recording HTTPS upstream
(tests/support). For `--minutes`:

  * `--uploaders` clients upload images back to back, each with a known expected decision: PII documents (an
    e-mail address, a card number or an SSN) to the openai destination -> 403 block-pii; PII documents to the
    anthropic destination -> 200 with a redacted image (the upstream receives other bytes); clean documents and
    photos -> 200, forwarded byte-identical. Every image is new (a serial number is drawn into it) except one
    upload in four, which re-sends an earlier image (the report cache). Bodies are raw PUTs, multipart forms,
    OpenAI-style JSON with a base64 data: URL, and gzip-encoded multipart; PNG and JPEG.
  * one client sends small requests every 0.1 s: GETs and small JSON POSTs, in scope (intercepted) and out of
    scope (tunnelled): each must answer 200 with the upstream's echo of the same body.

Reported: uploads and small requests by expected decision, wrong decisions (target 0), errors (target 0: transport
errors, unexpected statuses, and the gateway's own dlp_gateway_errors_total), the gateway process group's RSS
every 5 s with its least-squares slope (MiB per minute) after the first minute and over the second half, and the
growth from the second minute's mean to the last minute's mean, small-request latency per minute. Writes bench/out/soak.json.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import random
import re
import ssl
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.inspection_speed import OUT, machine, pct
from bench.runs import run_and_report
from tests.support.gateway_process import GatewayProcess
from tests.support.images import photo_like, text_image
from tests.support.procmem import group_pids, group_rss_bytes
from tests.support.upstream import RecordingUpstream

POLICY = """\
version: 1
name: soak
settings:
  default_action: allow
  on_error: block
  limits: {inspect_timeout_seconds: 300}
destinations:
  - name: openai
    hosts: [chatgpt.com, api.openai.com, "*.oaiusercontent.com"]
  - name: anthropic
    hosts: [claude.ai, api.anthropic.com]
rules:
  - name: redact-pii-anthropic
    destinations: [anthropic]
    action: redact
    when: {entity: [EMAIL_ADDRESS, CREDIT_CARD, US_SSN]}
  - name: block-pii
    action: block
    when: {entity: [EMAIL_ADDRESS, CREDIT_CARD, US_SSN]}
"""
PII_LINES = [["Please contact the customer:", "Email: jane.doe@corpmail.com"],
             ["Payment details", "Card number 4539 1488 0343 6467 exp 09/29"],
             ["Employee record", "SSN: 536-22-1947"]]
CLEAN_LINES = [["Quarterly roadmap review", "Ship the new onboarding flow in March"],
               ["Team offsite agenda", "Morning: planning. Afternoon: hiking"],
               ["Release notes", "Faster start-up and a new dark theme"]]
WORDS = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "grove", "harbor", "island", "juniper"]
BOUNDARY = "soakBoundary4f9a"


@dataclass
class Upload:
    name: str  # kind of upload, for the report
    expect: str  # "block" | "redact" | "allow"
    image: bytes
    method: str
    url: str
    body: bytes
    headers: dict


def serial_words(n: int) -> str:
    """A serial number in words: unique per image, and never a number a PII recognizer could take for one."""
    return " ".join(WORDS[int(d)] for d in f"{n:05d}")


def make_image(rng: random.Random, pii: bool, n: int) -> bytes:
    if not pii and rng.random() < 0.3:
        w, h = rng.choice([(320, 240), (480, 320), (640, 400)])
        return photo_like(size=(w + n % 7, h), fmt=rng.choice(["JPEG", "PNG"]))
    lines = list(rng.choice(PII_LINES if pii else CLEAN_LINES)) + [f"Ticket {serial_words(n)}"]
    return text_image(lines, size=(900, 260), fmt=rng.choice(["PNG", "PNG", "JPEG"]))


def wrap(image: bytes, expect: str, rng: random.Random, n: int) -> Upload:
    """The image in one of four body shapes, to the destination its expected decision needs."""
    host = "claude.ai" if expect == "redact" or (expect == "allow" and rng.random() < 0.3) else "chatgpt.com"
    mime = "image/jpeg" if image[:3] == b"\xff\xd8\xff" else "image/png"
    shape = rng.choice(["raw", "multipart", "json", "gzip-multipart"]) if host == "chatgpt.com" else \
        rng.choice(["multipart", "gzip-multipart"])
    if shape == "raw":
        return Upload(f"{expect}/raw", expect, image, "PUT", f"https://files.oaiusercontent.com/soak-{n}", image,
                      {"content-type": mime})
    if shape == "json":
        doc = {"model": "gpt-4o", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:{mime};base64," + base64.b64encode(image).decode()}}]}]}
        return Upload(f"{expect}/json", expect, image, "POST", f"https://api.openai.com/v1/chat/completions?n={n}",
                      json.dumps(doc).encode(), {"content-type": "application/json"})
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s{n}.png\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode() + image + \
        f"\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nvision\r\n--{BOUNDARY}--\r\n".encode()
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if shape == "gzip-multipart":
        body, headers["content-encoding"] = gzip.compress(body, 6), "gzip"
    path = "/api/upload" if host == "claude.ai" else "/backend-api/files"
    return Upload(f"{expect}/{shape}", expect, image, "POST", f"https://{host}{path}?n={n}", body, headers)


class Tally:
    """Thread-safe counters and the list of problems (each a short string)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.wrong: list[str] = []
        self.errors: list[str] = []
        self.upload_seconds: list[float] = []
        self.small_seconds: dict[int, list[float]] = {}  # minute -> latencies

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1


def check_upload(r: httpx.Response, up: Upload) -> str | None:
    """None if the answer is the expected decision, else what went wrong."""
    sent_sha = hashlib.sha256(up.body).hexdigest()
    if up.expect == "block":
        ok = r.status_code == 403 and r.headers.get("x-dlp-rule") == "block-pii"
    elif up.expect == "allow":
        ok = r.status_code == 200 and r.json().get("sha256") == sent_sha
    else:  # redact: forwarded, but not the bytes that were sent
        ok = r.status_code == 200 and r.json().get("sha256") not in (None, sent_sha)
    return None if ok else f"{up.name}: got {r.status_code} rule={r.headers.get('x-dlp-rule', '')!r}"


def uploader(k: int, gw: GatewayProcess, verify: ssl.SSLContext, deadline: float, tally: Tally,
             serials: iter) -> None:
    rng = random.Random(1000 + k)
    sent: list[tuple[bytes, str]] = []
    with httpx.Client(proxy=gw.proxy_url, verify=verify, timeout=600) as c:
        while time.monotonic() < deadline:
            n = next(serials)
            if sent and rng.random() < 0.25:
                image, expect = rng.choice(sent)
                label = "repeat"
            else:
                expect = rng.choices(["block", "redact", "allow"], [0.35, 0.2, 0.45])[0]
                image = make_image(rng, expect != "allow", n)
                sent = (sent + [(image, expect)])[-20:]
                label = "new"
            up = wrap(image, expect, rng, n)
            t = time.perf_counter()
            try:
                r = c.request(up.method, up.url, content=up.body, headers=up.headers)
            except httpx.HTTPError as err:
                with tally.lock:
                    tally.errors.append(f"{up.name}: {type(err).__name__}: {err}")
                continue
            seconds = time.perf_counter() - t
            problem = check_upload(r, up)
            with tally.lock:
                tally.upload_seconds.append(seconds)
                tally.counts[f"upload {up.name} ({label})"] = tally.counts.get(f"upload {up.name} ({label})", 0) + 1
                if problem:
                    (tally.errors if r.status_code >= 500 else tally.wrong).append(problem)


def small_requests(gw: GatewayProcess, verify: ssl.SSLContext, upstream_port: int, deadline: float, started: float,
                   tally: Tally) -> None:
    oos = f"https://localhost:{upstream_port}"
    payload = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Summarise this."}]}).encode()
    cases = [("GET", "https://api.openai.com/v1/models", None), ("POST", "https://api.openai.com/v1/chat", payload),
             ("GET", f"{oos}/status", None), ("POST", f"{oos}/echo", payload)]
    i = 0
    with httpx.Client(proxy=gw.proxy_url, verify=verify, timeout=120) as c:
        while time.monotonic() < deadline:
            method, url, body = cases[i % len(cases)]
            i += 1
            t = time.perf_counter()
            try:
                r = c.request(method, url, content=body)
                seconds = time.perf_counter() - t
                ok = r.status_code == 200 and r.json().get("sha256") == hashlib.sha256(body or b"").hexdigest()
            except (httpx.HTTPError, ValueError) as err:
                seconds, ok = time.perf_counter() - t, False
                r = err
            minute = int((time.monotonic() - started) // 60)
            with tally.lock:
                tally.small_seconds.setdefault(minute, []).append(seconds)
                tally.counts[f"small {method} {'in' if 'openai' in url else 'out-of'}-scope"] = \
                    tally.counts.get(f"small {method} {'in' if 'openai' in url else 'out-of'}-scope", 0) + 1
                if not ok:
                    tally.errors.append(f"small {method} {url}: {r}")
            time.sleep(max(0.0, 0.1 - seconds))


def slope_mib_per_minute(samples: list[tuple[float, int]]) -> float:
    if len(samples) < 2:
        return float("nan")
    xs = [t / 60 for t, _ in samples]
    ys = [rss / 2**20 for _, rss in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def gateway_errors(gw: GatewayProcess) -> dict[str, float]:
    found = {}
    for m in re.finditer(r'^dlp_gateway_errors_total\{kind="([^"]+)"\} ([0-9.e+]+)$', gw.metrics_text(), re.M):
        if float(m.group(2)):
            found[m.group(1)] = float(m.group(2))
    return found


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    (tmp / "soak.yaml").write_text(POLICY)
    upstream = RecordingUpstream(tmp)
    upstream.server.RequestHandlerClass.disable_nagle_algorithm = True
    gw = GatewayProcess(tmp / "gw", tmp / "soak.yaml", upstream.port)
    result: dict = {"machine": machine(), "minutes": args.minutes, "uploaders": args.uploaders,
                    "command": "python -m bench.soak " + " ".join(sys.argv[1:])}
    tally = Tally()
    rss_samples: list[tuple[float, int]] = []
    try:
        gw.wait_ready()
        ctx = ssl.create_default_context(cafile=str(gw.ca_cert))
        ctx.load_verify_locations(cafile=str(upstream.cert))
        started = time.monotonic()
        deadline = started + args.minutes * 60
        serials = iter(range(10**6))
        threads = [threading.Thread(target=uploader, args=(k, gw, ctx, deadline, tally, serials))
                   for k in range(args.uploaders)]
        threads.append(threading.Thread(target=small_requests,
                                        args=(gw, ctx, upstream.port, deadline, started, tally)))
        for t in threads:
            t.start()
        next_report = started + 60
        while any(t.is_alive() for t in threads):
            rss_samples.append((time.monotonic() - started, group_rss_bytes(gw.proc.pid)))
            with upstream._lock:
                upstream.received.clear()  # the bench's own memory; the upstream's answers carry the sha256
            if time.monotonic() >= next_report:
                next_report += 60
                with tally.lock:
                    n_up, wrong, errs = len(tally.upload_seconds), len(tally.wrong), len(tally.errors)
                print(f"[{(time.monotonic() - started) / 60:4.1f} min] uploads {n_up}, wrong {wrong}, errors {errs}, "
                      f"RSS {rss_samples[-1][1] / 2**20:.0f} MiB", file=sys.stderr, flush=True)
            time.sleep(5)
        for t in threads:
            t.join()
        result["gateway_errors_total"] = gateway_errors(gw)
        result["gateway_alive"] = gw.proc.poll() is None
        result["processes_in_group"] = len(group_pids(gw.proc.pid))
        result["worker_restarts_logged"] = gw.log().count("restarting")
    finally:
        gw.stop()
        upstream.close()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    after_warmup = [(t, r) for t, r in rss_samples if t >= 60]
    last = [r for t, r in rss_samples if t >= rss_samples[-1][0] - 60]
    second = [r for t, r in rss_samples if 60 <= t < 120]
    result.update({
        "counts": dict(sorted(tally.counts.items())),
        "uploads": len(tally.upload_seconds),
        "wrong_decisions": tally.wrong,
        "errors": tally.errors,
        "upload_latency": {"p50_s": pct(tally.upload_seconds, 50), "p95_s": pct(tally.upload_seconds, 95)},
        "small_latency_by_minute": {m: {"n": len(v), "p50_ms": pct(v, 50) * 1e3, "p95_ms": pct(v, 95) * 1e3}
                                    for m, v in sorted(tally.small_seconds.items())},
        "rss_mib": [[round(t), round(r / 2**20)] for t, r in rss_samples],
        "rss_slope_mib_per_min_after_1st_minute": slope_mib_per_minute(after_warmup),
        "rss_slope_mib_per_min_second_half": slope_mib_per_minute(
            [(t, r) for t, r in rss_samples if t >= args.minutes * 30]),
        "rss_growth_mib_2nd_to_last_minute": (statistics.fmean(last) - statistics.fmean(second)) / 2**20
        if last and second else float("nan"),
        "rss_peak_mib": max((r for _, r in rss_samples), default=0) / 2**20,
        "loadavg_end": list(__import__("os").getloadavg()),
    })
    return result


def markdown(r: dict) -> str:
    m = r["machine"]
    small = r["small_latency_by_minute"]
    lines = [f"Machine: {m['nproc']} cores, {m['cpu']}; load avg {m['loadavg_start'][0]:.2f} at start, "
             f"{r['loadavg_end'][0]:.2f} at end; {r['minutes']:g} min, {r['uploaders']} uploaders + 1 small-request "
             f"client", "",
             "| what | result | target |", "|---|---|---|",
             f"| uploads decided | {r['uploads']} (p50 {r['upload_latency']['p50_s']:.2f} s, "
             f"p95 {r['upload_latency']['p95_s']:.2f} s) | |",
             f"| small requests | {sum(v['n'] for v in small.values())} | |",
             f"| wrong decisions | {len(r['wrong_decisions'])} | 0 ({'ok' if not r['wrong_decisions'] else 'MISSED'}) |",
             f"| errors (client side; gateway errors_total {r['gateway_errors_total'] or 0}) | {len(r['errors'])} | "
             f"0 ({'ok' if not r['errors'] and not r['gateway_errors_total'] else 'MISSED'}) |",
             f"| worker restarts (log) | {r['worker_restarts_logged']} | 0 |",
             f"| group RSS slope after the 1st minute | {r['rss_slope_mib_per_min_after_1st_minute']:+.2f} MiB/min | ~0 |",
             f"| group RSS slope over the second half | {r['rss_slope_mib_per_min_second_half']:+.2f} MiB/min | ~0 |",
             f"| group RSS, 2nd minute mean -> last minute mean | {r['rss_growth_mib_2nd_to_last_minute']:+.0f} MiB "
             f"(peak {r['rss_peak_mib']:.0f} MiB) | flat |",
             "", "Counts: " + ", ".join(f"{k} {v}" for k, v in r["counts"].items()), "",
             "Small-request latency by minute (p50 / p95 ms): " + ", ".join(
                 f"{k}: {v['p50_ms']:.0f} / {v['p95_ms']:.0f}" for k, v in small.items()),
             "", "RSS samples (s, MiB), every 60 s: " + ", ".join(
                 f"{t}: {mb}" for t, mb in r["rss_mib"] if t % 60 < 5)]
    for title, items in (("Wrong decisions", r["wrong_decisions"]), ("Errors", r["errors"])):
        if items:
            lines += ["", f"{title} (first 10):"] + [f"- {x}" for x in items[:10]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the load (default 10)")
    ap.add_argument("--uploaders", type=int, default=2, help="clients uploading back to back (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory (logs, audit)")
    ap.add_argument("--out", type=Path, default=OUT / "soak.json")
    args = ap.parse_args(argv)
    result = run_and_report(args, run, markdown)
    return 0 if not result["wrong_decisions"] and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
