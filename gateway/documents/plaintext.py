"""Plain-text files (txt, csv, json, markdown, source code, rtf): their text, and text with spans replaced.

The encoding is told from the bytes (BOM, strict UTF-8, else Windows-1252) and kept on rewrite, so a redacted
file differs from the original only in the replaced spans.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.documents.sniff import decode_text_probe
from gateway.models import InspectionError, InspectionErrorKind

@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # a Python codec name: utf-8, utf-8-sig, utf-16, cp1252


def decode_text(data: bytes) -> DecodedText | None:
    """The text of a file, or None when it is not text."""
    encoding = decode_text_probe(data)
    if encoding is None:
        return None
    try:
        return DecodedText(data.decode(encoding), encoding)
    except UnicodeDecodeError:
        # The probe saw only the first 64 KiB: the rest is still text, with the odd bad byte (kept on rewrite).
        return DecodedText(data.decode(encoding, "surrogateescape"), encoding) if encoding != "utf-16" else None


def read_text(data: bytes, member: str | None) -> Iterator:
    """The file's whole text as one run (the analyzer reads a long run in overlapping windows, so an entity is never
    cut in two and its span stays an offset into the file)."""
    from gateway.documents import TextRun

    decoded = decode_text(data)
    if decoded is None:
        raise InspectionError(InspectionErrorKind.CORRUPT, "not readable as text")
    if decoded.text:
        yield TextRun(decoded.text, member)


def replace_spans(data: bytes, spans: list[tuple[int, int, str]]) -> bytes:
    """The file with each (start, end, entity) character span replaced by "[ENTITY]", in its own encoding.

    Overlapping spans are merged (the first entity names the merged span). A JSON file must stay valid JSON, or
    the rewrite is refused (NOT_REDACTABLE): a number replaced by a placeholder would break it.
    """
    decoded = decode_text(data)
    if decoded is None:
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "not readable as text")
    text = decoded.text
    out, last = [], 0
    for start, end, entity in _merged(spans, len(text)):
        out += (text[last:start], f"[{entity}]")
        last = end
    out.append(text[last:])
    new = "".join(out)
    if _is_json(text) and not _is_json(new):
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "redacting would make the JSON file invalid")
    if decoded.encoding == "utf-16":  # keep the original byte order mark and byte order
        bom = data[:2]
        return bom + new.encode("utf-16-be" if bom == codecs.BOM_UTF16_BE else "utf-16-le")
    return new.encode(decoded.encoding, "surrogateescape")


def _merged(spans: list[tuple[int, int, str]], length: int) -> list[tuple[int, int, str]]:
    merged: list[list] = []
    for start, end, entity in sorted((max(0, s), min(length, e), n) for s, e, n in spans if e > s):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, entity])
    return [(s, e, n) for s, e, n in merged]


def _is_json(text: str) -> bool:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] not in ("{", "["):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True
