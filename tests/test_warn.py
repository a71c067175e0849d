from gateway.warn import WarnOverrides


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
