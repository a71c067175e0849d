"""The `warn` action: a coaching page with a one-time "proceed anyway" link, and the overrides it grants.

The link carries a signed token (HMAC), so any replica sharing `dlp_warn_secret` can verify it. Used tokens and the
grants they create live in the replica's memory: with several replicas, route a client to one (session affinity).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

PROCEED_PATH = "/dlp-gateway/proceed/"
TOKEN_TTL = 300.0  # seconds a "proceed" link stays valid: the user reads the warning and decides, or sends again
GRANT_TTL = 600.0  # seconds the warned images may then be sent by that user (the page says 10 minutes)


@dataclass(frozen=True)
class Grant:
    identity: str
    sha256s: frozenset[str]
    rule: str | None
    destination: str | None


class WarnOverrides:
    """Issues proceed tokens for warned uploads and remembers which identity may now send which images."""

    def __init__(self, secret: bytes | None = None, token_ttl: float = TOKEN_TTL, grant_ttl: float = GRANT_TTL) -> None:
        self.secret = secret or secrets.token_bytes(32)
        self.token_ttl = token_ttl
        self.grant_ttl = grant_ttl
        self._used: dict[str, float] = {}  # token nonce -> expiry
        self._grants: dict[tuple[str, str], float] = {}  # (identity, sha256) -> expiry
        self._lock = threading.Lock()

    def issue(self, identity: str, sha256s: list[str], rule: str | None, destination: str | None) -> str:
        payload = {"i": identity, "s": sorted(set(sha256s)), "r": rule, "d": destination,
                   "e": int(time.time() + self.token_ttl), "n": secrets.token_urlsafe(8)}
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=")
        return body.decode() + "." + self._sign(body)

    def redeem(self, token: str, identity: str) -> Grant | None:
        """Check a proceed token (signature, expiry, same identity, single use) and grant its images.

        A token someone else presents is refused without using it up: its owner can still redeem it."""
        if not identity:  # nobody to bind the grant to: no override (fail closed)
            return None
        payload = self._verified(token)
        now = time.time()
        if payload is None or payload["e"] < now or payload["i"] != identity:
            return None
        with self._lock:
            self._expire(now)
            if payload["n"] in self._used:
                return None
            self._used[payload["n"]] = payload["e"]
            for sha in payload["s"]:
                self._grants[(identity, sha)] = now + self.grant_ttl
        return Grant(identity, frozenset(payload["s"]), payload.get("r"), payload.get("d"))

    def granted(self, identity: str, sha256s: list[str]) -> bool:
        """True if every image was granted to this identity by a redeemed token that has not expired."""
        if not identity:
            return False
        now = time.time()
        with self._lock:
            return bool(sha256s) and all(self._grants.get((identity, s), 0) > now for s in sha256s)

    def _verified(self, token: str) -> dict | None:
        """The token's payload if its HMAC is ours and its fields are well-formed; None for anything else."""
        try:
            body, sig = token.encode("ascii").rsplit(b".", 1)
            if not hmac.compare_digest(sig, self._sign(body).encode()):
                return None
            payload = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
        except (ValueError, TypeError):  # not ASCII, no ".", bad base64 or JSON (all ValueErrors)
            return None
        fields = {"i": str, "s": list, "e": int, "n": str}
        if not isinstance(payload, dict) or not all(isinstance(payload.get(k), t) for k, t in fields.items()):
            return None
        return payload

    def _sign(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self.secret, body, hashlib.sha256).digest()[:18]).decode()

    def _expire(self, now: float) -> None:
        self._used = {n: e for n, e in self._used.items() if e > now}
        self._grants = {k: e for k, e in self._grants.items() if e > now}


def proceed_page(ok: bool) -> str:
    if ok:
        title, text = "You may continue", (
            "Your decision to proceed has been recorded. Go back and send the upload again; it will be let through "
            "for the next 10 minutes.")
    else:
        title, text = "Link expired or already used", (
            "This proceed link is not valid any more. Send the upload again to get a new one.")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
            f"<body style='font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto'>"
            f"<h1>{title}</h1><p>{text}</p><footer>DLP upload gateway</footer></body></html>")
