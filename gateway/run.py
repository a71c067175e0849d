"""`dlp-gateway run`: mitmdump with the DLP addon built in, logs on stderr so stdout stays the audit stream."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_CONFDIR = "~/.mitmproxy"
MODES = ("regular", "transparent", "wireguard", "upstream:", "reverse:", "socks5")


def add_run_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the gateway proxy (mitmproxy + the DLP addon)",
        description="Run the DLP gateway. Arguments not listed here are passed to mitmdump unchanged.",
    )
    p.add_argument("--policy", default="", help="policy YAML (default: the shipped policies/default.yaml)")
    p.add_argument("--listen-host", default="", help="proxy address (default: all interfaces)")
    p.add_argument("--listen-port", type=int, default=8080, help="proxy port (default 8080)")
    p.add_argument(
        "--mode",
        action="append",
        default=[],
        help="regular (default), transparent, wireguard, upstream:http://corp-proxy:3128, ... (repeatable)",
    )
    p.add_argument("--confdir", default=DEFAULT_CONFDIR, help="mitmproxy confdir holding the CA (corporate CA here)")
    p.add_argument("--set", dest="setoptions", action="append", default=[], metavar="KEY=VALUE",
                   help="any mitmproxy option (repeatable)")
    p.add_argument("--metrics-host", default="0.0.0.0", help="address of /metrics, /healthz, /readyz")
    p.add_argument("--metrics-port", type=int, default=9090, help="port of /metrics, /healthz, /readyz (0: off)")
    p.add_argument("--audit-log", default="-", help='"-" (stdout), a file path (rotated), or "syslog"')
    p.add_argument("--workers", type=int, default=1, help="inspection worker processes (default 1)")
    p.add_argument("--cache-entries", type=int, default=4096, help="inspection reports cached by image hash")
    p.add_argument("--flow-detail", type=int, default=0, help="mitmproxy flow log detail on stderr (0-4)")
    p.set_defaults(func=run_command, passthrough=True)


def mitmdump_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """Translate our options into mitmdump's command line."""
    out: list[str] = []
    for mode in args.mode or ["regular"]:
        out += ["--mode", mode]
    if args.listen_host:
        out += ["--listen-host", args.listen_host]
    out += ["--listen-port", str(args.listen_port)]
    out += ["--set", f"confdir={args.confdir}"]
    ours = {
        "dlp_policy": args.policy,
        "dlp_metrics_host": args.metrics_host,
        "dlp_metrics_port": args.metrics_port,
        "dlp_audit_log": args.audit_log,
        "dlp_workers": args.workers,
        "dlp_cache_entries": args.cache_entries,
        "flow_detail": args.flow_detail,
    }
    for key, value in ours.items():
        out += ["--set", f"{key}={value}"]
    for kv in args.setoptions:
        out += ["--set", kv]
    return out + extra


def _check_own_options(setoptions: list[str]) -> None:
    """mitmproxy ignores unknown --set keys silently; ours must not be mistyped."""
    known = {"dlp_policy", "dlp_metrics_host", "dlp_metrics_port", "dlp_audit_log", "dlp_workers",
             "dlp_cache_entries", "dlp_intercept_only_destinations"}
    for kv in setoptions:
        key = kv.split("=", 1)[0]
        if key.startswith("dlp_") and key not in known:
            raise SystemExit(f"dlp-gateway: unknown option --set {key} (known: {', '.join(sorted(known))})")


def run_command(args: argparse.Namespace, extra: list[str]) -> int:
    from gateway.cli import load_policy_or_report

    _check_own_options(args.setoptions)
    policy = load_policy_or_report(args.policy)  # fail loudly before the proxy starts
    if policy is None:
        return 2
    policy_path = policy.path
    confdir = Path(os.path.expanduser(args.confdir))
    listen = f"{args.listen_host or '0.0.0.0'}:{args.listen_port}"
    print(
        f"dlp-gateway: policy {policy.name!r} ({policy_path})\n"
        f"dlp-gateway: proxy on {listen} (mode: {', '.join(args.mode or ['regular'])})\n"
        f"dlp-gateway: CA certificate: {confdir / 'mitmproxy-ca-cert.pem'} (created on first start; install it in "
        f"browsers/OS trust stores)\n"
        f"dlp-gateway: clients: export HTTPS_PROXY=http://<this-host>:{args.listen_port} "
        f"HTTP_PROXY=http://<this-host>:{args.listen_port}\n"
        + (f"dlp-gateway: metrics on http://{args.metrics_host}:{args.metrics_port}/metrics (/healthz, /readyz)"
           if args.metrics_port else "dlp-gateway: metrics off"),
        file=sys.stderr,
        flush=True,
    )
    return run_mitmdump(mitmdump_args(args, extra))


def run_mitmdump(argv: list[str]) -> int:
    """Run mitmdump in this process with the DLP addon added before options are applied (so errors are fatal)."""
    from mitmproxy.addons import dumper, termlog
    from mitmproxy.tools import cmdline, dump
    from mitmproxy.tools.main import run

    from gateway.addon import DlpGateway

    class GatewayMaster(dump.DumpMaster):
        def __init__(self, options) -> None:
            super().__init__(options, with_termlog=False, with_dumper=False)
            self.addons.add(termlog.TermLog(out=sys.stderr), dumper.Dumper(outfile=sys.stderr), DlpGateway())

    master = run(GatewayMaster, cmdline.mitmdump, argv)
    return int(getattr(master, "exit_code", 0) or 0) if master else 0
