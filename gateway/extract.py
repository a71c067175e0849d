"""Find every image and document inside an HTTP request body and rebuild the body with replacements.

Supported wrappings (detected by content, the Content-Type is only a hint):

* raw body: the body itself sniffs as an image (PUT/POST of the file bytes);
* multipart/* (form-data, mixed, nested): byte-level parser, every other byte is kept as is;
  parts with ``Content-Transfer-Encoding: base64`` / ``quoted-printable`` are decoded and re-encoded;
* JSON: every string value that is a data: URL, a bare base64 image (standard or URL-safe, padded or not,
  line-wrapped or not), or that itself holds JSON/text with such strings;
* application/x-www-form-urlencoded values;
* anything else: data: URLs and long base64 runs found by a text scan.

Rebuilding splices new bytes into the original body: everything except the replaced images (and, where the
format changes, their media type) stays byte-identical, including JSON key order, whitespace and escapes.

Images are recognised by magic bytes only (gateway.formats.sniff_format). Content that *claims* to be an image
(image/* Content-Type, data:image/... URL, an image media_type next to a "data" field) but does not sniff as one
is reported in ``Extraction.undecodable`` so the caller can apply on_error; so is content nested deeper than
MAX_DEPTH. Structural oddities (invalid JSON, unterminated multipart, boundary strings that are not delimiter
lines, image signatures inside an unparsed binary body, ...) go to ``Extraction.warnings``.
``extract_images`` never raises on bad input; when more than ``max_images`` images are found it stops
collecting and sets ``too_many`` (images then holds the first max_images; the rest cannot be replaced).

Documents and archives (PDF, DOCX/XLSX/PPTX, ZIP, tar, gzip, ..., by gateway.documents.sniff) are collected in
``Extraction.documents`` wherever an image could be: a raw body, a multipart part, a base64 string or data: URL.
Plain text counts as a document only where it is a file: a multipart part with a filename, or a raw body sent as
text/* or application/octet-stream (any JSON or form body is text too). The bytes are still scanned for images.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_from_bytes, quote_plus, unquote, unquote_to_bytes

from gateway.documents.sniff import OLE_MAGIC, ZIP_MAGICS, sniff_document
from gateway.formats import MIME_TYPES, sniff_format

MIN_BASE64_CHARS = 64  # bare base64 strings shorter than this are not decoded (a data: URL or an image claim is)
MAX_DEPTH = 6  # nested containers: multipart in multipart, JSON in a JSON string, ...
MAX_NOTES = 100  # cap on undecodable / warnings entries, so a hostile body cannot blow them up

__all__ = ["ExtractedDocument", "ExtractedImage", "Extraction", "extract_images", "MIN_BASE64_CHARS", "MAX_DEPTH"]


@dataclass
class ExtractedImage:
    """One image found in a request body."""

    index: int  # position in Extraction.images
    data: bytes = field(repr=False)  # the image bytes (decoded from base64 etc.)
    format: str  # gateway.formats.sniff_format of data
    where: str  # debug description, e.g. "multipart part 'file'", "json $.messages[0].content[1].image_url.url"


@dataclass
class ExtractedDocument:
    """One document or archive found in a request body."""

    index: int  # position in Extraction.documents
    data: bytes = field(repr=False)
    type: str  # gateway.documents.sniff.sniff_document of data: PDF, DOCX, ZIP, TEXT, ...
    where: str


@dataclass
class Extraction:
    """Every image and document found in a body, plus what looked suspicious, and a way to rebuild the body."""

    images: list[ExtractedImage]
    kind: str  # "multipart" | "raw" | "json" | "form" | "text" (images found by a text scan) | "none"
    undecodable: list[str] = field(default_factory=list)  # claims to be an image but is not one we know
    warnings: list[str] = field(default_factory=list)  # structural oddities (no PII, no content)
    too_many: bool = False  # more than max_images images (or documents): collecting stopped
    _body: bytes = field(default=b"", repr=False)
    _root: _Node | None = field(default=None, repr=False)
    documents: list[ExtractedDocument] = field(default_factory=list)

    def rebuild(self, replacements: dict[int, bytes], documents: dict[int, bytes] | None = None) -> bytes:
        """The original body with images[i] replaced by replacements[i] and documents[j] by documents[j]; every
        other byte unchanged.

        If a replacement has another format than the original, data: URL media types and sibling
        media_type/mime_type JSON fields are updated to match. Unknown indexes raise KeyError, and so does
        replacing a text document together with an image inside it.
        """
        documents = documents or {}
        unknown = [i for i in replacements if not 0 <= i < len(self.images)]
        unknown += [("document", j) for j in documents if not 0 <= j < len(self.documents)]
        if unknown:
            raise KeyError(f"no image or document with index {unknown}")
        if not (replacements or documents) or self._root is None:
            return self._body
        new = self._root.render({**replacements, **{_doc_key(j): data for j, data in documents.items()}})
        return self._body if new is None else new


def _doc_key(index: int) -> tuple[str, int]:
    """Documents share the rebuild tree with images under keys of their own."""
    return ("document", index)


# --------------------------------------------------------------------------------------------- rebuild tree


class _Node:
    """A span of the original bytes that may change on rebuild. render() returns None when nothing changed."""

    __slots__ = ()

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        raise NotImplementedError


class _Leaf(_Node):
    """An image that occupies the whole span; encode turns new image bytes into the span's new bytes."""

    __slots__ = ("index", "encode")

    def __init__(self, index: int, encode: Callable[[bytes], bytes]) -> None:
        self.index, self.encode = index, encode

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = repl.get(self.index)
        return None if new is None else self.encode(new)


