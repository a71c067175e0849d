"""The walk: which shape a body (or a nested piece of one) is, and the entry point that starts it."""

from __future__ import annotations

import re

from gateway.documents.sniff import sniff_document
from gateway.extract.apps import app_for
from gateway.extract.context import MAX_DEPTH, Context
from gateway.extract.form import scan_form
from gateway.extract.json_walk import GENERIC_JSON, scan_json
from gateway.extract.multipart import infer_boundary, scan_multipart, split_content_type
from gateway.extract.result import Extraction
from gateway.extract.text import scan_text
from gateway.extract.tree import Leaf, Node, TextDocument
from gateway.formats import sniff_format
from gateway.models import HttpRequest

_JSONISH = re.compile(rb"\A(?:\xef\xbb\xbf)?[ \t\r\n]*[{\[\"]")

def analyze(ctx: Context, content_type: str | None, data: bytes, where: str, depth: int,
             file: bool = False) -> tuple[Node | None, str]:
    """Find images and documents in `data` (declared as content_type). Returns (rebuild node or None, kind).

    `file`: the bytes are a file (a multipart part with a filename): plain text is then a document too."""
    if not data:
        return None, "none"
    if depth > MAX_DEPTH:  # could hide an image: the caller must treat it as uninspectable
        ctx.note(f"{where or 'body'}: nesting deeper than {MAX_DEPTH}, not inspected")
        return None, "none"
    media_type, params = split_content_type(content_type)
    media_type = media_type[:100]
    before = len(ctx.images)
    text_file = file or (depth == 0 and (media_type.startswith("text/") or media_type == "application/octet-stream"))
    node, kind = _analyze_inner(ctx, media_type, params, data, where, depth, text_file)
    if media_type.startswith("image/") and len(ctx.images) == before and not ctx.too_many:
        ctx.note(f"{where or 'body'}: Content-Type {media_type} but not a known image format")
    return node, kind


def _analyze_inner(ctx, media_type, params, data, where, depth, text_file=False) -> tuple[Node | None, str]:
    node, kind = _analyze_body(ctx, media_type, params, data, where, depth)
    if kind in ("raw", "multipart") or not text_file or sniff_document(data, text=True) != "TEXT":
        return node, kind
    key = ctx.add_document(data, "TEXT", where or "raw body")  # a text file: its text is inspected as a document
    return (node if key is None else TextDocument(key, node)), kind


def _analyze_body(ctx, media_type, params, data, where, depth) -> tuple[Node | None, str]:
    if media_type.startswith("multipart/"):
        boundary = params.get("boundary", "")
        if boundary:
            node = scan_multipart(ctx, data, boundary.encode("utf-8", "surrogateescape"), where, depth)
            if node is not False:
                return node, "multipart"
        ctx.warn(f"{where or 'body'}: {media_type} body has no parts for its boundary")
    fmt = sniff_format(data)
    if fmt is not None:
        index = ctx.add(data, fmt, where or "raw body")
        return (None if index is None else Leaf(index, bytes)), "raw"
    doc = sniff_document(data)  # binary documents: plain text is decided by the caller, which knows if it is a file
    if doc is not None:
        key = ctx.add_document(data, doc, where or "raw body")
        return (None if key is None else Leaf(key, bytes)), "raw"
    if not media_type.startswith("multipart/"):
        boundary = infer_boundary(data)
        if boundary is not None:
            node = scan_multipart(ctx, data, boundary, where, depth)
            if node is not False:
                ctx.warn(f"{where or 'body'}: multipart body without a multipart Content-Type")
                return node, "multipart"
    if "json" in media_type or _JSONISH.match(data):
        cp = ctx.checkpoint()
        node = scan_json(ctx, data, where, depth)
        if node is not False:
            return node, "json"
        ctx.rollback(cp)
        if "json" in media_type:
            ctx.warn(f"{where or 'body'}: invalid JSON, scanned as text")
    if media_type == "application/x-www-form-urlencoded":
        return scan_form(ctx, data, where, depth), "form"
    before = len(ctx.images) + len(ctx.undecodable)
    node = scan_text(ctx, data, where, depth)
    _warn_embedded(ctx, data, where)
    return node, ("text" if len(ctx.images) + len(ctx.undecodable) > before else "none")


def analyze_text(ctx: Context, data: bytes, where: str, depth: int) -> Node | None:
    """A decoded text value (JSON string, form value): JSON inside, else a text scan. Never a raw sniff."""
    if depth > MAX_DEPTH:
        ctx.note(f"{where}: nesting deeper than {MAX_DEPTH}, not inspected")
        return None
    if _JSONISH.match(data):
        cp = ctx.checkpoint()
        node = scan_json(ctx, data, where, depth)
        if node is not False:
            return node
        ctx.rollback(cp)
    return scan_text(ctx, data, where, depth)


_SIGNATURES = re.compile(rb"\x89PNG\r\n\x1a\n|\xff\xd8\xff[\xc0-\xfe]|GIF8[79]a|RIFF....WEBP", re.S)


def _warn_embedded(ctx: Context, data: bytes, where: str) -> None:
    """An unparsed body (protobuf, PDF, ...) that carries an image signature: we cannot extract it, say so."""
    m = _SIGNATURES.search(data, 1)
    if m is not None:
        ctx.warn(f"embedded-signature: {where or 'body'}: image signature at byte {m.start()} in an unparsed body")


def extract(request: HttpRequest, body: bytes, max_images: int = 64) -> Extraction:
    """Find every image and document in a (Content-Encoding-decoded) request body. Never raises on bad input.

    The request's Content-Type is only a hint; images are recognised by magic bytes. A body that fails to parse
    as its declared type falls back to raw sniffing, JSON, and finally a text scan. A request to a known app's
    upload endpoint (gateway.extract.apps) is walked with what that app's shape adds.
    """
    body = bytes(body or b"")
    app = app_for(request)
    json_shape = app.json if app is not None else GENERIC_JSON
    ctx = Context(max_images, analyze, analyze_text, json_shape)
    try:
        root, kind = analyze(ctx, request.headers.get("content-type"), body, "", 0)
    except Exception as e:  # a bug must not crash the proxy; the caller sees it as undecodable -> on_error
        ctx = Context(max_images, analyze, analyze_text, json_shape)
        ctx.note(f"extraction failed: {type(e).__name__}")
        root, kind = None, "none"
    if kind == "raw" and ctx.images:
        ctx.images[0].where = "raw body"
    return Extraction(ctx.images, kind, ctx.undecodable, ctx.warnings, ctx.too_many, body, root, ctx.documents,
                      app=app.name if app is not None else None, prompts=ctx.prompts)


def extract_images(content_type: str | None, body: bytes, max_images: int = 64) -> Extraction:
    """extract() for a body whose request is not known: only its Content-Type (scan, tests)."""
    headers = {"content-type": content_type} if content_type is not None else {}
    return extract(HttpRequest("POST", "", "/", headers), body, max_images)
