"""Proxy-level speed benchmark: plain `mitmdump` vs `dlp-gateway run`, measured in the same run on 127.0.0.1.

    python -m bench.proxy [--quick] [--workers 1] [--policy FILE]

Both proxies run side by side in front of one local recording HTTPS upstream (tests/support), with the same
mitmproxy, `connection_strategy=lazy`, `ssl_insecure=true` and the test redirect script. Requests to the two proxies
are interleaved so that load from other processes on the machine hits both equally. Sections:

  a. small non-image requests (GET / small JSON POST, in-scope api.openai.com and out-of-scope localhost:<upstream>)
  b. image uploads (clean 1024x768 screenshot forwarded; e-mail document blocked; e-mail document redacted)
  c. small requests while images are being inspected, vs idle (is the event loop free?)
  d. upload throughput with 1, 2, 4 concurrent clients, and peak RSS of the gateway process tree
  e. the same image sent again (content-hash cache): gateway-added latency
  f. start-up time to /readyz

Default policy: policies/default.yaml plus one rule that blocks e-mail addresses for the openai destination (so
both block and redact are exercised). Prints a markdown table and writes bench/out/proxy.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path

import httpx
import psutil
import yaml

from bench.inspection_speed import OUT, email_document, machine, pct, screenshot
from bench.runs import log, run_and_report
from tests.support.gateway_process import (
    REDIRECT_SCRIPT,
    REPO,
    GatewayProcess,
    free_port,
)
from tests.support.upstream import RecordingUpstream

BOUNDARY = "benchBoundary7MA4YWxkTrZu0gW"
_serial = itertools.count(1000)  # every upload gets a distinct image unless a repeat is wanted


# --------------------------------------------------------------------------------------------- processes


class PlainMitmdump:
    """The baseline: plain mitmdump with the same options and redirect script, no DLP addon."""

    def __init__(self, workdir: Path, upstream_port: int) -> None:
        self.confdir = workdir / "confdir"
        self.confdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        exe = Path(sys.executable).with_name("mitmdump")
        args = [str(exe if exe.exists() else shutil.which("mitmdump")),
                "--listen-host", "127.0.0.1", "--listen-port", str(self.port),
                "--set", f"confdir={self.confdir}", "--set", "flow_detail=0",
                "--set", "connection_strategy=lazy", "--set", "ssl_insecure=true",
                "-s", str(REDIRECT_SCRIPT), "--set", f"test_upstream=127.0.0.1:{upstream_port}"]
        self._log = open(workdir / "mitmdump.log", "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO,
                                     start_new_session=True)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_cert(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def wait_ready(self, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump exited with {self.proc.returncode}")
            if self.ca_cert.exists():
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return time.perf_counter() - self.started
                except OSError:
                    pass
            time.sleep(0.1)
        raise TimeoutError("mitmdump did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()


def wait_gateway_ready(gw: GatewayProcess, started: float, timeout: float = 300) -> float:
    """Seconds from process start to /readyz 200 (polled every 100 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gw.proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {gw.proc.returncode}:\n{gw.log()}")
        try:
            with urllib.request.urlopen(gw.url("/readyz"), timeout=1) as resp:
                if resp.status == 200 and gw.ca_cert.exists():
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"gateway not ready after {timeout}s:\n{gw.log()}")


