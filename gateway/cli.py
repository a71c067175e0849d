"""The `dlp-gateway` command: run the proxy, scan images, author policies."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from gateway import __version__

if TYPE_CHECKING:
    from gateway.policy import Policy


def build_parser() -> argparse.ArgumentParser:
    from gateway.run import add_run_command
    from gateway.scan import add_scan_command

    parser = argparse.ArgumentParser(prog="dlp-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dlp-gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_command(sub)
    add_scan_command(sub)
    try:
        from gateway.policy.cli import add_policy_commands
    except ImportError:  # pragma: no cover - only while the policy CLI is absent
        pass
    else:
        add_policy_commands(sub)
    return parser


def load_policy_or_report(path: str) -> "Policy | None":
    """Load the policy for a command (default policy if `path` is empty); print why not and return None."""
    from gateway.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy

    path = path or str(DEFAULT_POLICY_PATH)
    try:
        return load_policy(path)
    except PolicyError as err:
        print(f"dlp-gateway: invalid policy:\n{err}", file=sys.stderr)
    except OSError as err:
        print(f"dlp-gateway: cannot read policy {path}: {err}", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command != "run":  # under `run`, mitmproxy's own log handler prints everything once
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if extra and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "passthrough", False):
        return int(args.func(args, extra) or 0)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
