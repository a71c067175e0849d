"""Warn "proceed" tokens: bound to the user, the images and a short expiry; refused when replayed, forged, expired
or presented by another user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from gateway import warn
from gateway.warn import GRANT_TTL, TOKEN_TTL, WarnOverrides


def test_token_is_single_use_bound_to_identity_and_grants_images():
    w = WarnOverrides()
    token = w.issue("alice", ["a" * 64, "b" * 64], "warn-faces", "openai")
    assert not w.granted("alice", ["a" * 64])
    assert w.redeem(token, "mallory") is None  # someone else's link
    grant = w.redeem(token, "alice")
    assert grant is not None and grant.rule == "warn-faces"
    assert w.granted("alice", ["a" * 64, "b" * 64])
    assert not w.granted("alice", ["a" * 64, "c" * 64])
    assert not w.granted("bob", ["a" * 64])
    assert w.redeem(token, "alice") is None  # single use


def test_tampered_or_expired_tokens_are_refused():
    w = WarnOverrides(token_ttl=-1)
    assert w.redeem(w.issue("alice", ["a"], None, None), "alice") is None
    w2 = WarnOverrides()
    token = w2.issue("alice", ["a"], None, None)
    body, sig = token.rsplit(".", 1)
    assert w2.redeem(body[:-2] + "xx." + sig, "alice") is None
    assert w2.redeem("garbage", "alice") is None
    assert WarnOverrides().redeem(token, "alice") is None  # other secret


A, B = "a" * 64, "b" * 64


class Clock:
    """time.time() for gateway.warn, moved by hand."""

    def __init__(self, monkeypatch, start: float = 1_800_000_000.0) -> None:
        self.now = start
        monkeypatch.setattr(warn.time, "time", lambda: self.now)


def _payload(token: str) -> dict:
    body = token.rsplit(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _sign_as(secret: bytes, payload: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()[:18]).decode()
    return body.decode() + "." + sig


def test_the_token_names_the_user_the_images_and_a_short_expiry(monkeypatch):
    clock = Clock(monkeypatch)
    token = warn.WarnOverrides().issue("10.1.2.3", [B, A, A], "warn-pii", "google")
    payload = _payload(token)
    assert payload["i"] == "10.1.2.3" and payload["s"] == [A, B]
    assert payload["e"] == int(clock.now + TOKEN_TTL) and TOKEN_TTL <= 300


def test_a_replayed_token_is_refused_and_grants_nothing_more():
    w = warn.WarnOverrides()
    token = w.issue("alice", [A], None, None)
    assert w.redeem(token, "alice") is not None
    assert w.redeem(token, "alice") is None
    assert w.redeem(token + "", "alice") is None  # the same string again, from another request


def test_a_token_used_by_another_user_is_refused_and_stays_valid_for_its_owner():
    w = warn.WarnOverrides()
    token = w.issue("alice", [A], "warn-pii", "google")
    for other in ("mallory", "Alice", "alice ", "10.0.0.5", ""):
        assert w.redeem(token, other) is None, other
    assert not w.granted("mallory", [A])
    assert w.redeem(token, "alice") is not None  # not used up by the attempts
    assert w.granted("alice", [A]) and not w.granted("mallory", [A])


def test_forged_tokens_are_refused():
    w = warn.WarnOverrides(secret=b"s" * 32)
    genuine = w.issue("alice", [A], "warn-pii", "google")
    payload = _payload(genuine)
    assert w.redeem(_sign_as(b"x" * 32, dict(payload, i="mallory")), "mallory") is None  # signed with a guess
    body, sig = genuine.rsplit(".", 1)
    mallory = _sign_as(b"s" * 32, dict(payload, i="mallory")).rsplit(".", 1)[0]
    assert w.redeem(mallory + "." + sig, "mallory") is None  # payload changed under alice's signature
    more = _sign_as(b"s" * 32, dict(payload, s=[A, B])).rsplit(".", 1)[0]
    assert w.redeem(more + "." + sig, "alice") is None  # an image added under the same signature
    later = _sign_as(b"s" * 32, dict(payload, e=payload["e"] + 86400)).rsplit(".", 1)[0]
    assert w.redeem(later + "." + sig, "alice") is None  # expiry pushed out
    for junk in (body, body + ".", "." + sig, "é." + sig, body + ".é", "a.b.c", "", "x" * 5000):
        assert w.redeem(junk, "alice") is None, junk
    assert w.redeem(_sign_as(b"s" * 32, {"i": "alice"}), "alice") is None  # ours, but not a token's fields
    assert w.redeem(genuine, "alice") is not None


def test_expired_tokens_and_grants_are_refused(monkeypatch):
    clock = Clock(monkeypatch)
    w = warn.WarnOverrides()
    late, on_time = w.issue("alice", [A], None, None), w.issue("alice", [B], None, None)
    clock.now += TOKEN_TTL - 1
    assert w.redeem(on_time, "alice") is not None
    clock.now += 2
    assert w.redeem(late, "alice") is None
    assert w.granted("alice", [B])
    clock.now += GRANT_TTL
    assert not w.granted("alice", [B])  # the grant runs out too


def test_grants_cover_only_the_warned_images_of_that_user():
    w = warn.WarnOverrides()
    assert w.redeem(w.issue("alice", [A, B], None, None), "alice") is not None
    assert w.granted("alice", [A]) and w.granted("alice", [A, B])
    assert not w.granted("alice", [A, "c" * 64]) and not w.granted("alice", [])
    assert not w.granted("bob", [A]) and not w.granted("", [A])


@pytest.mark.parametrize("identity", ["", None])
def test_no_identity_no_override(identity):
    w = warn.WarnOverrides()
    assert w.redeem(w.issue(identity or "", [A], None, None), identity) is None
