"""HTTP Content-Encoding of request bodies: decode what the client sent, encode a rebuilt body the same way.

Pure bytes, no proxy: the pipeline decodes the body it inspects and re-encodes the body it rewrites.
"""

from __future__ import annotations

import gzip
import zlib

import brotli
import zstandard


class UndecodableBody(ValueError):
    """The body does not decode with its Content-Encoding (corrupt, truncated or an unknown coding)."""


class BodyTooLarge(ValueError):
    """The decoded body is larger than the limit."""


def codings(content_encoding: str | None) -> list[str]:
    """The codings in the order the client applied them; identity dropped."""
    names = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in names if c and c != "identity"]


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as the client meant it. Raises UndecodableBody or BodyTooLarge (over `limit` bytes)."""
    names = codings(content_encoding)
    if len(names) > 1:
        raise UndecodableBody(f"unsupported Content-Encoding {content_encoding!r}")
    body = raw
    if names:
        try:
            body = _DECODERS[names[0]](raw) if raw else b""
        except KeyError:
            raise UndecodableBody(f"unknown Content-Encoding {names[0]!r}") from None
        except Exception as err:  # noqa: BLE001 - every codec raises its own error type
            raise UndecodableBody(f"{names[0]} body does not decode: {type(err).__name__}") from None
    if len(body) > limit:
        raise BodyTooLarge(f"decoded body is over {limit} bytes")
    return body


def encode_body(body: bytes, content_encoding: str | None) -> bytes:
    """`body` encoded with the same codings, in the same order."""
    for name in codings(content_encoding):
        body = _ENCODERS[name](body)
    return body


def _decode_deflate(raw: bytes) -> bytes:
    try:
        return zlib.decompress(raw)
    except zlib.error:  # servers and clients send raw deflate too
        return zlib.decompress(raw, -15)


def _decode_zstd(raw: bytes) -> bytes:
    import io

    return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True).read()


_DECODERS = {
    "gzip": gzip.decompress,
    "deflate": _decode_deflate,
    "br": brotli.decompress,
    "zstd": _decode_zstd,
}
_ENCODERS = {
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}
