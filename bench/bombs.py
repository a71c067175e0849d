"""Decompression bombs under load: 4 concurrent 1 GiB bombs while small requests flow, through a real gateway.

    python -m bench.bombs [--windows 6] [--window-seconds 5] [--modes rounds,flood] [--client-nice N]
                          [--bomb-cooldown S] [--policy FILE] [--keep]

One `dlp-gateway run` (1 worker) in front of a local recording HTTPS upstream (tests/support). A prober sends a
small in-scope GET (https://api.openai.com/v1/models, intercepted and seen by the addon) every 0.2 s on a
keep-alive connection, in windows that alternate: nothing else going on (idle), then four client processes sending
1 GiB bombs (loaded), `--windows` times per row, so that idle and loaded probes see the same background load on a
shared machine. Bomb sets: four different gzip bombs (zeros, spaces, "A"s, a repeated JSON
fragment: the issue's case), one bomb per coding (gzip, deflate, br, zstd), and as a reference four plain uploads
of random bytes as big as a gzip bomb (forwarded: what the upload traffic itself costs the small requests on this
machine, without any decoding). Each set runs twice: in rounds (the
four bombs leave together, the next round 1 s after the last answer: the issue's "four at once") and as a flood
(each client sends its bomb back to back: as many bombs as the gateway can refuse, all cores busy).

Reported: every bomb's answer (must be 403 on_error), the small-request p50/p95/max of each row's idle and loaded
windows and the ratio loaded p95 / idle p95 (target <= 1.5), and the peak RSS of the gateway's process group
(gateway + inspection worker + multiprocessing helper; target under the Helm chart's 2560 MiB limit), sampled every
50 ms from /proc. Writes bench/out/bombs.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.inspection_speed import OUT, machine, pct
from bench.runs import log, run_and_report
from tests.support.bombs import bomb
from tests.support.gateway_process import REPO, GatewayProcess
from tests.support.procmem import PeakSampler, group_rss_bytes
from tests.support.upstream import RecordingUpstream

GIB = 1 << 30
HELM_LIMIT_MIB = 2560
PROBE_INTERVAL = 0.2
ROUND_PAUSE = 1.0  # seconds between rounds of four simultaneous bombs
FILLERS = {"zeros": b"\0", "spaces": b" ", "A": b"A", "json": b'{"role":"user","content":"hi"},'}


class Prober:
    """A small GET every PROBE_INTERVAL seconds; latencies are filed under the current phase."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.phase = "warm-up"
        self.samples: dict[str, list[float]] = {}
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                r = self.client.get("https://api.openai.com/v1/models")
                ok = r.status_code == 200
            except httpx.HTTPError as err:
                ok, r = False, err
            seconds = time.perf_counter() - t
            if ok:
                self.samples.setdefault(self.phase, []).append(seconds)
            else:
                self.failures.append(f"{self.phase}: {r}")
            self._stop.wait(max(0.0, PROBE_INTERVAL - seconds))

    def count(self, phase: str) -> int:
        return len(self.samples.get(phase, []))

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)


def latency(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": pct(values, 50) * 1e3, "p95_ms": pct(values, 95) * 1e3,
            "max_ms": max(values, default=float("nan")) * 1e3}


def _send_bombs(proxy_url: str, ca_cert: str, name: str, coding: str, body: bytes, deadline: float, out,
                rounds, nice: int) -> None:
    """One client process: this bomb until `deadline` (time.monotonic), back to back (flood), or in rounds that
    leave together with the other clients' bombs, ROUND_PAUSE apart (`rounds`: a shared barrier and flag)."""
    os.nice(nice)
    verify = ssl.create_default_context(cafile=ca_cert)
    answers, durations = [], []
    with httpx.Client(proxy=proxy_url, verify=verify, timeout=300) as c:
        while True:
            if rounds is not None:
                barrier, go = rounds
                if barrier.wait(600) == 0:  # one client decides for all whether another round starts
                    go.value = time.monotonic() < deadline
                barrier.wait(600)
                if not go.value:
                    break
            elif time.monotonic() >= deadline:
                break
            t = time.perf_counter()
            try:
                headers = {"content-type": "application/json", "content-encoding": coding} if coding else \
                    {"content-type": "application/octet-stream"}  # the reference: a plain upload, forwarded
                r = c.post(f"https://api.openai.com/v1/chat/completions?bomb={name}", content=body, headers=headers)
                answers.append(f"{r.status_code} {r.headers.get('x-dlp-rule', '')}".strip())
            except httpx.HTTPError as err:
                answers.append(f"error {type(err).__name__}")
            durations.append(time.perf_counter() - t)
            if rounds is not None:
                rounds[0].wait(600)  # the round ends when its last bomb is answered
                time.sleep(ROUND_PAUSE)
    out.put((name, answers, durations))