class _MimeFix(_Node):
    """A media type string that must follow its image's format when a replacement changes it."""

    __slots__ = ("index", "fmt", "encode")

    def __init__(self, index: int, fmt: str, encode: Callable[[str], bytes]) -> None:
        self.index, self.fmt, self.encode = index, fmt, encode

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = repl.get(self.index)
        if new is None:
            return None
        fmt = sniff_format(new)
        if fmt is None or fmt == self.fmt or fmt not in MIME_TYPES:
            return None
        return self.encode(MIME_TYPES[fmt])


class _Splice(_Node):
    """Original bytes with some child spans (sorted, non-overlapping) that may be re-rendered."""

    __slots__ = ("data", "children")

    def __init__(self, data: bytes, children: list[tuple[int, int, _Node]]) -> None:
        self.data = data
        self.children = sorted(children, key=lambda c: c[0])

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        out: list[bytes] = []
        last = 0
        for start, end, child in self.children:
            new = child.render(repl)
            if new is not None:
                out += (self.data[last:start], new)
                last = end
        if not out:
            return None
        out.append(self.data[last:])
        return b"".join(out)


class _Recode(_Node):
    """A decoded view (base64 part, JSON string, form value) re-encoded after its child changed."""

    __slots__ = ("child", "encode")

    def __init__(self, child: _Node, encode: Callable[[bytes], bytes]) -> None:
        self.child, self.encode = child, encode

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = self.child.render(repl)
        return None if new is None else self.encode(new)


class _TextDocument(_Node):
    """A text file whose bytes were also scanned for images: replaced whole, or through its images, not both."""

    __slots__ = ("key", "child")

    def __init__(self, key: tuple[str, int], child: _Node | None) -> None:
        self.key, self.child = key, child

    def render(self, repl: dict) -> bytes | None:
        new = repl.get(self.key)
        inner = self.child.render(repl) if self.child is not None else None
        if new is not None and inner is not None:
            raise KeyError("a text document and an image inside it cannot both be replaced")
        return new if new is not None else inner


class _Part(_Node):
    """A multipart part: headers kept byte-identical except a Content-Length, which follows the new body."""

    __slots__ = ("headers", "sep", "body")

    def __init__(self, headers: bytes, sep: bytes, body: _Node) -> None:
        self.headers, self.sep, self.body = headers, sep, body

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = self.body.render(repl)
        if new is None:
            return None
        headers = _CONTENT_LENGTH.sub(lambda m: m.group(1) + str(len(new)).encode(), self.headers)
        return headers + self.sep + new


# --------------------------------------------------------------------------------------------- context


class _Ctx:
    def __init__(self, max_images: int) -> None:
        self.max_images = max_images
        self.images: list[ExtractedImage] = []
        self.documents: list[ExtractedDocument] = []
        self.undecodable: list[str] = []
        self.warnings: list[str] = []
        self.too_many = False
        self._dropped_notes = 0

    def add(self, data: bytes, fmt: str, where: str) -> int | None:
        if len(self.images) >= self.max_images:
            self.too_many = True
            return None
        index = len(self.images)
        self.images.append(ExtractedImage(index, data, fmt, where))
        return index

    def add_document(self, data: bytes, kind: str, where: str) -> tuple[str, int] | None:
        if len(self.documents) >= self.max_images:
            self.too_many = True
            return None
        index = len(self.documents)
        self.documents.append(ExtractedDocument(index, data, kind, where))
        return _doc_key(index)

    def note(self, msg: str) -> None:
        self._append(self.undecodable, msg)

    def warn(self, msg: str) -> None:
        self._append(self.warnings, msg)

    def _append(self, notes: list[str], msg: str) -> None:
        if len(notes) < MAX_NOTES:
            notes.append(msg)
        elif len(notes) == MAX_NOTES:
            notes.append("... more omitted")

    def checkpoint(self) -> tuple[int, int, int, bool, int]:
        return len(self.images), len(self.undecodable), len(self.warnings), self.too_many, len(self.documents)

    def rollback(self, cp: tuple[int, int, int, bool, int]) -> None:
        del self.images[cp[0] :]
        del self.undecodable[cp[1] :]
        del self.warnings[cp[2] :]
        self.too_many = cp[3]
        del self.documents[cp[4] :]


