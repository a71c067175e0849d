"""application/x-www-form-urlencoded bodies: each value is an image, or text walked for images."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote_plus, unquote, unquote_to_bytes

from gateway.extract.context import join, short
from gateway.extract.tree import Leaf, Node, Recode, Splice
from gateway.formats import sniff_format

if TYPE_CHECKING:
    from gateway.extract.context import Context

_FORM_SAFE = set("-._~*/:;,=@!$'()")


def scan_form(ctx: Context, data: bytes, where: str, depth: int) -> Node | None:
    children: list[tuple[int, int, Node]] = []
    pos = 0
    for field_bytes in data.split(b"&"):
        start, pos = pos, pos + len(field_bytes) + 1
        name, eq, value = field_bytes.partition(b"=")
        if not eq or len(value) < 20:
            continue
        vstart = start + len(name) + 1
        decoded = unquote_to_bytes(value.replace(b"+", b" "))
        label = join(where, f"form field {short(unquote(name.decode('latin-1')))}")
        fmt = sniff_format(decoded)
        if fmt is not None:
            index = ctx.add(decoded, fmt, label)
            node: Node | None = None if index is None else Leaf(index, bytes)
        else:
            node = ctx.analyze_text(decoded, label, depth + 1)
        if node is not None:
            safe = "".join(sorted(_FORM_SAFE & set(value.decode("latin-1"))))
            recode = Recode(node, lambda new, s=safe: quote_plus(new, safe=s).encode())
            children.append((vstart, vstart + len(value), recode))
    return Splice(data, children) if children else None