def bomb_phase(gw: GatewayProcess, bombs: dict[str, tuple[str, bytes]], seconds: float, rounds: bool,
               nice: int) -> dict:
    """Each bomb from its own client process (so the prober's process only probes), for `seconds`."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    shared = (ctx.Barrier(len(bombs)), ctx.Value("b", True)) if rounds else None
    deadline = time.monotonic() + seconds
    procs = [ctx.Process(target=_send_bombs,
                         args=(gw.proxy_url, str(gw.ca_cert), name, coding, body, deadline, out, shared, nice))
             for name, (coding, body) in bombs.items()]
    for p in procs:
        p.start()
    results = {}
    for _ in procs:
        name, answers, durations = out.get(timeout=seconds + 600)
        results[name] = (answers, durations)
    for p in procs:
        p.join(60)
    return results


def summary(raw: dict[str, tuple[list[str], list[float]]], bombs: dict[str, tuple[str, bytes]]) -> dict:
    return {name: {"sent": len(a), "answers": {x: a.count(x) for x in sorted(set(a))}, "p50_s": pct(d, 50),
                   "compressed_bytes": len(bombs[name][1])} for name, (a, d) in raw.items()}


def run(args: argparse.Namespace) -> dict:
    policy = Path(args.policy) if args.policy else REPO / "policies" / "default.yaml"
    log("compressing the bombs (1 GiB each) ...")
    gzip_bombs = {f"gzip-{k}": ("gzip", bomb("gzip", GIB, v)) for k, v in FILLERS.items()}
    coding_bombs = {f"{c}-zeros": (c, bomb(c, GIB)) for c in ("gzip", "deflate", "br", "zstd")}
    tmp = Path(tempfile.mkdtemp(prefix="bench-bombs-"))
    upstream = RecordingUpstream(tmp)
    extra = [] if args.bomb_cooldown is None else ["--set", f"dlp_bomb_cooldown={args.bomb_cooldown}"]
    gw = GatewayProcess(tmp / "gw", policy, upstream.port, extra=extra)
    result: dict = {"machine": machine(), "policy": str(policy.relative_to(REPO) if policy.is_relative_to(REPO)
                                                         else policy),
                    "windows": args.windows, "window_seconds": args.window_seconds, "client_nice": args.client_nice,
                    "bomb_cooldown": args.bomb_cooldown}
    try:
        gw.wait_ready()
        verify = ssl.create_default_context(cafile=str(gw.ca_cert))
        result["rss_mib_ready"] = group_rss_bytes(gw.proc.pid) / 2**20
        phases: dict[str, dict] = {}
        with PeakSampler(gw.proc.pid, group=True) as rss, \
                httpx.Client(proxy=gw.proxy_url, verify=verify, timeout=60) as probe_client, \
                Prober(probe_client) as prober:
            time.sleep(2)  # warm-up: TLS to the upstream, first flows
            reference = {f"plain-{i}": ("", random.Random(i).randbytes(len(gzip_bombs["gzip-zeros"][1])))
                         for i in range(4)}
            for mode in args.modes.split(","):
                for kind, bombs in (("reference, 4 plain uploads as big as a gzip bomb", reference),
                                    ("gzip-x4", gzip_bombs), ("4-codings", coding_bombs)):
                    name = f"{mode}: {kind}"
                    log(f"{name}: {args.windows} x ({args.window_seconds:g} s idle, {args.window_seconds:g} s load)")
                    raw: dict[str, tuple[list[str], list[float]]] = {n: ([], []) for n in bombs}
                    rss.peak = 0
                    for _ in range(args.windows):  # idle and loaded windows alternate: both see the same machine
                        prober.phase = f"{name} | idle"
                        time.sleep(args.window_seconds)
                        prober.phase = f"{name} | load"
                        for n, (a, d) in bomb_phase(gw, bombs, args.window_seconds, mode == "rounds",
                                                    args.client_nice).items():
                            raw[n][0].extend(a)
                            raw[n][1].extend(d)
                    prober.phase = "between"
                    phases[name] = {"bombs": summary(raw, bombs), "peak_rss_mib": rss.peak / 2**20}
        result["rss_mib_after"] = group_rss_bytes(gw.proc.pid) / 2**20
        result["peak_rss_mib_whole_run"] = max(rss.samples, default=0) / 2**20
        result["probe_failures"] = prober.failures
        for name, phase in phases.items():
            phase["idle"] = latency(prober.samples.get(f"{name} | idle", []))
            phase["load"] = latency(prober.samples.get(f"{name} | load", []))
            phase["p95_over_idle_p95"] = phase["load"]["p95_ms"] / phase["idle"]["p95_ms"]
        result["phases"] = phases
        result["upstream_saw_a_bomb"] = any("bomb=" in r.path and "plain-" not in r.path for r in upstream.received)
        result["gateway_alive"] = gw.proc.poll() is None
        result["loadavg_end"] = list(os.getloadavg())
    finally:
        gw.stop()
        upstream.close()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return result


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [f"Machine: {m['nproc']} cores, {m['cpu']}; load avg {m['loadavg_start'][0]:.2f} at start, "
             f"{r['loadavg_end'][0]:.2f} at end; policy {r['policy']}; {r['windows']} idle and {r['windows']} loaded "
             f"windows of {r['window_seconds']:g} s per row, alternating; sending clients at nice {r.get('client_nice', 0)}; dlp_bomb_cooldown "
             f"{r.get('bomb_cooldown') if r.get('bomb_cooldown') is not None else 'default'}; gateway group RSS {r['rss_mib_ready']:.0f} MiB "
             f"when ready, {r['rss_mib_after']:.0f} MiB at the end", "",
             "| load | small GET, idle windows p50 / p95 (ms) | loaded windows p50 / p95 / max (ms) | p95 loaded / idle "
             "| requests sent: answers | peak group RSS | target |", "|---|---|---|---|---|---|---|"]
    for name, p in r["phases"].items():
        i, ld = p["idle"], p["load"]
        sent = "; ".join(f"{k} {v['sent']}: {v['answers']}" for k, v in p["bombs"].items())
        target = "(reference)" if "reference" in name else (
            f"p95 <= 1.5x ({'ok' if p['p95_over_idle_p95'] <= 1.5 else 'MISSED'}), "
            f"RSS < {HELM_LIMIT_MIB} MiB ({'ok' if p['peak_rss_mib'] < HELM_LIMIT_MIB else 'MISSED'})")
        lines.append(f"| {name} | {i['p50_ms']:.1f} / {i['p95_ms']:.1f} (n={i['n']}) | {ld['p50_ms']:.1f} / "
                     f"{ld['p95_ms']:.1f} / {ld['max_ms']:.1f} (n={ld['n']}) | x{p['p95_over_idle_p95']:.2f} | {sent} | "
                     f"{p['peak_rss_mib']:.0f} MiB | {target} |")
    lines.append("")
    lines.append(f"Peak group RSS over the whole run: {r['peak_rss_mib_whole_run']:.0f} MiB; probe failures: "
                 f"{len(r['probe_failures'])}; a bomb reached the upstream: {r['upstream_saw_a_bomb']}; "
                 f"gateway alive at the end: {r['gateway_alive']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", type=int, default=6, help="idle + loaded window pairs per row (default 6)")
    ap.add_argument("--window-seconds", type=float, default=5.0, help="length of each window (default 5)")
    ap.add_argument("--policy", help="policy file (default: policies/default.yaml; its max_body_bytes is the cap)")
    ap.add_argument("--modes", default="rounds,flood", help="rounds, flood or both (default rounds,flood)")
    ap.add_argument("--client-nice", type=int, default=0,
                    help="niceness of the four sending clients (default 0); on a machine the gateway shares with its "
                         "load, 19 keeps their TLS encryption from taking the gateway's cores (clients are elsewhere "
                         "in a deployment)")
    ap.add_argument("--bomb-cooldown", type=int, default=None,
                    help="the gateway's dlp_bomb_cooldown (default: its own, 30 s: after its first bomb a client's "
                         "encoded bodies are refused undecoded); 0 decodes every bomb, as bombs from many senders")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory (logs)")
    ap.add_argument("--out", type=Path, default=OUT / "bombs.json")
    args = ap.parse_args(argv)
    run_and_report(args, run, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
