"""Which requests are ours: in-scope AI uploads, and which hosts mitmproxy may decrypt at all."""

from __future__ import annotations

import re
from collections.abc import Iterable

UPLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})


def host_glob_to_regex(glob: str) -> str:
    """Turn a policy host glob (`*.oaiusercontent.com`) into a mitmproxy allow_hosts regex.

    mitmproxy matches allow_hosts against "host:port" strings, so the regex is anchored and allows any port.
    `*` stands for any run of host characters, dots included.
    """
    parts = (re.escape(p) for p in glob.strip().lower().split("*"))
    return "^" + "[^:/]*".join(parts) + r"(?::\d+)?$"


def allow_hosts_regexes(host_globs: Iterable[str]) -> list[str]:
    """The allow_hosts list that makes mitmproxy decrypt only the policy's destination hosts."""
    return sorted({host_glob_to_regex(g) for g in host_globs})


def is_upload(method: str, body_size: int | None) -> bool:
    """A request that may carry an upload: a body-bearing method with a (possibly unknown-size) body."""
    return method.upper() in UPLOAD_METHODS and (body_size is None or body_size > 0)
