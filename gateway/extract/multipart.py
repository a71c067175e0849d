"""multipart/* bodies (form-data, mixed, nested): a byte-level parser that keeps every byte it does not replace.

Parts with Content-Transfer-Encoding base64 / quoted-printable are decoded and re-encoded; each part's body is
walked again as what it is (an image, JSON, another multipart, ...).
"""

from __future__ import annotations

import binascii
import quopri
import re
from typing import TYPE_CHECKING

from gateway.extract.b64 import B64Style, b64decode
from gateway.extract.context import join, short
from gateway.extract.tree import Node, Recode, Splice
from gateway.extract.form import field_prompt
from gateway.prompt import is_prompt_field

if TYPE_CHECKING:
    from gateway.extract.context import Context

_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_CONTENT_LENGTH = re.compile(rb"(?im)^(content-length[ \t]*:[ \t]*)\d+")
_FIRST_LINE_BOUNDARY = re.compile(rb"\A--([\x21-\x7e][\x20-\x7e]{0,199}?)[ \t]*\r?\n")


def split_content_type(value: str | None) -> tuple[str, dict[str, str]]:
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


class Part(Node):
    """A multipart part: headers kept byte-identical except a Content-Length, which follows the new body."""

    __slots__ = ("headers", "sep", "body")

    def __init__(self, headers: bytes, sep: bytes, body: Node) -> None:
        self.headers, self.sep, self.body = headers, sep, body

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = self.body.render(repl)
        if new is None:
            return None
        headers = _CONTENT_LENGTH.sub(lambda m: m.group(1) + str(len(new)).encode(), self.headers)
        return headers + self.sep + new


def infer_boundary(data: bytes) -> bytes | None:
    """A body that starts like multipart ("--X" line ... "--X--") but was not declared as such."""
    if not data.startswith(b"--"):
        return None
    m = _FIRST_LINE_BOUNDARY.match(data)
    if m is None or m.group(1).endswith(b"--"):
        return None
    boundary = m.group(1)
    return boundary if b"\n--" + boundary + b"--" in data else None


def scan_multipart(ctx: Context, data: bytes, boundary: bytes, where: str, depth: int):
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
    label = join(where, "multipart")
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
    children: list[tuple[int, int, Node]] = []
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
    return Splice(data, children) if children else None


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


def _scan_part(ctx: Context, part: bytes, number: int, where: str, depth: int) -> Node | None:
    split = _split_part(part)
    if split is None:
        ctx.warn(f"{join(where, 'multipart')} part #{number}: no blank line after the headers")
        return None
    raw_headers, sep, body = split
    headers = _parse_headers(raw_headers)
    name = split_content_type(headers.get("content-disposition"))[1].get("name")
    label = join(where, f"multipart part {short(name)}" if name is not None else f"multipart part #{number}")
    content_type = headers.get("content-type")
    cte = headers.get("content-transfer-encoding", "").strip().lower()
    claims = split_content_type(content_type)[0].startswith("image/")
    if cte == "base64":
        text = body.decode("latin-1")
        decoded = b64decode(text)
        if decoded is None:
            (ctx.note if claims else ctx.warn)(f"{label}: Content-Transfer-Encoding base64 but not valid base64")
            return None
        style = B64Style.detect(text)
        child, _ = ctx.analyze(content_type, decoded, label, depth + 1)
        node = None if child is None else Recode(child, lambda new: style.encode(new).encode("ascii"))
    elif cte == "quoted-printable":
        crlf = b"\r\n" in body
        child, _ = ctx.analyze(content_type, quopri.decodestring(body), label, depth + 1)

        def encode_qp(new: bytes) -> bytes:
            out = binascii.b2a_qp(new, quotetabs=True, istext=False)
            return out.replace(b"\n", b"\r\n") if crlf else out

        node = None if child is None else Recode(child, encode_qp)
    else:
        file = "filename" in split_content_type(headers.get("content-disposition"))[1] or \
            "filename*" in split_content_type(headers.get("content-disposition"))[1]
        found = len(ctx.images) + len(ctx.documents)
        node, _ = ctx.analyze(content_type, body, label, depth + 1, file=file)
        if not file and is_prompt_field(name) and len(ctx.images) + len(ctx.documents) == found:
            node = field_prompt(ctx, body, *split_content_type(content_type), label, node)
    return None if node is None else Part(raw_headers, sep, node)
