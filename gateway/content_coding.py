"""HTTP Content-Encoding of request bodies: decode what the client sent, encode a rebuilt body the same way.

Decoding is incremental with a hard cap: every coding (gzip, deflate, br, zstd, stacked in any order) is a
generator that turns input pieces into output pieces of at most STEP_BYTES, and decoding stops as soon as the
output passes the limit. A 1 GiB bomb costs the CPU time to decode up to the limit and KEEP_BYTES of memory, never
the whole gigabyte. Pure bytes, no proxy; the C decoders run without the GIL, so the caller can run this on a
thread beside an event loop.

brotli's and zstd's Python bindings only decode a whole input at once, so their streaming C APIs are called through
ctypes, in the very libraries those packages ship (and mitmproxy uses).
"""

from __future__ import annotations

import ctypes
import gzip
import importlib.util
import io
import zlib
from collections.abc import Callable, Iterable, Iterator

import brotli
import zstandard

STEP_BYTES = 1 << 20  # output of one decoding step
KEEP_BYTES = 8 << 20  # decoded bytes kept on the first pass
INPUT_STEP_BYTES = 256 << 10  # input fed to a decoder at a time
ZSTD_WINDOW_LOG_MAX = 23  # 8 MiB, the most an HTTP recipient must support (RFC 9659)


class UndecodableBody(ValueError):
    """The body does not decode with its Content-Encoding (corrupt, truncated or an unknown coding)."""


class BodyTooLarge(ValueError):
    """The decoded body is larger than the limit."""