def _join(prefix: str, what: str) -> str:
    return f"{prefix} > {what}" if prefix else what


def _short(name: str) -> str:
    """A field name for `where`, quoted and cut short (names are client-controlled)."""
    return repr(name if len(name) <= 60 else name[:57] + "...")


# --------------------------------------------------------------------------------------------- base64 / data URLs

_WS = re.compile(r"[ \t\r\n]+")
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}


def _b64decode(text: str) -> bytes | None:
    """Decode standard or URL-safe base64, padded or not, ignoring line breaks. None if it is not base64."""
    if _WS.search(text):
        text = _WS.sub("", text)
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
class _B64Style:
    """How a base64 text was written, so a replacement is written the same way."""

    urlsafe: bool
    padded: bool
    line_len: int  # 0: one line
    newline: str
    lead: str
    trail: str

    @classmethod
    def detect(cls, text: str) -> _B64Style:
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


def _plausible_bare(data: bytes, fmt: str) -> bool:
    """Extra check for bare base64 strings: a 2-byte "BM" magic is too weak to call a random token a BMP."""
    if fmt == "BMP":
        return int.from_bytes(data[14:18], "little") in _BMP_DIB_SIZES
    return True


@dataclass
class _StrHit:
    index: int | tuple[str, int] | None  # None when over max_images; a document's key for documents
    fmt: str
    encode: Callable[[bytes], str]  # new image bytes -> the whole new string
    data_url: bool
    document: bool = False


