"""Decompression bombs through a real `dlp-gateway run`: a decision (on_error), never an outage or a memory spike."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gateway.content_coding import encode_body
from tests.support.bombs import bomb
from tests.support.gateway_process import client
from tests.support.images import photo_like
from tests.support.procmem import PeakSampler, rss_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLICY = Path(__file__).parent / "policies" / "e2e.yaml"  # max_body_bytes: the default 100 MiB
GIB = 1 << 30


# Each test sends its bombs from its own loopback address: a bomb sender's next encoded bodies are refused without
# decoding for a while (dlp_bomb_cooldown), and these tests measure the decoding.
@pytest.mark.parametrize("coding,source", [("gzip", "127.0.0.2"), ("br", "127.0.0.3")])
def test_a_1_gib_bomb_is_blocked_and_the_proxy_memory_stays_bounded(gateway, upstream, coding, source):
    body = bomb(coding, GIB)  # a JSON-looking body of zeros: 1 GiB once decoded
    path = f"/v1/chat/completions?bomb={coding}"
    with client(gateway, local_address=source) as c:
        c.put("https://files.oaiusercontent.com/warm-up", content=photo_like(size=(32, 24), fmt="PNG"))
        time.sleep(0.5)
        before = rss_bytes(gateway.proc.pid)
        with PeakSampler(gateway.proc.pid) as sampler:
            r = c.post(f"https://api.openai.com{path}", content=body,
                       headers={"content-type": "application/json", "content-encoding": coding})
            time.sleep(0.5)
        after = rss_bytes(gateway.proc.pid)
        clean = c.put("https://files.oaiusercontent.com/after-bomb", content=photo_like(size=(64, 48), fmt="PNG"))
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["rule"] == "on_error" and "over the limit of 104857600 bytes" in error["message"]
    assert upstream.last_for(path) is None
    assert clean.status_code == 200  # the proxy is still up and deciding
    event = next(json.loads(line) for line in reversed(gateway.audit_lines()) if '"on_error"' in line)
    assert event["images"][0]["error"] == "too_large"
    # Generous sanity bounds, not a benchmark: decoding the whole gigabyte would add > 1 GiB and keep it.
    growth, kept = sampler.peak - before, after - before
    print(f"{coding}: proxy RSS {before >> 20} MiB before, peak +{growth >> 20} MiB, +{kept >> 20} MiB after")
    assert growth < GIB, f"proxy RSS grew by {growth >> 20} MiB while decoding a bomb"
    assert kept < 400 << 20, f"proxy kept {kept >> 20} MiB after the bomb was decided"


def test_a_bomb_inside_a_stacked_coding_is_blocked_too(gateway, upstream):
    body = encode_body(bomb("zstd", GIB), "gzip")  # Content-Encoding: zstd, gzip
    with client(gateway, local_address="127.0.0.4") as c:
        r = c.put("https://files.oaiusercontent.com/stacked-bomb", content=body,
                  headers={"content-encoding": "zstd, gzip"})
    assert r.status_code == 403 and r.json()["error"]["rule"] == "on_error"
    assert upstream.last_for("/stacked-bomb") is None


def test_a_bomb_sender_has_its_encoded_uploads_refused_for_a_while_and_no_one_else(gateway, upstream):
    clean = photo_like(size=(64, 48), fmt="PNG")
    clean_gz = encode_body(clean, "gzip")
    headers = {"content-type": "image/png", "content-encoding": "gzip"}
    with client(gateway, local_address="127.0.0.5") as sender, client(gateway, local_address="127.0.0.6") as other:
        first = sender.put("https://files.oaiusercontent.com/cooldown-bomb", content=bomb("gzip", GIB),
                           headers={"content-encoding": "gzip"})
        refused = sender.put("https://files.oaiusercontent.com/cooldown-next", content=clean_gz, headers=headers)
        plain = sender.put("https://files.oaiusercontent.com/cooldown-plain", content=clean)
        passed = other.put("https://files.oaiusercontent.com/cooldown-other", content=clean_gz, headers=headers)
    assert first.status_code == 403 and "over the limit" in first.json()["error"]["message"]
    assert refused.status_code == 403 and refused.json()["error"]["rule"] == "on_error"
    assert "decompression bomb" in refused.json()["error"]["message"]
    assert upstream.last_for("/cooldown-next") is None
    assert plain.status_code == 200 and upstream.last_for("/cooldown-plain").body == clean
    assert passed.status_code == 200 and upstream.last_for("/cooldown-other").body == clean_gz  # byte-identical
