"""`dlp-gateway run`: mitmdump with the DLP addon built in, logs on stderr so stdout stays the audit stream."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_CONFDIR = "~/.mitmproxy"
_DEFAULT_CLIENTS = "loopback and private networks (--allow-clients CIDR... to list yours)"
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
    p.add_argument("--allow-clients", nargs="+", action="extend", default=[], metavar="CIDR",
                   help="client networks allowed to use the proxy (default: loopback and private ranges only)")
    p.add_argument("--confdir", default=DEFAULT_CONFDIR, help="mitmproxy confdir holding the CA (corporate CA here)")
    p.add_argument("--set", dest="setoptions", action="append", default=[], metavar="KEY=VALUE",
                   help="any mitmproxy option (repeatable); wins over the flags above and the gateway's defaults")
    p.add_argument("--metrics-host", default="0.0.0.0", help="address of /metrics, /healthz, /readyz")
    p.add_argument("--metrics-port", type=int, default=9090, help="port of /metrics, /healthz, /readyz (0: off)")
    p.add_argument("--audit-log", default="-", help='"-" (stdout), a file path (rotated), or "syslog"')
    p.add_argument("--workers", type=int, default=1, help="inspection worker processes (default 1)")
    p.add_argument("--cache-entries", type=int, default=4096, help="inspection reports cached by image hash")
    p.add_argument("--flow-detail", type=int, default=0, help="mitmproxy flow log detail on stderr (0-4)")
    p.set_defaults(func=run_command, passthrough=True)


def _defaults(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The mitmproxy options our flags stand for, as (key, value); `mode` may repeat (a sequence option)."""
    out = [("mode", mode) for mode in args.mode or ["regular"]]
    if args.listen_host:
        out.append(("listen_host", args.listen_host))
    out += [
        ("listen_port", str(args.listen_port)),
        ("confdir", args.confdir),
        ("dlp_policy", args.policy),
        ("dlp_metrics_host", args.metrics_host),
        ("dlp_metrics_port", str(args.metrics_port)),
        ("dlp_audit_log", args.audit_log),
        ("dlp_workers", str(args.workers)),
        ("dlp_cache_entries", str(args.cache_entries)),
        ("flow_detail", str(args.flow_detail)),
    ]
    out += [("dlp_allow_clients", cidr) for cidr in args.allow_clients]
    return out


def user_settings(setoptions: list[str]) -> dict[str, list[str]]:
    """The user's --set KEY=VALUE options by key, values in order."""
    out: dict[str, list[str]] = {}
    for kv in setoptions:
        key, _, value = kv.partition("=")
        out.setdefault(key, []).append(value)
    return out


def effective(args: argparse.Namespace, key: str) -> list[str]:
    """The values mitmproxy will get for an option we pass: the user's --set ones, else our flag's."""
    return user_settings(args.setoptions).get(key) or [value for k, value in _defaults(args) if k == key]


def mitmdump_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """Translate our options into mitmdump's command line.

    Everything goes through --set, and a key the user sets with --set is not passed by us at all: mitmproxy
    refuses two values for one option ("Received multiple values"), and its own flags (--listen-port, --mode)
    would silently override a --set. So `--set KEY=VALUE` always wins over our flags and defaults."""
    user = user_settings(args.setoptions)
    out: list[str] = []
    for key, value in _defaults(args):
        if key not in user:
            out += ["--set", f"{key}={value}"]
    for kv in args.setoptions:
        out += ["--set", kv]
    return out + extra


def _check_own_options(setoptions: list[str]) -> None:
    """mitmproxy ignores unknown --set keys silently; ours must not be mistyped."""
    known = own_option_names()
    for kv in setoptions:
        key = kv.split("=", 1)[0]
        if key.startswith("dlp_") and key not in known:
            raise SystemExit(f"dlp-gateway: unknown option --set {key} (known: {', '.join(sorted(known))})")


def own_option_names() -> set[str]:
    """The options our addons declare in their load() (the one list of them)."""
    from gateway.addon import DlpGateway
    from gateway.clients import ClientAcl

    class Names:
        def __init__(self) -> None:
            self.names: set[str] = set()

        def add_option(self, name: str, *args, **kwargs) -> None:
            self.names.add(name)

    names = Names()
    for addon in (DlpGateway(), ClientAcl()):
        addon.load(names)
    return names.names


def run_command(args: argparse.Namespace, extra: list[str]) -> int:
    from gateway.cli import load_policy_or_report

    _check_own_options(args.setoptions)
    policy = load_policy_or_report(effective(args, "dlp_policy")[-1])  # fail loudly before the proxy starts
    if policy is None:
        return 2
    confdir = Path(os.path.expanduser(effective(args, "confdir")[-1]))
    port = effective(args, "listen_port")[-1]
    listen = f"{(effective(args, 'listen_host') or [''])[-1] or '0.0.0.0'}:{port}"
    metrics_host, metrics_port = effective(args, "dlp_metrics_host")[-1], effective(args, "dlp_metrics_port")[-1]
    print(
        f"dlp-gateway: policy {policy.name!r} ({policy.path})\n"
        f"dlp-gateway: proxy on {listen} (mode: {', '.join(effective(args, 'mode'))})\n"
        f"dlp-gateway: CA certificate: {confdir / 'mitmproxy-ca-cert.pem'} (created on first start; install it in "
        f"browsers/OS trust stores)\n"
        f"dlp-gateway: clients: export HTTPS_PROXY=http://<this-host>:{port} HTTP_PROXY=http://<this-host>:{port}\n"
        f"dlp-gateway: clients allowed from: {', '.join(effective(args, 'dlp_allow_clients')) or _DEFAULT_CLIENTS}\n"
        + (f"dlp-gateway: metrics on http://{metrics_host}:{metrics_port}/metrics (/healthz, /readyz)"
           if metrics_port.strip() not in ("", "0") else "dlp-gateway: metrics off"),
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
    from gateway.clients import ClientAcl

    class GatewayMaster(dump.DumpMaster):
        def __init__(self, options) -> None:
            super().__init__(options, with_termlog=False, with_dumper=False)
            gateway = DlpGateway()
            self.addons.add(termlog.TermLog(out=sys.stderr), dumper.Dumper(outfile=sys.stderr), gateway,
                            ClientAcl(gateway.metrics))

    master = run(GatewayMaster, cmdline.mitmdump, argv)
    return int(getattr(master, "exit_code", 0) or 0) if master else 0
