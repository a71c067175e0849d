"""Base64 and data: URLs: decoding, writing a replacement the way the original was written, and judging one string."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_from_bytes, unquote, unquote_to_bytes

from gateway.documents.sniff import OLE_MAGIC, ZIP_MAGICS, sniff_document
from gateway.formats import MIME_TYPES, sniff_format

if TYPE_CHECKING:
    from gateway.extract.context import Context

MIN_BASE64_CHARS = 64  # bare base64 strings shorter than this are not decoded (a data: URL or an image claim is)

WS = re.compile(r"[ \t\r\n]+")
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}


def b64decode(text: str) -> bytes | None:
    """Decode standard or URL-safe base64, padded or not, ignoring line breaks. None if it is not base64."""
    if WS.search(text):
        text = WS.sub("", text)
    if "-" in text or "_" in text:
        if "+" in text or "/" in text:
            return None
        text = text.replace("-", "+").replace("_", "/")
    text = text.rstrip("=")
    if len(text) % 4 == 1:
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class B64Style:
    """How a base64 text was written, so a replacement is written the same way."""

    urlsafe: bool
    padded: bool
    line_len: int  # 0: one line
    newline: str
    lead: str
    trail: str

    @classmethod
    def detect(cls, text: str) -> B64Style:
        core = text.strip(" \t\r\n")
        start = text.find(core[:1]) if core else 0
        lead, trail = text[:start], text[start + len(core) :]
        newline = "\r\n" if "\r\n" in core else "\n" if "\n" in core else ""
        lines = core.split(newline) if newline else [core]
        compact = "".join(lines)
        urlsafe = "-" in compact or "_" in compact
        # ambiguous (no "=" and length a multiple of 4): standard base64 is usually padded, URL-safe usually not
        padded = "=" in compact or (len(compact) % 4 == 0 and not urlsafe)
        line_len = len(lines[0]) if len(lines) > 1 else 0
        return cls(urlsafe, padded, line_len, newline, lead, trail)

    def encode(self, data: bytes) -> str:
        text = (base64.urlsafe_b64encode if self.urlsafe else base64.b64encode)(data).decode("ascii")
        if not self.padded:
            text = text.rstrip("=")
        if self.line_len:
            text = self.newline.join(text[i : i + self.line_len] for i in range(0, len(text), self.line_len))
        return self.lead + text + self.trail


def plausible_bare(data: bytes, fmt: str) -> bool:
    """Extra check for bare base64 strings: a 2-byte "BM" magic is too weak to call a random token a BMP."""
    if fmt == "BMP":
        return int.from_bytes(data[14:18], "little") in _BMP_DIB_SIZES
    return True


@dataclass
class StrHit:
    index: int | tuple[str, int] | None  # None when over max_images; a document's key for documents
    fmt: str
    encode: Callable[[bytes], str]  # new image bytes -> the whole new string
    data_url: bool
    document: bool = False


_DOC_HEADS = (b"%PDF-", OLE_MAGIC, b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00") + ZIP_MAGICS


def document_head(head: bytes) -> bool:
    """Could decoded base64 starting with `head` be a document (a PDF or Office file sent as JSON base64)?"""
    return head.startswith(_DOC_HEADS)


CLAIMED = object()  # the string claimed to be an image but was not: already reported
PLAIN_BASE64 = object()  # the whole string is base64 of something that is not an image

Where = str | Callable[[], str]  # computed lazily: JSON paths are only built for what gets reported


def resolve_where(where: Where) -> str:
    return where if isinstance(where, str) else where()


def string_image(ctx: Context, s: str, where: Where, *, min_len: int = MIN_BASE64_CHARS, strict: bool = True):
    """Check one string: a data: URL or a bare base64 image. Returns StrHit, CLAIMED, PLAIN_BASE64 or None."""
    core = s.strip(" \t\r\n")
    if core[:5].lower() == "data:":
        return _data_url_image(ctx, s, core, where)
    if len(core) < min_len:
        return None
    compact = WS.sub("", core) if ("\n" in core or "\r" in core) else core
    if not (_B64_STD.fullmatch(compact) or _B64_URL.fullmatch(compact)):
        return None
    head = b64decode(compact[: min(len(compact), 64) // 4 * 4])
    if head is None or (sniff_format(head) is None and not document_head(head)):
        return PLAIN_BASE64
    data = b64decode(compact)
    fmt = sniff_format(data) if data else None
    if fmt is None and data and document_head(head):
        kind = sniff_document(data)
        if kind is not None:
            return StrHit(ctx.add_document(data, kind, resolve_where(where)), kind, B64Style.detect(s).encode, False, True)
    if fmt is None or (strict and not plausible_bare(data, fmt)):
        return PLAIN_BASE64
    style = B64Style.detect(s)
    return StrHit(ctx.add(data, fmt, resolve_where(where)), fmt, style.encode, False)


def _data_url_image(ctx: Context, s: str, core: str, where: Where):
    comma = core.find(",")
    header = core[5:comma] if comma >= 0 else core[5:]
    params = header.split(";")
    media_type = params[0].strip().lower()[:60]
    claims = media_type.startswith("image/")
    if comma < 0:
        if claims:
            ctx.note(f"{resolve_where(where)}: data:{media_type} URL without data")
            return CLAIMED
        return None
    payload = core[comma + 1 :]
    is_b64 = len(params) > 1 and params[-1].strip().lower() == "base64"
    pct = "%" in payload
    if is_b64:
        text = unquote(payload) if pct else payload
        data = b64decode(text)
        style = B64Style.detect(text)
    else:
        data, style = unquote_to_bytes(payload), None
    fmt = sniff_format(data) if data else None
    lead, trail = s[: s.find(core[:1])], s[s.find(core[:1]) + len(core) :]
    prefix, old_type_len = core[:5], len(params[0])
    kind = None if fmt is not None or not data else sniff_document(data, text=media_type.startswith("text/"))
    if kind is not None:

        def encode_document(new: bytes) -> str:
            body = style.encode(new) if style is not None else quote_from_bytes(new, safe="")
            return f"{lead}{prefix}{header},{quote(body, safe='') if pct and style is not None else body}{trail}"

        return StrHit(ctx.add_document(data, kind, resolve_where(where)), kind, encode_document, True, True)
    if fmt is None:
        if claims:
            ctx.note(f"{resolve_where(where)}: data:{media_type} URL is not a known image format")
            return CLAIMED
        return None

    def encode(new: bytes) -> str:
        new_fmt = sniff_format(new)
        hdr = header
        if new_fmt not in (None, fmt) and new_fmt in MIME_TYPES:
            hdr = MIME_TYPES[new_fmt] + header[old_type_len:]
        if style is not None:
            body = style.encode(new)
            if pct:
                body = quote(body, safe="")
        else:
            body = quote_from_bytes(new, safe="")
        return f"{lead}{prefix}{hdr},{body}{trail}"

    return StrHit(ctx.add(data, fmt, resolve_where(where)), fmt, encode, True)


def _alphabet_table(alphabet: bytes) -> bytes:
    """A bytes.translate table: alphabet bytes -> b"A", every other byte -> b" "."""
    return bytes(0x41 if b in alphabet else 0x20 for b in range(256))


_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
RUN_TABLE = _alphabet_table(_B64_CHARS)
_LOOSE_RUN_TABLE = _alphabet_table(_B64_CHARS + b"\\")  # JSON may escape "/" as "\/"
RUN = b"A" * MIN_BASE64_CHARS


def maybe_image(data: bytes) -> bool:
    """Cheap test (C speed, no regex): could this hold a data: URL, an image claim or a long base64 run?"""
    low = data.lower()
    return b"data:" in low or b"image/" in low or RUN in data.translate(_LOOSE_RUN_TABLE)