_DOC_HEADS = (b"%PDF-", OLE_MAGIC, b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00") + ZIP_MAGICS


def _document_head(head: bytes) -> bool:
    """Could decoded base64 starting with `head` be a document (a PDF or Office file sent as JSON base64)?"""
    return head.startswith(_DOC_HEADS)


_CLAIMED = object()  # the string claimed to be an image but was not: already reported
_PLAIN_BASE64 = object()  # the whole string is base64 of something that is not an image

Where = str | Callable[[], str]  # computed lazily: JSON paths are only built for what gets reported


def _where(where: Where) -> str:
    return where if isinstance(where, str) else where()


def _string_image(ctx: _Ctx, s: str, where: Where, *, min_len: int = MIN_BASE64_CHARS, strict: bool = True):
    """Check one string: a data: URL or a bare base64 image. Returns _StrHit, _CLAIMED, _PLAIN_BASE64 or None."""
    core = s.strip(" \t\r\n")
    if core[:5].lower() == "data:":
        return _data_url_image(ctx, s, core, where)
    if len(core) < min_len:
        return None
    compact = _WS.sub("", core) if ("\n" in core or "\r" in core) else core
    if not (_B64_STD.fullmatch(compact) or _B64_URL.fullmatch(compact)):
        return None
    head = _b64decode(compact[: min(len(compact), 64) // 4 * 4])
    if head is None or (sniff_format(head) is None and not _document_head(head)):
        return _PLAIN_BASE64
    data = _b64decode(compact)
    fmt = sniff_format(data) if data else None
    if fmt is None and data and _document_head(head):
        kind = sniff_document(data)
        if kind is not None:
            return _StrHit(ctx.add_document(data, kind, _where(where)), kind, _B64Style.detect(s).encode, False, True)
    if fmt is None or (strict and not _plausible_bare(data, fmt)):
        return _PLAIN_BASE64
    style = _B64Style.detect(s)
    return _StrHit(ctx.add(data, fmt, _where(where)), fmt, style.encode, False)


def _data_url_image(ctx: _Ctx, s: str, core: str, where: Where):
    comma = core.find(",")
    header = core[5:comma] if comma >= 0 else core[5:]
    params = header.split(";")
    media_type = params[0].strip().lower()[:60]
    claims = media_type.startswith("image/")
    if comma < 0:
        if claims:
            ctx.note(f"{_where(where)}: data:{media_type} URL without data")
            return _CLAIMED
        return None
    payload = core[comma + 1 :]
    is_b64 = len(params) > 1 and params[-1].strip().lower() == "base64"
    pct = "%" in payload
    if is_b64:
        text = unquote(payload) if pct else payload
        data = _b64decode(text)
        style = _B64Style.detect(text)
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

        return _StrHit(ctx.add_document(data, kind, _where(where)), kind, encode_document, True, True)
    if fmt is None:
        if claims:
            ctx.note(f"{_where(where)}: data:{media_type} URL is not a known image format")
            return _CLAIMED
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

    return _StrHit(ctx.add(data, fmt, _where(where)), fmt, encode, True)


# --------------------------------------------------------------------------------------------- dispatch

_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_JSONISH = re.compile(rb"\A(?:\xef\xbb\xbf)?[ \t\r\n]*[{\[\"]")


def _alphabet_table(alphabet: bytes) -> bytes:
    """A bytes.translate table: alphabet bytes -> b"A", every other byte -> b" "."""
    return bytes(0x41 if b in alphabet else 0x20 for b in range(256))


_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_RUN_TABLE = _alphabet_table(_B64_CHARS)
_LOOSE_RUN_TABLE = _alphabet_table(_B64_CHARS + b"\\")  # JSON may escape "/" as "\/"
_RUN = b"A" * MIN_BASE64_CHARS


def _maybe_image(data: bytes) -> bool:
    """Cheap test (C speed, no regex): could this hold a data: URL, an image claim or a long base64 run?"""
    low = data.lower()
    return b"data:" in low or b"image/" in low or _RUN in data.translate(_LOOSE_RUN_TABLE)


def _split_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """'multipart/form-data; boundary="a b"' -> ('multipart/form-data', {'boundary': 'a b'})."""
    if not value:
        return "", {}
    media_type, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for m in _PARAM.finditer(";" + rest):
        v = m.group(2).strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        params.setdefault(m.group(1).lower(), v)
    return media_type.strip().lower(), params


def _analyze(ctx: _Ctx, content_type: str | None, data: bytes, where: str, depth: int,
             file: bool = False) -> tuple[_Node | None, str]:
    """Find images and documents in `data` (declared as content_type). Returns (rebuild node or None, kind).

    `file`: the bytes are a file (a multipart part with a filename): plain text is then a document too."""
    if not data:
        return None, "none"
    if depth > MAX_DEPTH:  # could hide an image: the caller must treat it as uninspectable
        ctx.note(f"{where or 'body'}: nesting deeper than {MAX_DEPTH}, not inspected")
        return None, "none"
    media_type, params = _split_content_type(content_type)
    media_type = media_type[:100]
    before = len(ctx.images)
    text_file = file or (depth == 0 and (media_type.startswith("text/") or media_type == "application/octet-stream"))
    node, kind = _analyze_inner(ctx, media_type, params, data, where, depth, text_file)
    if media_type.startswith("image/") and len(ctx.images) == before and not ctx.too_many:
        ctx.note(f"{where or 'body'}: Content-Type {media_type} but not a known image format")
    return node, kind


def _analyze_inner(ctx, media_type, params, data, where, depth, text_file=False) -> tuple[_Node | None, str]:
    node, kind = _analyze_body(ctx, media_type, params, data, where, depth)
    if kind in ("raw", "multipart") or not text_file or sniff_document(data, text=True) != "TEXT":
        return node, kind
    key = ctx.add_document(data, "TEXT", where or "raw body")  # a text file: its text is inspected as a document
    return (node if key is None else _TextDocument(key, node)), kind


def _analyze_body(ctx, media_type, params, data, where, depth) -> tuple[_Node | None, str]:
    if media_type.startswith("multipart/"):
        boundary = params.get("boundary", "")
        if boundary:
            node = _scan_multipart(ctx, data, boundary.encode("utf-8", "surrogateescape"), where, depth)
            if node is not False:
                return node, "multipart"
        ctx.warn(f"{where or 'body'}: {media_type} body has no parts for its boundary")
    fmt = sniff_format(data)
    if fmt is not None:
        index = ctx.add(data, fmt, where or "raw body")
        return (None if index is None else _Leaf(index, bytes)), "raw"
    doc = sniff_document(data)  # binary documents: plain text is decided by the caller, which knows if it is a file
    if doc is not None:
        key = ctx.add_document(data, doc, where or "raw body")
        return (None if key is None else _Leaf(key, bytes)), "raw"
    if not media_type.startswith("multipart/"):
        boundary = _infer_boundary(data)
        if boundary is not None:
            node = _scan_multipart(ctx, data, boundary, where, depth)
            if node is not False:
                ctx.warn(f"{where or 'body'}: multipart body without a multipart Content-Type")
                return node, "multipart"
    if "json" in media_type or _JSONISH.match(data):
        cp = ctx.checkpoint()
        node = _scan_json(ctx, data, where, depth)
        if node is not False:
            return node, "json"
        ctx.rollback(cp)
        if "json" in media_type:
            ctx.warn(f"{where or 'body'}: invalid JSON, scanned as text")
    if media_type == "application/x-www-form-urlencoded":
        return _scan_form(ctx, data, where, depth), "form"
    before = len(ctx.images) + len(ctx.undecodable)
    node = _scan_text(ctx, data, where, depth)
    _warn_embedded(ctx, data, where)
    return node, ("text" if len(ctx.images) + len(ctx.undecodable) > before else "none")


def _analyze_text(ctx: _Ctx, data: bytes, where: str, depth: int) -> _Node | None:
    """A decoded text value (JSON string, form value): JSON inside, else a text scan. Never a raw sniff."""
    if depth > MAX_DEPTH:
        ctx.note(f"{where}: nesting deeper than {MAX_DEPTH}, not inspected")
        return None
    if _JSONISH.match(data):
        cp = ctx.checkpoint()
        node = _scan_json(ctx, data, where, depth)
        if node is not False:
            return node
        ctx.rollback(cp)
    return _scan_text(ctx, data, where, depth)


_SIGNATURES = re.compile(rb"\x89PNG\r\n\x1a\n|\xff\xd8\xff[\xc0-\xfe]|GIF8[79]a|RIFF....WEBP", re.S)


def _warn_embedded(ctx: _Ctx, data: bytes, where: str) -> None:
    """An unparsed body (protobuf, PDF, ...) that carries an image signature: we cannot extract it, say so."""
    m = _SIGNATURES.search(data, 1)
    if m is not None:
        ctx.warn(f"embedded-signature: {where or 'body'}: image signature at byte {m.start()} in an unparsed body")


# --------------------------------------------------------------------------------------------- multipart

_CONTENT_LENGTH = re.compile(rb"(?im)^(content-length[ \t]*:[ \t]*)\d+")
_FIRST_LINE_BOUNDARY = re.compile(rb"\A--([\x21-\x7e][\x20-\x7e]{0,199}?)[ \t]*\r?\n")


def _infer_boundary(data: bytes) -> bytes | None:
    """A body that starts like multipart ("--X" line ... "--X--") but was not declared as such."""
    if not data.startswith(b"--"):
        return None
    m = _FIRST_LINE_BOUNDARY.match(data)
    if m is None or m.group(1).endswith(b"--"):
        return None
    boundary = m.group(1)
    return boundary if b"\n--" + boundary + b"--" in data else None


def _scan_multipart(ctx: _Ctx, data: bytes, boundary: bytes, where: str, depth: int):
    """Parse multipart byte by byte. Returns a node, None (no images), or False (no delimiter at all).

    Delimiters are RFC 2046 lines ("--B" or "--B--" plus optional blanks). Servers differ on the edge cases,
    so this errs on the side of seeing more parts: parts after a closing delimiter are parsed too, and
    boundary strings that are not delimiter lines are reported in warnings.
    """
    dash = b"--" + boundary
    delim = re.compile(rb"(?:\A|(?<=\n))" + re.escape(dash) + rb"(--)?[ \t]*(?:\r\n|\n|\Z)")
    marks = [(m.start(), m.end(), m.group(1) is not None) for m in delim.finditer(data)]
    if not marks:
        return False
    label = _join(where, "multipart")
    closes = [i for i, mark in enumerate(marks) if mark[2]]
    if not closes:
        ctx.warn(f"{label}: no closing boundary")
        marks.append((len(data), len(data), True))
    else:
        if closes[0] != len(marks) - 1:
            ctx.warn(f"{label}: parts after the closing boundary (inspected too)")
        tail = data[marks[-1][1] :] if marks[-1][2] else b""
        if tail.strip(b" \t\r\n"):
            ctx.warn(f"{label}: {len(tail)} bytes after the closing boundary (ignored)")
    stray = data.count(dash) - len(closes) - sum(1 for mark in marks if not mark[2])
    if stray > 0:
        ctx.warn(f"{label}: {stray} boundary strings that are not delimiter lines")
    children: list[tuple[int, int, _Node]] = []
    number = 0
    for (_, start, close), (nxt, _, _) in zip(marks, marks[1:]):
        if close:
            continue
        end = nxt
        if nxt < len(data):  # the line break before a delimiter belongs to the delimiter
            end -= 2 if data[nxt - 2 : nxt] == b"\r\n" else 1
        end = max(start, end)
        node = _scan_part(ctx, data[start:end], number, where, depth)
        number += 1
        if node is not None:
            children.append((start, end, node))
    return _Splice(data, children) if children else None


def _parse_headers(raw: bytes) -> dict[str, str]:
    text = re.sub(r"\r?\n[ \t]+", " ", raw.decode("utf-8", "replace"))
    headers: dict[str, str] = {}
    for line in text.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    return headers


def _split_part(part: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(headers, blank-line separator, body) or None when the part has no header/body separator."""
    for sep in (b"\r\n", b"\n"):
        if part.startswith(sep):
            return b"", sep, part[len(sep) :]
    crlf, lf = part.find(b"\r\n\r\n"), part.find(b"\n\n")
    if crlf < 0 and lf < 0:
        return None
    if crlf >= 0 and (lf < 0 or crlf <= lf + 1):
        return part[:crlf], b"\r\n\r\n", part[crlf + 4 :]
    return part[:lf], b"\n\n", part[lf + 2 :]


def _scan_part(ctx: _Ctx, part: bytes, number: int, where: str, depth: int) -> _Node | None:
    split = _split_part(part)
    if split is None:
        ctx.warn(f"{_join(where, 'multipart')} part #{number}: no blank line after the headers")
        return None
    raw_headers, sep, body = split
    headers = _parse_headers(raw_headers)
    name = _split_content_type(headers.get("content-disposition"))[1].get("name")
    label = _join(where, f"multipart part {_short(name)}" if name is not None else f"multipart part #{number}")
    content_type = headers.get("content-type")
    cte = headers.get("content-transfer-encoding", "").strip().lower()
    claims = _split_content_type(content_type)[0].startswith("image/")
    if cte == "base64":
        text = body.decode("latin-1")
        decoded = _b64decode(text)
        if decoded is None:
            (ctx.note if claims else ctx.warn)(f"{label}: Content-Transfer-Encoding base64 but not valid base64")
            return None
        style = _B64Style.detect(text)
        child, _ = _analyze(ctx, content_type, decoded, label, depth + 1)
        node = None if child is None else _Recode(child, lambda new: style.encode(new).encode("ascii"))
    elif cte == "quoted-printable":
        crlf = b"\r\n" in body
        child, _ = _analyze(ctx, content_type, quopri.decodestring(body), label, depth + 1)

        def encode_qp(new: bytes) -> bytes:
            out = binascii.b2a_qp(new, quotetabs=True, istext=False)
            return out.replace(b"\n", b"\r\n") if crlf else out

        node = None if child is None else _Recode(child, encode_qp)
    else:
        file = "filename" in _split_content_type(headers.get("content-disposition"))[1] or \
            "filename*" in _split_content_type(headers.get("content-disposition"))[1]
        node, _ = _analyze(ctx, content_type, body, label, depth + 1, file=file)
    return None if node is None else _Part(raw_headers, sep, node)


# --------------------------------------------------------------------------------------------- JSON

_JSON_TOKEN = re.compile(
    rb'[ \t\r\n]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([{}\[\]:,])|'
    rb"(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity))",
    re.S,
)
_DATA_KEYS = {b'"data"', b'"bytes"', b'"base64"', b'"b64_json"'}
_MIME_KEYS = {b'"media_type"', b'"mime_type"', b'"mimeType"', b'"mediaType"', b'"content_type"', b'"contentType"'}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON, _AFTER = range(6)


class _Frame:
    __slots__ = ("is_obj", "key", "index", "mime", "images", "pending")

    def __init__(self, is_obj: bool) -> None:
        self.is_obj = is_obj
        self.key: bytes | None = None  # raw literal of the current key
        self.index = 0
        self.mime: tuple[int, int, bytes] | None = None  # span and literal of a media_type-like sibling
        self.images: list[tuple[int, str]] = []  # (image index, format) of bare base64 values in this object
        self.pending: list[tuple[int, int, str, bytes, str]] = []  # "data" values that were not images


def _literal_to_str(lit: bytes) -> str | None:
    if b"\\" not in lit:
        return lit[1:-1].decode("utf-8", "surrogateescape")
    try:
        return json.loads(lit.decode("utf-8", "surrogateescape"), strict=False)
    except ValueError:
        return None


def _literal_encoder(lit: bytes) -> Callable[[str], bytes]:
    """Write a new string the way `lit` was written: ASCII-escaped or not, with "\\/" or "/"."""
    ascii_only, escaped_slash = lit.isascii(), b"\\/" in lit

    def encode(s: str) -> bytes:
        out = json.dumps(s, ensure_ascii=ascii_only)
        if escaped_slash:
            out = out.replace("/", "\\/")
        return out.encode("utf-8", "surrogateescape")

    return encode


def _json_leaf_encoder(lit: bytes, encode: Callable[[bytes], str]) -> Callable[[bytes], bytes]:
    encode_lit = _literal_encoder(lit)
    return lambda new: encode_lit(encode(new))


def _json_path(stack: list[_Frame]) -> str:
    out = ["$"]
    for frame in stack:
        if frame.is_obj:
            key = (_literal_to_str(frame.key) if frame.key else None) or ""
            key = key if len(key) <= 40 else key[:37] + "..."
            out.append("." + key if _IDENT.fullmatch(key) else "[" + json.dumps(key) + "]")
        else:
            out.append(f"[{frame.index}]")
    path = "".join(out)
    return path if len(path) <= 300 else path[:100] + "..." + path[-190:]


def _scan_json(ctx: _Ctx, data: bytes, where: str, depth: int):
    """Tokenize JSON without recursion. Returns a node, None (valid, nothing found) or False (not valid JSON)."""
    if not _maybe_image(data):
        try:  # nothing to find: let the C parser say whether it is JSON (it recurses: deep nesting falls through)
            json.loads(data.decode("utf-8-sig"))
            return None
        except (ValueError, RecursionError):
            pass
    children: list[tuple[int, int, _Node]] = []
    stack: list[_Frame] = []
    state = _VALUE
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    match = _JSON_TOKEN.match
    while True:
        m = match(data, pos)
        if m is None:
            break
        pos = m.end()
        group = m.lastindex  # 1: string, 2: punctuation, 3: number/true/false/null
        lit = m.group(1) if group == 1 else None
        punct = m.group(2) if group == 2 else None
        if state <= _VALUE_OR_CLOSE:
            if lit is not None:
                _json_string(ctx, stack, lit, m.start(1), pos, where, depth, children)
                state = _AFTER
            elif punct is None:
                state = _AFTER
            elif punct == b"{":
                stack.append(_Frame(True))
                state = _KEY_OR_CLOSE
            elif punct == b"[":
                stack.append(_Frame(False))
                state = _VALUE_OR_CLOSE
            elif punct == b"]" and state == _VALUE_OR_CLOSE:
                stack.pop()
                state = _AFTER
            else:
                return False
        elif state <= _KEY_OR_CLOSE:
            if lit is not None:
                stack[-1].key = lit
                state = _COLON
            elif punct == b"}" and state == _KEY_OR_CLOSE:
                _json_close(ctx, stack, children)
                state = _AFTER
            else:
                return False
        elif state == _COLON:
            if punct != b":":
                return False
            state = _VALUE
        else:
            if not stack:
                return False
            frame = stack[-1]
            if punct == b",":
                if frame.is_obj:
                    state = _KEY
                else:
                    frame.index += 1
                    state = _VALUE
            elif punct == b"}" and frame.is_obj:
                _json_close(ctx, stack, children)
            elif punct == b"]" and not frame.is_obj:
                stack.pop()
            else:
                return False
    if state != _AFTER or stack or data[pos:].strip(b" \t\r\n"):
        return False
    return _Splice(data, children) if children else None


def _json_string(ctx, stack, lit, start, end, where, depth, children) -> None:
    """One string value: an image, a media type sibling, a claimed-image "data" field, or nested content."""
    frame = stack[-1] if stack else None
    key = frame.key if frame is not None and frame.is_obj else None
    if key in _MIME_KEYS:
        frame.mime = (start, end, lit)
        return
    is_data_key = key in _DATA_KEYS
    if not (is_data_key or lit[1:6].lower() == b"data:" or (len(lit) >= MIN_BASE64_CHARS + 2 and _maybe_image(lit))):
        return
    s = _literal_to_str(lit)
    if s is None:
        return
    path_cache: list[str] = []

    def path() -> str:
        if not path_cache:
            path_cache.append(_join(where, "json " + _json_path(stack)))
        return path_cache[0]

    hit = _string_image(ctx, s, path)
    if isinstance(hit, _StrHit):
        if hit.index is not None:
            children.append((start, end, _Leaf(hit.index, _json_leaf_encoder(lit, hit.encode))))
            if frame is not None and frame.is_obj and not hit.data_url and not hit.document:
                frame.images.append((hit.index, hit.fmt))
        return
    if hit is _CLAIMED:
        return
    if hit is None and len(s) >= MIN_BASE64_CHARS and _maybe_image(raw := s.encode("utf-8", "surrogateescape")):
        before = len(children)
        node = _analyze_text(ctx, raw, path(), depth + 1)
        if node is not None:
            encode_lit = _literal_encoder(lit)
            children.append(
                (start, end, _Recode(node, lambda new: encode_lit(new.decode("utf-8", "surrogateescape"))))
            )
        if len(children) > before:
            return
    if is_data_key:
        frame.pending.append((start, end, s, lit, path()))


def _json_close(ctx: _Ctx, stack: list[_Frame], children: list[tuple[int, int, _Node]]) -> None:
    """Closing an object: tie its media type to its base64 image, and report image claims without an image."""
    frame = stack.pop()
    if frame.mime is None:
        return
    m_start, m_end, m_lit = frame.mime
    media_type = (_literal_to_str(m_lit) or "").strip().lower()[:60]
    images = list(frame.images)
    if media_type.startswith("image/"):
        for start, end, s, lit, path in frame.pending:
            hit = _string_image(ctx, s, path, min_len=1, strict=False)
            if isinstance(hit, _StrHit):
                if hit.index is not None:
                    children.append((start, end, _Leaf(hit.index, _json_leaf_encoder(lit, hit.encode))))
                    images.append((hit.index, hit.fmt))
            elif hit is not _CLAIMED:
                ctx.note(f"{path}: media type {media_type} but data is not a known image format")
    if images:  # one media type field per object: it follows the first image
        index, fmt = images[0]
        children.append((m_start, m_end, _MimeFix(index, fmt, _literal_encoder(m_lit))))


# --------------------------------------------------------------------------------------------- form and text

_FORM_SAFE = set("-._~*/:;,=@!$'()")


def _scan_form(ctx: _Ctx, data: bytes, where: str, depth: int) -> _Node | None:
    children: list[tuple[int, int, _Node]] = []
    pos = 0
    for field_bytes in data.split(b"&"):
        start, pos = pos, pos + len(field_bytes) + 1
        name, eq, value = field_bytes.partition(b"=")
        if not eq or len(value) < 20:
            continue
        vstart = start + len(name) + 1
        decoded = unquote_to_bytes(value.replace(b"+", b" "))
        label = _join(where, f"form field {_short(unquote(name.decode('latin-1')))}")
        fmt = sniff_format(decoded)
        if fmt is not None:
            index = ctx.add(decoded, fmt, label)
            node: _Node | None = None if index is None else _Leaf(index, bytes)
        else:
            node = _analyze_text(ctx, decoded, label, depth + 1)
        if node is not None:
            safe = "".join(sorted(_FORM_SAFE & set(value.decode("latin-1"))))
            recode = _Recode(node, lambda new, s=safe: quote_plus(new, safe=s).encode())
            children.append((vstart, vstart + len(value), recode))
    return _Splice(data, children) if children else None


_DATA_URL = re.compile(rb"data:[^,\s\"'<>()\\]{0,256},[^\s\"'<>()\\]*", re.I)
_RUN_TAIL = re.compile(rb"={0,2}(?:(?:\r\n|\n)[A-Za-z0-9+/_-]{4,}={0,2})*")


def _text_candidates(data: bytes) -> list[tuple[int, int]]:
    """Spans of data: URLs and of base64 runs >= MIN_BASE64_CHARS (with padding and wrapped lines), in order.

    Found with bytes.find on a lowered / translated copy: a regex like [A-Za-z0-9+/]{64,} tries every position
    and is ~20x slower on large text bodies.
    """
    urls: list[tuple[int, int]] = []  # data: URLs win over base64 runs they overlap (a run may end in "data")
    low = data.lower()
    pos = low.find(b"data:")
    while pos >= 0:
        m = _DATA_URL.match(data, pos)
        if m is not None:
            urls.append((pos, m.end()))
            pos = m.end()
        pos = low.find(b"data:", pos + 1)
    url_starts = [start for start, _ in urls]
    spans = list(urls)
    runs = data.translate(_RUN_TABLE)
    pos = runs.find(_RUN)
    while pos >= 0:
        end = runs.find(b" ", pos + len(_RUN))
        end = len(data) if end < 0 else end
        span = (pos, _RUN_TAIL.match(data, end).end())
        i = bisect.bisect_right(url_starts, span[0])
        if not (i and urls[i - 1][1] > span[0]) and not (i < len(urls) and urls[i][0] < span[1]):
            spans.append(span)
        pos = runs.find(_RUN, span[1])
    spans.sort()
    return spans


def _scan_text(ctx: _Ctx, data: bytes, where: str, depth: int) -> _Node | None:
    """Data URLs and long base64 runs anywhere in a text (or binary) body."""
    children: list[tuple[int, int, _Node]] = []
    for start, end in _text_candidates(data):
        text = data[start:end].decode("latin-1")
        if text[:5].lower() != "data:" and "\n" in text:
            text = _consistent_lines(text)
        end = start + len(text)
        whole = where and start == 0 and not data[end:].strip(b" \t\r\n")
        hit = _string_image(ctx, text, where if whole else _join(where, f"text at byte {start}"))
        if isinstance(hit, _StrHit) and hit.index is not None:
            children.append((start, end, _Leaf(hit.index, lambda new, e=hit.encode: e(new).encode("latin-1"))))
    return _Splice(data, children) if children else None


def _consistent_lines(text: str) -> str:
    """Cut a wrapped base64 run where the line length changes (the next text line is not base64)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    keep = [lines[0]]
    for line in lines[1:]:
        if len(keep[-1]) != len(lines[0]) or keep[-1].endswith("="):
            break
        if len(line) > len(lines[0]):
            break
        keep.append(line)
    return newline.join(keep)


# --------------------------------------------------------------------------------------------- entry point


def extract_images(content_type: str | None, body: bytes, max_images: int = 64) -> Extraction:
    """Find every image in a (Content-Encoding-decoded) request body. Never raises on bad input.

    content_type is only a hint; images are recognised by magic bytes. A body that fails to parse as
    its declared type falls back to raw sniffing, JSON, and finally a text scan.
    """
    body = bytes(body or b"")
    ctx = _Ctx(max_images)
    try:
        root, kind = _analyze(ctx, content_type, body, "", 0)
    except Exception as e:  # a bug must not crash the proxy; the caller sees it as undecodable -> on_error
        ctx = _Ctx(max_images)
        ctx.note(f"extraction failed: {type(e).__name__}")
        root, kind = None, "none"
    if kind == "raw" and ctx.images:
        ctx.images[0].where = "raw body"
    return Extraction(ctx.images, kind, ctx.undecodable, ctx.warnings, ctx.too_many, body, root, ctx.documents)