class RssSampler:
    """Samples the summed RSS of a process and all its descendants every 100 ms; peak per phase."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.phase = "start-up"
        self.peaks: dict[str, int] = {}
        self.nprocs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> int:
        total = 0
        try:
            procs = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        self.nprocs = max(self.nprocs, len(procs))
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = self.sample()
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    @property
    def peak(self) -> int:
        return max(self.peaks.values(), default=0)


# --------------------------------------------------------------------------------------------- requests


def ssl_context(*cafiles: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    for f in cafiles:
        ctx.load_verify_locations(cafile=str(f))
    return ctx


def multipart(image: bytes, filename: str = "image.png", mime: str = "image/png") -> tuple[bytes, dict]:
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode() + image + (
        f"\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nvision\r\n--{BOUNDARY}--\r\n"
    ).encode()
    return body, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


class Sample:
    __slots__ = ("seconds", "status", "forwarded_unchanged")

    def __init__(self, seconds: float, status: int, forwarded_unchanged: bool | None) -> None:
        self.seconds, self.status, self.forwarded_unchanged = seconds, status, forwarded_unchanged


def send(client: httpx.Client, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> Sample:
    t = time.perf_counter()
    r = client.request(method, url, content=body, headers=headers)
    r.read()
    seconds = time.perf_counter() - t
    unchanged = None
    if r.status_code == 200 and body is not None:
        try:
            unchanged = r.json().get("sha256") == sha256(body).hexdigest()
        except ValueError:
            pass
    return Sample(seconds, r.status_code, unchanged)


SMALL_JSON = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Summarise this paragraph."}],
                         "max_tokens": 64}).encode()


def small_cases(upstream_port: int) -> dict[str, tuple[str, str, bytes | None, dict | None]]:
    oos = f"https://localhost:{upstream_port}"
    jh = {"content-type": "application/json"}
    return {
        "GET in-scope (api.openai.com)": ("GET", "https://api.openai.com/v1/models", None, None),
        "POST JSON in-scope (api.openai.com)": ("POST", "https://api.openai.com/v1/chat/completions", SMALL_JSON, jh),
        "GET out-of-scope (localhost)": ("GET", f"{oos}/status", None, None),
        "POST JSON out-of-scope (localhost)": ("POST", f"{oos}/api/echo", SMALL_JSON, jh),
    }


def stats(samples: list[Sample]) -> dict:
    secs = [s.seconds for s in samples]
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    out = {"n": len(secs), "p50_ms": pct(secs, 50) * 1e3, "p95_ms": pct(secs, 95) * 1e3,
           "mean_ms": statistics.fmean(secs) * 1e3 if secs else float("nan"), "status": statuses}
    fwd = [s.forwarded_unchanged for s in samples if s.forwarded_unchanged is not None]
    if fwd:
        out["forwarded_unchanged"] = sum(fwd)
    return out


def interleaved(n: int, plain: Callable[[int], Sample], gw: Callable[[int], Sample],
                pause: float = 0.0) -> tuple[list[Sample], list[Sample]]:
    """n samples from each side, alternating which goes first, so both see the same background load."""
    ps, gs = [], []
    for i in range(n):
        if i % 2:
            ps.append(plain(i)); gs.append(gw(i))
        else:
            gs.append(gw(i)); ps.append(plain(i))
        if pause:
            time.sleep(pause)
    return ps, gs


# --------------------------------------------------------------------------------------------- benchmark


def bench_policy(workdir: Path, base: Path, timeout: float = 600) -> Path:
    """The default policy plus a rule blocking e-mail addresses sent to the openai destination."""
    from gateway.policy import load_policy

    doc = yaml.safe_load(base.read_text())
    doc["name"] = f"{doc.get('name', 'policy')}-bench"
    doc["rules"].insert(0, {"name": "bench-block-email-openai", "destinations": ["openai"], "action": "block",
                            "when": {"entity": "EMAIL_ADDRESS"}})
    # On a loaded machine an inspection can exceed the default 60 s; we measure inspection, not on_error.
    doc.setdefault("settings", {}).setdefault("limits", {})["inspect_timeout_seconds"] = timeout
    path = workdir / "bench-policy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    load_policy(str(path))  # fail before starting anything
    return path


def run(args: argparse.Namespace) -> dict:
    q = args.quick
    n_small = 40 if q else 200
    n_img = 2 if q else 8
    n_busy = 40 if q else 120
    n_tput = 1 if q else 8  # uploads per N, split over the N clients (at least one each)
    n_repeat = 5 if q else 15

    workdir = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    result: dict = {"machine": machine(), "quick": q, "workers": args.workers,
                    "command": "python -m bench.proxy " + " ".join(sys.argv[1:])}
    policy = Path(args.policy) if args.policy else bench_policy(workdir, Path(REPO / "policies" / "default.yaml"))
    result["policy"] = (str(policy) if args.policy else
                        "policies/default.yaml + rule bench-block-email-openai + inspect_timeout_seconds 600")
    upstream = RecordingUpstream(workdir)
    # Its handler writes headers and body separately: without TCP_NODELAY every response stalls ~40 ms on
    # Nagle + delayed ACK, which would hide the proxy overhead we are measuring.
    upstream.server.RequestHandlerClass.disable_nagle_algorithm = True
    plain = PlainMitmdump(workdir / "plain", upstream.port)
    started = time.perf_counter()
    (workdir / "gw").mkdir()
    gw = GatewayProcess(workdir / "gw", policy, upstream.port, workers=args.workers)
    rss = RssSampler(gw.proc.pid)
    plain_rss = RssSampler(plain.proc.pid)
    try:
        plain_ready = plain.wait_ready()
        gw_ready = wait_gateway_ready(gw, started)
        result["f_startup"] = {"gateway_readyz_s": gw_ready, "plain_mitmdump_listening_s": plain_ready,
                               "target_s": 15, "note": "both started at the same time, sharing the cores"}
        log(f"f. start-up: gateway /readyz after {gw_ready:.1f}s, plain mitmdump listening after {plain_ready:.1f}s")

        pctx = ssl_context(plain.ca_cert, upstream.cert)
        gctx = ssl_context(gw.ca_cert, upstream.cert)

        def pclient() -> httpx.Client:
            return httpx.Client(proxy=plain.proxy_url, verify=pctx, timeout=300)

        def gclient() -> httpx.Client:
            return httpx.Client(proxy=gw.proxy_url, verify=gctx, timeout=300)

        cases = small_cases(upstream.port)

        # a. small non-image requests
        rss.phase = "a_small"
        result["a_small"] = {}
        with pclient() as pc, gclient() as gc:
            for name, (method, url, body, headers) in cases.items():
                for _ in range(5):  # warm-up: CONNECT tunnel, TLS, first-flow code paths
                    send(pc, method, url, body, headers); send(gc, method, url, body, headers)
                ps, gs = interleaved(n_small, lambda i: send(pc, method, url, body, headers),
                                     lambda i: send(gc, method, url, body, headers))
                row = {"plain": stats(ps), "gateway": stats(gs)}
                row["ratio_p50"] = row["gateway"]["p50_ms"] / row["plain"]["p50_ms"]
                row["ratio_p95"] = row["gateway"]["p95_ms"] / row["plain"]["p95_ms"]
                result["a_small"][name] = row
                log(f"a. {name}: plain p50 {row['plain']['p50_ms']:.2f} ms, gateway p50 "
                    f"{row['gateway']['p50_ms']:.2f} ms, ratio {row['ratio_p50']:.2f}")

        # b. image uploads (distinct images every time: no cache hits)
        rss.phase = "b_images"
        image_cases = {
            "clean screenshot 1024x768 PNG -> chatgpt.com (allow)": (
                lambda: screenshot(next(_serial)), "https://chatgpt.com/backend-api/files", 200),
            "e-mail document 1240x800 PNG -> chatgpt.com (block)": (
                lambda: email_document(next(_serial)), "https://chatgpt.com/backend-api/files", 403),
            "e-mail document 1240x800 PNG -> claude.ai (redact)": (
                lambda: email_document(next(_serial)), "https://claude.ai/api/upload", 200),
        }
        result["b_images"] = {}
        with pclient() as pc, gclient() as gc:
            send(pc, "GET", "https://chatgpt.com/"); send(gc, "GET", "https://chatgpt.com/")
            send(pc, "GET", "https://claude.ai/"); send(gc, "GET", "https://claude.ai/")
            for name, (make, url, expected) in image_cases.items():
                bodies = [multipart(make()) for _ in range(n_img)]
                ps, gs = interleaved(n_img, lambda i: send(pc, "POST", url, *bodies[i]),
                                     lambda i: send(gc, "POST", url, *bodies[i]))
                row = {"plain": stats(ps), "gateway": stats(gs), "expected_gateway_status": expected,
                       "image_bytes": len(bodies[0][0])}
                row["added_p50_ms"] = row["gateway"]["p50_ms"] - row["plain"]["p50_ms"]
                row["ratio_p50"] = row["gateway"]["p50_ms"] / row["plain"]["p50_ms"]
                result["b_images"][name] = row
                log(f"b. {name}: plain p50 {row['plain']['p50_ms']:.0f} ms, gateway p50 "
                    f"{row['gateway']['p50_ms']:.0f} ms, statuses {row['gateway']['status']}, "
                    f"unchanged {row['gateway'].get('forwarded_unchanged')}")

        # c. small requests while the gateway inspects images in the background
        rss.phase = "c_busy"
        method, url, body, headers = cases["POST JSON in-scope (api.openai.com)"]
        gurl = cases["GET in-scope (api.openai.com)"][1]

        def probe(client: httpx.Client, i: int) -> Sample:
            return send(client, method, url, body, headers) if i % 2 else send(client, "GET", gurl)

        with pclient() as pc, gclient() as gc:
            for i in range(6):
                probe(pc, i); probe(gc, i)
            idle_p, idle_g = interleaved(n_busy, lambda i: probe(pc, i), lambda i: probe(gc, i), pause=0.02)
            stop = threading.Event()
            uploads: list[Sample] = []

            def uploader() -> None:
                with gclient() as uc:
                    for _ in range(200):  # bounded; stopped by the event long before
                        if stop.is_set():
                            return
                        uploads.append(send(uc, "POST", "https://chatgpt.com/backend-api/files",
                                            *multipart(screenshot(next(_serial)))))

            bg = [threading.Thread(target=uploader, daemon=True) for _ in range(2)]
            for t in bg:
                t.start()
            time.sleep(0.5)  # the first uploads are in the worker
            t0 = time.perf_counter()
            busy_p, busy_g = interleaved(n_busy, lambda i: probe(pc, i), lambda i: probe(gc, i), pause=0.02)
            window = time.perf_counter() - t0
            stop.set()
            for t in bg:
                t.join(600)
        row = {"idle": {"plain": stats(idle_p), "gateway": stats(idle_g)},
               "busy": {"plain": stats(busy_p), "gateway": stats(busy_g)},
               "background_uploaders": 2, "uploads_finished_incl_after_window": len(uploads),
               "window_s": window}
        row["gateway_busy_over_idle_p50"] = row["busy"]["gateway"]["p50_ms"] / row["idle"]["gateway"]["p50_ms"]
        row["gateway_busy_over_idle_p95"] = row["busy"]["gateway"]["p95_ms"] / row["idle"]["gateway"]["p95_ms"]
        row["plain_busy_over_idle_p50"] = row["busy"]["plain"]["p50_ms"] / row["idle"]["plain"]["p50_ms"]
        row["plain_busy_over_idle_p95"] = row["busy"]["plain"]["p95_ms"] / row["idle"]["plain"]["p95_ms"]
        result["c_busy"] = row
        log(f"c. gateway busy/idle p50 {row['gateway_busy_over_idle_p50']:.2f} p95 "
            f"{row['gateway_busy_over_idle_p95']:.2f}; plain busy/idle p50 {row['plain_busy_over_idle_p50']:.2f}")

        # d. throughput with N concurrent clients of distinct images
        result["d_throughput"] = {}
        for n in (1, 2, 4):
            rss.phase = f"d_throughput_{n}"
            per_client = max(1, n_tput // n)
            bodies = [[multipart(screenshot(next(_serial))) for _ in range(per_client)] for _ in range(n)]

            def client_run(k: int) -> list[Sample]:
                with gclient() as c:
                    return [send(c, "POST", "https://chatgpt.com/backend-api/files", *b) for b in bodies[k]]

            t0 = time.perf_counter()
            with ThreadPoolExecutor(n) as ex:
                samples = [s for part in ex.map(client_run, range(n)) for s in part]
            wall = time.perf_counter() - t0
            row = {"uploads": len(samples), "wall_s": wall, "uploads_per_s": len(samples) / wall,
                   "latency": stats(samples), "peak_rss_mb": rss.peaks.get(rss.phase, 0) / 2**20}
            result["d_throughput"][str(n)] = row
            log(f"d. N={n}: {row['uploads_per_s']:.2f} uploads/s, p50 {row['latency']['p50_ms']:.0f} ms")

        # e. repeats: the same image again (content-hash cache)
        rss.phase = "e_repeat"
        img = multipart(screenshot(next(_serial)))
        url = "https://chatgpt.com/backend-api/files"
        with pclient() as pc, gclient() as gc:
            first_g = send(gc, "POST", url, *img)
            first_p = send(pc, "POST", url, *img)
            ps, gs = interleaved(n_repeat, lambda i: send(pc, "POST", url, *img), lambda i: send(gc, "POST", url, *img))
        row = {"first_send_gateway_ms": first_g.seconds * 1e3, "first_send_plain_ms": first_p.seconds * 1e3,
               "repeat_plain": stats(ps), "repeat_gateway": stats(gs), "target_added_ms": 20}
        row["added_p50_ms"] = row["repeat_gateway"]["p50_ms"] - row["repeat_plain"]["p50_ms"]
        row["added_p95_ms"] = row["repeat_gateway"]["p95_ms"] - row["repeat_plain"]["p95_ms"]
        result["e_repeat"] = row
        log(f"e. repeat: gateway-added p50 {row['added_p50_ms']:.1f} ms (first send {row['first_send_gateway_ms']:.0f} ms)")

        rss.phase = "end"
        time.sleep(0.3)
        result["d_memory"] = {"peak_rss_mb_gateway_tree": rss.peak / 2**20,
                              "peak_rss_mb_by_phase": {k: v / 2**20 for k, v in rss.peaks.items()},
                              "processes_in_tree_max": rss.nprocs,
                              "peak_rss_mb_plain_mitmdump": plain_rss.peak / 2**20, "target_mb": 2.5 * 1024}
        result["loadavg_end"] = list(os.getloadavg())
        result["gateway_metrics_sample"] = _metric_lines(gw)
    finally:
        rss.stop()
        plain_rss.stop()
        gw.stop()
        plain.stop()
        upstream.close()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def _metric_lines(gw: GatewayProcess) -> list[str]:
    try:
        text = gw.metrics_text()
    except OSError:
        return []
    return [ln for ln in text.splitlines() if ln.startswith(("dlp_inspection_seconds_sum", "dlp_inspection_seconds_count",
                                                              "dlp_cache"))][:20]


# --------------------------------------------------------------------------------------------- report


def _ok(value: float, target: float, lower_is_better: bool = True) -> str:
    return "ok" if (value <= target if lower_is_better else value >= target) else "MISSED"


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [f"Machine: {m['nproc']} cores, {m['cpu']}; load avg at start {m['loadavg_start'][0]:.2f}, "
             f"at end {r['loadavg_end'][0]:.2f}; gateway workers: {r['workers']}; policy: {r['policy']}", "",
             "| section | case | plain mitmdump | dlp-gateway | ratio / delta | target |", "|---|---|---|---|---|---|"]
    for name, row in r["a_small"].items():
        p, g = row["plain"], row["gateway"]
        lines.append(f"| a. small (n={p['n']}) | {name} | p50 {p['p50_ms']:.2f} / p95 {p['p95_ms']:.2f} ms | "
                     f"p50 {g['p50_ms']:.2f} / p95 {g['p95_ms']:.2f} ms | p50 x{row['ratio_p50']:.2f}, "
                     f"p95 x{row['ratio_p95']:.2f} | <= 1.1 ({_ok(row['ratio_p50'], 1.1)}) |")
    for name, row in r["b_images"].items():
        p, g = row["plain"], row["gateway"]
        fwd = f", forwarded unchanged {g['forwarded_unchanged']}/{g['n']}" if "forwarded_unchanged" in g else ""
        lines.append(f"| b. upload (n={p['n']}) | {name} | p50 {p['p50_ms']:.0f} / p95 {p['p95_ms']:.0f} ms | "
                     f"p50 {g['p50_ms']:.0f} / p95 {g['p95_ms']:.0f} ms (status {g['status']}{fwd}) | "
                     f"+{row['added_p50_ms']:.0f} ms p50 | (info) |")
    c = r["c_busy"]
    for side in ("gateway", "plain"):
        i, b = c["idle"][side], c["busy"][side]
        lines.append(f"| c. small during inspection (n={b['n']}) | {side}: idle p50 {i['p50_ms']:.2f} / p95 "
                     f"{i['p95_ms']:.2f} ms -> busy | | p50 {b['p50_ms']:.2f} / p95 {b['p95_ms']:.2f} ms | "
                     f"p50 x{c[side + '_busy_over_idle_p50']:.2f}, p95 x{c[side + '_busy_over_idle_p95']:.2f} | "
                     + (f"<= 1.5 ({_ok(c['gateway_busy_over_idle_p50'], 1.5)})" if side == "gateway"
                        else "(machine contention reference)") + " |")
    for n, row in r["d_throughput"].items():
        lat = row["latency"]
        lines.append(f"| d. throughput | N={n} clients, {row['uploads']} distinct screenshots | | "
                     f"{row['uploads_per_s']:.2f} uploads/s (p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms) "
                     f"| peak RSS {row['peak_rss_mb']:.0f} MB | (info) |")
    mem = r["d_memory"]
    lines.append(f"| d. memory | peak RSS, whole run (gateway + {mem['processes_in_tree_max'] - 1} children) | "
                 f"{mem['peak_rss_mb_plain_mitmdump']:.0f} MB | {mem['peak_rss_mb_gateway_tree']:.0f} MB | | "
                 f"< 2560 MB ({_ok(mem['peak_rss_mb_gateway_tree'], 2560)}) |")
    e = r["e_repeat"]
    lines.append(f"| e. repeat (n={e['repeat_gateway']['n']}) | same screenshot again (first send gateway "
                 f"{e['first_send_gateway_ms']:.0f} ms) | p50 {e['repeat_plain']['p50_ms']:.1f} / p95 "
                 f"{e['repeat_plain']['p95_ms']:.1f} ms | p50 {e['repeat_gateway']['p50_ms']:.1f} / p95 "
                 f"{e['repeat_gateway']['p95_ms']:.1f} ms | +{e['added_p50_ms']:.1f} ms p50, "
                 f"+{e['added_p95_ms']:.1f} ms p95 | < 20 ms ({_ok(e['added_p50_ms'], 20)}) |")
    f = r["f_startup"]
    lines.append(f"| f. start-up | process start -> ready | {f['plain_mitmdump_listening_s']:.1f} s (listening) | "
                 f"{f['gateway_readyz_s']:.1f} s (/readyz 200) | | < 15 s ({_ok(f['gateway_readyz_s'], 15)}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small counts: the whole run takes < 3 minutes")
    ap.add_argument("--workers", type=int, default=1, help="gateway inspection workers (default 1)")
    ap.add_argument("--policy", help="policy file (default: policies/default.yaml + a block-e-mail rule)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory (logs)")
    ap.add_argument("--out", type=Path, default=OUT / "proxy.json")
    args = ap.parse_args(argv)
    run_and_report(args, run, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
