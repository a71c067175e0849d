"""Which requests are ours: uploads to the policy's destinations (host matching lives in gateway.policy.hosts)."""

from __future__ import annotations

UPLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_upload(method: str, body_size: int | None) -> bool:
    """A request that may carry an upload: a body-bearing method with a (possibly unknown-size) body."""
    return method.upper() in UPLOAD_METHODS and (body_size is None or body_size > 0)
