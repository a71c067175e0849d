"""application/x-www-form-urlencoded bodies: each value is an image, or text walked for images; a field named like
a prompt (gateway.prompt.PROMPT_FIELDS) is prompt text. field_prompt serves multipart text fields too."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote_plus, unquote_plus, unquote_to_bytes

from gateway.extract.context import join, short
from gateway.extract.tree import Leaf, Node, PromptText, Recode, Splice
from gateway.formats import sniff_format
from gateway.prompt import is_prompt_field

if TYPE_CHECKING:
    from gateway.extract.context import Context

_FORM_SAFE = set("-._~*/:;,=@!$'()")


def scan_form(ctx: Context, data: bytes, where: str, depth: int) -> Node | None:
    children: list[tuple[int, int, Node]] = []
    pos = 0
    for field_bytes in data.split(b"&"):
        start, pos = pos, pos + len(field_bytes) + 1
        name, eq, value = field_bytes.partition(b"=")
        field_name = unquote_plus(name.decode("latin-1"))
        prompt = is_prompt_field(field_name)
        if not eq or (len(value) < 20 and not prompt):
            continue
        vstart = start + len(name) + 1
        decoded = unquote_to_bytes(value.replace(b"+", b" "))
        label = join(where, f"form field {short(field_name)}")
        fmt = sniff_format(decoded)
        if fmt is not None:
            index = ctx.add(decoded, fmt, label)
            node: Node | None = None if index is None else Leaf(index, bytes)
        else:
            node = ctx.analyze_text(decoded, label, depth + 1)
            if prompt:
                node = field_prompt(ctx, decoded, "", {}, label, node)
        if node is not None:
            safe = "".join(sorted(_FORM_SAFE & set(value.decode("latin-1"))))
            recode = Recode(node, lambda new, s=safe: quote_plus(new, safe=s).encode())
            children.append((vstart, vstart + len(value), recode))
    return Splice(data, children) if children else None


def field_prompt(ctx: Context, value: bytes, media_type: str, params: dict[str, str], where: str,
                 inner: Node | None) -> Node | None:
    """A text form field or multipart part (its media type and parameters) named like a prompt, holding no image or
    document: its text."""
    if media_type and not media_type.startswith("text/"):
        return inner
    charset = params.get("charset", "utf-8").lower()
    try:
        text = value.decode(charset, "surrogateescape")
    except LookupError:  # an unknown charset: read it as UTF-8, which is what browsers send
        text, charset = value.decode("utf-8", "surrogateescape"), "utf-8"
    key = ctx.add_prompt(text, where)
    if key is None:
        return inner
    return PromptText(key, lambda new: new.encode(charset, "surrogateescape"), inner)
