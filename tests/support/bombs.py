"""Decompression bombs for tests and bench/bombs.py: a body that is small on the wire and huge once decoded."""

from __future__ import annotations

import zlib

import brotli
import zstandard


def bomb(coding: str, size: int, filler: bytes = b"\0") -> bytes:
    """`size` bytes of `filler` compressed with `coding` (gzip, deflate, br, zstd), produced 1 MiB at a time (the
    decoded bytes are never held at once)."""
    block = (filler * ((1 << 20) // len(filler) + 1))[: 1 << 20]
    blocks = size >> 20
    if coding == "br":
        c = brotli.Compressor(quality=5)
        return b"".join(c.process(block) for _ in range(blocks)) + c.finish()
    if coding == "zstd":
        z = zstandard.ZstdCompressor(level=3).compressobj()
        return b"".join(z.compress(block) for _ in range(blocks)) + z.flush()
    d = zlib.compressobj(6, zlib.DEFLATED, 31 if coding == "gzip" else 15)
    return b"".join(d.compress(block) for _ in range(blocks)) + d.flush()
