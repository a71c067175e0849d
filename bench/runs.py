"""What each end-to-end benchmark's command line does around its run: clean up on SIGTERM, time the run, write
its JSON result and print its tables."""

from __future__ import annotations

import json
import signal
import sys
import time
from argparse import Namespace
from collections.abc import Callable


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_and_report(args: Namespace, run: Callable[[Namespace], dict], markdown: Callable[[dict], str]) -> dict:
    """`run(args)`, its seconds added as `bench_seconds`, written to `args.out` and printed as `markdown`."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up in `finally` on kill/timeout
    t0 = time.perf_counter()
    result = run(args)
    result["bench_seconds"] = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    log(f"total {result['bench_seconds']:.0f}s; wrote {args.out}")
    return result
