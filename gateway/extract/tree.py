"""The rebuild tree: spans of the original body that may be re-rendered around replaced images and documents.

render() returns None when nothing under a node changed, so an untouched body is returned as the very same bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.formats import MIME_TYPES, sniff_format


def doc_key(index: int) -> tuple[str, int]:
    """Documents share the rebuild tree with images under keys of their own."""
    return ("document", index)


def prompt_key(index: int) -> tuple[str, int]:
    """Prompt texts too; their replacements are str, not bytes."""
    return ("prompt", index)


class Node:
    """A span of the original bytes that may change on rebuild. render() returns None when nothing changed."""

    __slots__ = ()

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        raise NotImplementedError


class Leaf(Node):
    """An image that occupies the whole span; encode turns new image bytes into the span's new bytes."""

    __slots__ = ("index", "encode")

    def __init__(self, index: int, encode: Callable[[bytes], bytes]) -> None:
        self.index, self.encode = index, encode

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = repl.get(self.index)
        return None if new is None else self.encode(new)


class MimeFix(Node):
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


class Splice(Node):
    """Original bytes with some child spans (sorted, non-overlapping) that may be re-rendered."""

    __slots__ = ("data", "children")

    def __init__(self, data: bytes, children: list[tuple[int, int, Node]]) -> None:
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


class Recode(Node):
    """A decoded view (base64 part, JSON string, form value) re-encoded after its child changed."""

    __slots__ = ("child", "encode")

    def __init__(self, child: Node, encode: Callable[[bytes], bytes]) -> None:
        self.child, self.encode = child, encode

    def render(self, repl: dict[int, bytes]) -> bytes | None:
        new = self.child.render(repl)
        return None if new is None else self.encode(new)


class TextDocument(Node):
    """A text file whose bytes were also scanned for images: replaced whole, or through its images, not both."""

    __slots__ = ("key", "child")

    def __init__(self, key: tuple[str, int], child: Node | None) -> None:
        self.key, self.child = key, child

    def render(self, repl: dict) -> bytes | None:
        new = repl.get(self.key)
        inner = self.child.render(repl) if self.child is not None else None
        if new is not None and inner is not None:
            raise KeyError("a text document and an image inside it cannot both be replaced")
        return new if new is not None else inner


class PromptText(Node):
    """A span holding one prompt text: rewritten with a new text (encode writes it as the span was written), or
    through the images found inside it, not both."""

    __slots__ = ("key", "encode", "child")

    def __init__(self, key: tuple[str, int], encode: Callable[[str], bytes], child: Node | None = None) -> None:
        self.key, self.encode, self.child = key, encode, child

    def render(self, repl: dict) -> bytes | None:
        new = repl.get(self.key)
        inner = self.child.render(repl) if self.child is not None else None
        if new is not None and inner is not None:
            raise KeyError("a prompt text and an image inside it cannot both be replaced")
        return self.encode(new) if new is not None else inner