def codings(content_encoding: str | None) -> list[str]:
    """The codings in the order the client applied them; identity dropped, x-gzip read as gzip."""
    names = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return ["gzip" if c == "x-gzip" else c for c in names if c and c != "identity"]


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as the client meant it. Raises UndecodableBody, or BodyTooLarge as soon as it passes `limit`.

    The first KEEP_BYTES are kept while decoding; past them the decoder only counts, so a bomb costs KEEP_BYTES of
    memory, not `limit`. A body that ends between the two is decoded a second time, kept whole.
    """
    names = codings(content_encoding)
    unknown = [n for n in names if n not in _DECODERS]
    if unknown:
        raise UndecodableBody(f"unknown Content-Encoding {unknown[0]!r}")
    if not names or not raw:
        if len(raw) > limit:
            raise BodyTooLarge(f"body is over the limit of {limit} bytes")
        return raw
    body = _decode(raw, names, limit, keep=min(limit, KEEP_BYTES))
    return body if body is not None else _decode(raw, names, limit, keep=limit)


def _decode(raw: bytes, names: list[str], limit: int, keep: int) -> bytes | None:
    """The decoded body if it is at most `keep` bytes; None if it is longer (but within `limit`)."""
    stream: Iterator[bytes] = _pieces(raw)
    for name in reversed(names):  # the last coding applied is the first undone
        stream = _capped(_DECODERS[name](stream), limit, name)
    out: io.BytesIO | None = io.BytesIO()
    size = 0
    try:
        for piece in stream:
            size += len(piece)
            if out is not None and size > keep:
                out = None  # from here on only count: the whole body is decoded again if it stays in the limit
            if out is not None:
                out.write(piece)
    finally:
        stream.close()  # a bomb stops here: every stage frees its decoder now
    return out.getvalue() if out is not None else None


def encode_body(body: bytes, content_encoding: str | None) -> bytes:
    """`body` encoded with the same codings, in the same order."""
    for name in codings(content_encoding):
        body = _ENCODERS[name](body)
    return body


def _pieces(raw: bytes) -> Iterator[bytes]:
    view = memoryview(raw)
    for start in range(0, len(raw), INPUT_STEP_BYTES):
        yield view[start:start + INPUT_STEP_BYTES].tobytes()


def _capped(stream: Iterator[bytes], limit: int, name: str) -> Iterator[bytes]:
    """Pass `stream` on, but stop (BodyTooLarge) once it has produced more than `limit` bytes."""
    total = 0
    try:
        for piece in stream:
            total += len(piece)
            if total > limit:
                raise BodyTooLarge(f"{name}-decoded body is over the limit of {limit} bytes")
            yield piece
    finally:
        stream.close()


# --- gzip and deflate (zlib's own bounded decompressobj) -----------------------------------------------------------


def _inflate(chunks: Iterable[bytes], wbits: int, members: bool) -> Iterator[bytes]:
    """zlib/gzip/raw deflate. `members`: gzip, where members may follow each other and zero padding may trail."""
    d = zlib.decompressobj(wbits)
    for data in chunks:
        while True:
            if d.eof:  # after a gzip member: zero padding, or the next member
                data = data.lstrip(b"\0")
                if not data:
                    break
                if not members:
                    raise UndecodableBody("data after the end of the deflate stream")
                d = zlib.decompressobj(wbits)
            try:
                out = d.decompress(data, STEP_BYTES)
            except zlib.error as err:
                raise UndecodableBody(f"corrupt compressed body: {err}") from None
            if out:
                yield out
            data = d.unused_data if d.eof else d.unconsumed_tail
            if not data and (d.eof or len(out) < STEP_BYTES):  # a full step may leave output to drain
                break
    if not d.eof:
        raise UndecodableBody("compressed body is truncated")


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    return _inflate(chunks, 31, members=True)


def _inflate_deflate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """HTTP "deflate" is the zlib format; some clients send raw deflate, which we read too (as mitmproxy does)."""
    chunks = iter(chunks)
    first = next(chunks, b"")
    zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
    yield from _inflate(_prepend(first, chunks), 15 if zlib_header else -15, members=False)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


# --- brotli and zstd (their streaming C APIs) ----------------------------------------------------------------------


def _library(module: str) -> ctypes.CDLL:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise ImportError(f"{module} is not installed")
    return ctypes.CDLL(spec.origin)


class _Brotli:
    ERROR, SUCCESS, NEEDS_MORE_INPUT, NEEDS_MORE_OUTPUT = 0, 1, 2, 3

    def __init__(self) -> None:
        lib = _library("_brotli")  # the Brotli package's extension exports the C decoder
        lib.BrotliDecoderCreateInstance.restype = ctypes.c_void_p
        lib.BrotliDecoderCreateInstance.argtypes = [ctypes.c_void_p] * 3
        lib.BrotliDecoderDestroyInstance.argtypes = [ctypes.c_void_p]
        lib.BrotliDecoderDecompressStream.restype = ctypes.c_int
        size_p, ptr_p = ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p)
        lib.BrotliDecoderDecompressStream.argtypes = [ctypes.c_void_p, size_p, ptr_p, size_p, ptr_p, size_p]
        lib.BrotliDecoderGetErrorCode.restype = ctypes.c_int
        lib.BrotliDecoderGetErrorCode.argtypes = [ctypes.c_void_p]
        lib.BrotliDecoderErrorString.restype = ctypes.c_char_p
        lib.BrotliDecoderErrorString.argtypes = [ctypes.c_int]
        self.lib = lib

    def decode(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        lib = self.lib
        state = lib.BrotliDecoderCreateInstance(None, None, None)
        if not state:
            raise MemoryError("brotli decoder")
        out = ctypes.create_string_buffer(STEP_BYTES)
        result = self.NEEDS_MORE_INPUT
        try:
            for data in chunks:
                if result == self.SUCCESS:
                    if data:
                        raise UndecodableBody("data after the end of the brotli stream")
                    continue
                src = ctypes.create_string_buffer(data, len(data))
                avail_in, next_in = ctypes.c_size_t(len(data)), ctypes.c_void_p(ctypes.addressof(src))
                while True:
                    avail_out, next_out = ctypes.c_size_t(STEP_BYTES), ctypes.c_void_p(ctypes.addressof(out))
                    result = lib.BrotliDecoderDecompressStream(state, ctypes.byref(avail_in), ctypes.byref(next_in),
                                                               ctypes.byref(avail_out), ctypes.byref(next_out), None)
                    produced = STEP_BYTES - avail_out.value
                    if produced:
                        yield ctypes.string_at(out, produced)
                    if result == self.ERROR:
                        code = lib.BrotliDecoderGetErrorCode(state)
                        reason = lib.BrotliDecoderErrorString(code).decode("ascii", "replace")
                        raise UndecodableBody(f"corrupt brotli body: {reason}")
                    if result == self.SUCCESS and avail_in.value:
                        raise UndecodableBody("data after the end of the brotli stream")
                    if result != self.NEEDS_MORE_OUTPUT:
                        break
            if result != self.SUCCESS:
                raise UndecodableBody("brotli body is truncated")
        finally:
            lib.BrotliDecoderDestroyInstance(state)


class _ZstdBuffer(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t)]


class _Zstd:
    D_WINDOW_LOG_MAX = 100  # ZSTD_d_windowLogMax

    def __init__(self) -> None:
        lib = _library("zstandard._cffi")  # python-zstandard's compiled libzstd
        lib.ZSTD_createDCtx.restype = ctypes.c_void_p
        lib.ZSTD_createDCtx.argtypes = []
        lib.ZSTD_freeDCtx.argtypes = [ctypes.c_void_p]
        lib.ZSTD_DCtx_setParameter.restype = ctypes.c_size_t
        lib.ZSTD_DCtx_setParameter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        buf_p = ctypes.POINTER(_ZstdBuffer)
        lib.ZSTD_decompressStream.restype = ctypes.c_size_t
        lib.ZSTD_decompressStream.argtypes = [ctypes.c_void_p, buf_p, buf_p]
        lib.ZSTD_isError.restype = ctypes.c_uint
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        lib.ZSTD_getErrorName.restype = ctypes.c_char_p
        lib.ZSTD_getErrorName.argtypes = [ctypes.c_size_t]
        self.lib = lib

    def decode(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        lib = self.lib
        dctx = lib.ZSTD_createDCtx()
        if not dctx:
            raise MemoryError("zstd decoder")
        out = ctypes.create_string_buffer(STEP_BYTES)
        frame_done = True  # no frame started yet; an empty body is fine
        try:
            self._check(lib.ZSTD_DCtx_setParameter(dctx, self.D_WINDOW_LOG_MAX, ZSTD_WINDOW_LOG_MAX))
            for data in chunks:
                src = ctypes.create_string_buffer(data, len(data))
                inp = _ZstdBuffer(ctypes.addressof(src), len(data), 0)
                while True:
                    dst = _ZstdBuffer(ctypes.addressof(out), STEP_BYTES, 0)
                    hint = self._check(lib.ZSTD_decompressStream(dctx, ctypes.byref(dst), ctypes.byref(inp)))
                    if dst.pos:
                        yield ctypes.string_at(out, dst.pos)
                    frame_done = hint == 0  # the frame is decoded and flushed; more input starts the next one
                    if inp.pos == inp.size and dst.pos < dst.size:
                        break
            if not frame_done:
                raise UndecodableBody("zstd body is truncated")
        finally:
            lib.ZSTD_freeDCtx(dctx)

    def _check(self, code: int) -> int:
        if self.lib.ZSTD_isError(code):
            raise UndecodableBody(f"corrupt zstd body: {self.lib.ZSTD_getErrorName(code).decode('ascii', 'replace')}")
        return code


_DECODERS: dict[str, Callable[[Iterable[bytes]], Iterator[bytes]]] = {
    "gzip": _gunzip,
    "deflate": _inflate_deflate,
    "br": _Brotli().decode,
    "zstd": _Zstd().decode,
}
# Re-encoding a rebuilt body is on the upload's critical path: middle levels (brotli's default 11 takes seconds).
_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda b: gzip.compress(b, 6, mtime=0),
    "deflate": zlib.compress,
    "br": lambda b: brotli.compress(b, quality=5),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}
