"""Bounded Content-Encoding decoding: every coding, stacked codings, the cap, bombs, truncated and corrupt streams."""

from __future__ import annotations

import gzip
import os
import tracemalloc
import zlib

import brotli
import pytest
import zstandard

from gateway.content_coding import (
    KEEP_BYTES,
    BodyTooLarge,
    UndecodableBody,
    codings,
    decode_body,
    encode_body,
)
from tests.support.bombs import bomb

BODY = os.urandom(200_000) + b"plain text " * 80_000  # incompressible and compressible parts: 1 MB
CODINGS = ["gzip", "deflate", "br", "zstd"]


@pytest.mark.parametrize("coding", CODINGS + ["x-gzip", "identity", None])
def test_each_coding_round_trips(coding):
    encoded = encode_body(BODY, coding)
    assert (encoded == BODY) == (coding in ("identity", None))
    assert decode_body(encoded, coding, len(BODY)) == BODY


def test_the_reference_encoders_decode_too():
    """Bodies made by the codecs' own one-shot APIs (what clients send), raw deflate and multi-member gzip."""
    assert decode_body(gzip.compress(BODY), "gzip", 10**7) == BODY
    assert decode_body(gzip.compress(BODY[:1000]) + gzip.compress(BODY[1000:]) + bytes(50), "gzip", 10**7) == BODY
    assert decode_body(zlib.compress(BODY), "deflate", 10**7) == BODY
    assert decode_body(zlib.compress(BODY)[2:-4], "deflate", 10**7) == BODY  # raw deflate, no zlib header
    assert decode_body(brotli.compress(BODY), "br", 10**7) == BODY
    frames = zstandard.ZstdCompressor().compress(BODY[:5]) + zstandard.ZstdCompressor().compress(BODY[5:])
    assert decode_body(frames, "zstd", 10**7) == BODY


@pytest.mark.parametrize("coding", CODINGS + [None])
def test_cap_is_exactly_at_the_limit(coding):
    encoded = encode_body(BODY, coding)
    assert decode_body(encoded, coding, len(BODY)) == BODY
    with pytest.raises(BodyTooLarge):
        decode_body(encoded, coding, len(BODY) - 1)


@pytest.mark.parametrize("stack", ["gzip, br", "br, gzip", "deflate, zstd, gzip", "zstd,zstd", "gzip, identity"])
def test_stacked_codings_are_undone_in_reverse_order(stack):
    encoded = encode_body(BODY, stack)
    assert encoded == _apply_by_hand(BODY, codings(stack))
    assert decode_body(encoded, stack, len(BODY)) == BODY
    with pytest.raises(BodyTooLarge):
        decode_body(encoded, stack, len(BODY) - 1)


def _apply_by_hand(body: bytes, names: list[str]) -> bytes:
    one_shot = {"gzip": lambda b: gzip.compress(b, 6, mtime=0), "deflate": zlib.compress,
                "br": lambda b: brotli.compress(b, quality=5), "zstd": lambda b: zstandard.ZstdCompressor().compress(b)}
    for name in names:
        body = one_shot[name](body)
    return body


@pytest.mark.parametrize("coding", CODINGS)
def test_truncated_corrupt_and_trailing_garbage_are_undecodable(coding):
    encoded = encode_body(BODY, coding)
    for broken in (encoded[: len(encoded) // 2], encoded[:-3], b"\x01\x02 not compressed at all " * 10,
                   encoded + b"\x07trailing"):
        with pytest.raises(UndecodableBody):
            decode_body(broken, coding, 10**8)


@pytest.mark.parametrize("coding, encoded", [
    ("gzip", gzip.compress(BODY)),
    ("deflate", zlib.compress(BODY)),
    ("zstd", zstandard.ZstdCompressor(write_checksum=True).compress(BODY)),
])
def test_a_flipped_bit_fails_the_checksum(coding, encoded):
    """(brotli and checksum-less zstd frames carry no checksum: a flipped literal there just decodes differently.)"""
    flipped = bytearray(encoded)
    flipped[len(flipped) // 20] ^= 0x10  # inside the incompressible part, where it changes a literal
    with pytest.raises(UndecodableBody):
        decode_body(bytes(flipped), coding, 10**8)


def test_unknown_coding_and_empty_bodies():
    with pytest.raises(UndecodableBody):
        decode_body(b"abc", "compress", 100)
    with pytest.raises(UndecodableBody):
        decode_body(gzip.compress(b"abc"), "gzip, x-custom", 100)
    assert decode_body(b"", "gzip", 100) == b""
    assert codings("GZIP , Identity,br") == ["gzip", "br"]


def test_zstd_frames_asking_for_a_window_over_8_mib_are_refused():
    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=27)
    c = zstandard.ZstdCompressor(compression_params=params).compressobj()  # streamed: the header keeps the window
    encoded = c.compress(os.urandom(1 << 16)) + c.flush()
    with pytest.raises(UndecodableBody, match="zstd"):
        decode_body(encoded, "zstd", 10**8)


@pytest.mark.parametrize("coding", CODINGS + ["gzip, br"])
def test_a_bomb_stops_at_the_limit_in_bounded_memory(coding):
    names = codings(coding)
    encoded = bomb(names[0], 256 << 20)  # 16 x the limit; the end-to-end test sends 1 GiB
    for name in names[1:]:
        encoded = encode_body(encoded, name)
    limit = 16 << 20
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match=str(limit)):
            decode_body(encoded, coding, limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < KEEP_BYTES + (6 << 20), f"peak {peak} bytes while decoding a bomb capped at {limit}"


@pytest.mark.parametrize("coding", CODINGS)
def test_a_body_longer_than_the_first_pass_keeps_is_decoded_whole_up_to_the_limit(coding):
    big = (BODY * (KEEP_BYTES // len(BODY) + 2))[: KEEP_BYTES + 3_000_000]
    encoded = encode_body(big, coding)
    assert decode_body(encoded, coding, len(big)) == big
    with pytest.raises(BodyTooLarge):
        decode_body(encoded, coding, len(big) - 1)
