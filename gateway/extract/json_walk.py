"""JSON bodies: a non-recursive tokenizer that finds base64 images and data: URLs in string values.

Every string value that is a data: URL, a bare base64 image (standard or URL-safe, padded or not, line-wrapped or
not), or that itself holds JSON/text with such strings. A media type next to a base64 value (`media_type`,
`mimeType`, ...) ties the two: a `data`-like value claimed as an image but not one is reported, and the media type
follows a replacement that changes the format. Rebuilding rewrites only the replaced string literals, in the same
escaping; key order, whitespace and other escapes stay byte-identical.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.extract.b64 import CLAIMED, MIN_BASE64_CHARS, StrHit, maybe_image, string_image
from gateway.extract.context import join
from gateway.extract.tree import Leaf, MimeFix, Node, PromptText, Recode, Splice
from gateway.prompt import ARRAY_PARENTS, LAST_KEYS, is_prompt_path

if TYPE_CHECKING:
    from gateway.extract.context import Context


@dataclass(frozen=True)
class JsonShape:
    """The keys the walker reads by name, as raw JSON literals (b'"data"'). An app module extends the generic set.

    A string under a data key is an image claim when a sibling under a media type key says image/*: if it is not
    an image we know, it is reported (on_error) instead of passing as plain base64. The media type follows a
    replacement that changes the format. Prompt text is collected by path (gateway.prompt; _json_string).
    """

    data_keys: frozenset[bytes]
    mime_keys: frozenset[bytes]

    def extended(self, data_keys: tuple[str, ...] = (), mime_keys: tuple[str, ...] = ()) -> JsonShape:
        """This shape plus more keys (given as plain names)."""
        return JsonShape(self.data_keys | _literals(data_keys), self.mime_keys | _literals(mime_keys))


def _literals(names: tuple[str, ...]) -> frozenset[bytes]:
    return frozenset(json.dumps(name).encode() for name in names)


GENERIC_JSON = JsonShape(
    _literals(("data", "bytes", "base64", "b64_json")),
    _literals(("media_type", "mime_type", "mimeType", "mediaType", "content_type", "contentType")),
)

_JSON_TOKEN = re.compile(
    rb'[ \t\r\n]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([{}\[\]:,])|'
    rb"(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity))",
    re.S,
)
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
        try:
            return out.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate ("\\ud83d" without its pair) can only be written escaped
            return json.dumps(s).replace("/", "\\/" if escaped_slash else "/").encode("ascii")

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


def scan_json(ctx: Context, data: bytes, where: str, depth: int):
    """Tokenize JSON without recursion. Returns a node, None (valid, nothing found) or False (not valid JSON)."""
    if not maybe_image(data) and not _maybe_prompt(data):
        try:  # nothing to find: let the C parser say whether it is JSON (it recurses: deep nesting falls through)
            json.loads(data.decode("utf-8-sig"))
            return None
        except (ValueError, RecursionError):
            pass
    children: list[tuple[int, int, Node]] = []
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
    return Splice(data, children) if children else None


def _json_string(ctx, stack, lit, start, end, where, depth, children) -> None:
    """One string value: an image, a media type sibling, a claimed-image "data" field, or nested content."""
    frame = stack[-1] if stack else None
    key = frame.key if frame is not None and frame.is_obj else None
    if key in ctx.json_shape.mime_keys:
        frame.mime = (start, end, lit)
        return
    is_data_key = key in ctx.json_shape.data_keys
    prompt = _is_prompt(stack)
    if not (is_data_key or lit[1:6].lower() == b"data:" or (len(lit) >= MIN_BASE64_CHARS + 2 and maybe_image(lit))):
        if prompt:
            _json_prompt(ctx, stack, lit, start, end, where, children, None)
        return
    s = _literal_to_str(lit)
    if s is None:
        return
    path_cache: list[str] = []

    def path() -> str:
        if not path_cache:
            path_cache.append(join(where, "json " + _json_path(stack)))
        return path_cache[0]

    hit = string_image(ctx, s, path)
    if isinstance(hit, StrHit):
        if hit.index is not None:
            children.append((start, end, Leaf(hit.index, _json_leaf_encoder(lit, hit.encode))))
            if frame is not None and frame.is_obj and not hit.data_url and not hit.document:
                frame.images.append((hit.index, hit.fmt))
        return
    if hit is CLAIMED:
        return
    if hit is None and len(s) >= MIN_BASE64_CHARS and maybe_image(raw := s.encode("utf-8", "surrogateescape")):
        node = ctx.analyze_text(raw, path(), depth + 1)
        if node is not None:
            encode_lit = _literal_encoder(lit)
            node = Recode(node, lambda new: encode_lit(new.decode("utf-8", "surrogateescape")))
        if prompt:
            _json_prompt(ctx, stack, lit, start, end, where, children, node, s)
            return
        if node is not None:
            children.append((start, end, node))
            return
    if prompt:
        _json_prompt(ctx, stack, lit, start, end, where, children, None, s)
        return
    if is_data_key:
        frame.pending.append((start, end, s, lit, path()))


_PROMPT_KEY_BYTES = tuple(b'"' + k.encode() + b'"' for k in sorted(LAST_KEYS | ARRAY_PARENTS))


def _maybe_prompt(data: bytes) -> bool:
    """Cheap test: could this JSON hold prompt text? (A key written with \\u escapes is looked at too.)"""
    return b"\\u" in data or any(k in data for k in _PROMPT_KEY_BYTES)


def _is_prompt(stack: list[_Frame]) -> bool:
    """Is the string value about to be read at this JSON path prompt text (gateway.prompt.is_prompt_path)?"""
    if not stack:
        return False
    frame = stack[-1]
    if frame.is_obj:
        if _literal_to_str(frame.key or b'""') not in LAST_KEYS:
            return False
    elif len(stack) < 2 or not stack[-2].is_obj or _literal_to_str(stack[-2].key or b'""') not in ARRAY_PARENTS:
        return False
    return is_prompt_path(tuple((_literal_to_str(f.key or b'""') or "") if f.is_obj else "*" for f in stack))


def _json_prompt(ctx: Context, stack: list[_Frame], lit: bytes, start: int, end: int, where: str,
                 children: list[tuple[int, int, Node]], inner: Node | None, text: str | None = None) -> None:
    """A JSON string that is prompt text: collected, and rewritten in the literal's own escaping on rebuild."""
    text = _literal_to_str(lit) if text is None else text
    key = None if text is None else ctx.add_prompt(text, join(where, "json " + _json_path(stack)))
    if key is not None:
        children.append((start, end, PromptText(key, _literal_encoder(lit), inner)))
    elif inner is not None:
        children.append((start, end, inner))


def _json_close(ctx: Context, stack: list[_Frame], children: list[tuple[int, int, Node]]) -> None:
    """Closing an object: tie its media type to its base64 image, and report image claims without an image."""
    frame = stack.pop()
    if frame.mime is None:
        return
    m_start, m_end, m_lit = frame.mime
    media_type = (_literal_to_str(m_lit) or "").strip().lower()[:60]
    images = list(frame.images)
    if media_type.startswith("image/"):
        for start, end, s, lit, path in frame.pending:
            hit = string_image(ctx, s, path, min_len=1, strict=False)
            if isinstance(hit, StrHit):
                if hit.index is not None:
                    children.append((start, end, Leaf(hit.index, _json_leaf_encoder(lit, hit.encode))))
                    images.append((hit.index, hit.fmt))
            elif hit is not CLAIMED:
                ctx.note(f"{path}: media type {media_type} but data is not a known image format")
    if images:  # one media type field per object: it follows the first image
        index, fmt = images[0]
        children.append((m_start, m_end, MimeFix(index, fmt, _literal_encoder(m_lit))))
