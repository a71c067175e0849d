"""Text (or unparsed binary) bodies: data: URLs and long base64 runs found anywhere by a scan."""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING

from gateway.extract.b64 import RUN, RUN_TABLE, StrHit, string_image
from gateway.extract.context import join
from gateway.extract.tree import Leaf, Node, Splice

if TYPE_CHECKING:
    from gateway.extract.context import Context

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
    runs = data.translate(RUN_TABLE)
    pos = runs.find(RUN)
    while pos >= 0:
        end = runs.find(b" ", pos + len(RUN))
        end = len(data) if end < 0 else end
        span = (pos, _RUN_TAIL.match(data, end).end())
        i = bisect.bisect_right(url_starts, span[0])
        if not (i and urls[i - 1][1] > span[0]) and not (i < len(urls) and urls[i][0] < span[1]):
            spans.append(span)
        pos = runs.find(RUN, span[1])
    spans.sort()
    return spans


def scan_text(ctx: Context, data: bytes, where: str, depth: int) -> Node | None:
    """Data URLs and long base64 runs anywhere in a text (or binary) body."""
    children: list[tuple[int, int, Node]] = []
    for start, end in _text_candidates(data):
        text = data[start:end].decode("latin-1")
        if text[:5].lower() != "data:" and "\n" in text:
            text = _consistent_lines(text)
        end = start + len(text)
        whole = where and start == 0 and not data[end:].strip(b" \t\r\n")
        hit = string_image(ctx, text, where if whole else join(where, f"text at byte {start}"))
        if isinstance(hit, StrHit) and hit.index is not None:
            children.append((start, end, Leaf(hit.index, lambda new, e=hit.encode: e(new).encode("latin-1"))))
    return Splice(data, children) if children else None


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
