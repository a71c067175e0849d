"""Documents and archives as what must be inspected: text runs and embedded images, each with where it was.

No proxy, no models: bytes in, parts out. `read_document` tells the type from the bytes (gateway.documents.sniff),
then one module per type walks it — pdf.py (pypdfium2), ooxml.py (DOCX/XLSX/PPTX with zipfile + defusedxml),
archive.py (ZIP, tar, gzip/bzip2/xz), plaintext.py — and yields `TextRun`s and `EmbeddedImage`s lazily, so only
one member is held at a time. Archive members and embedded files are read the same way, recursively.

Everything read from one upload shares one `Walk`: its limits (pages, members, depth, expanded bytes) turn a zip
bomb into an InspectionError (then the policy's on_error) within the bytes it allows, never an outage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from gateway.documents.sniff import sniff_document
from gateway.formats import REDACTABLE_DOCUMENT_TYPES, sniff_format
from gateway.models import DocumentFacts, InspectionError, InspectionErrorKind, Limits, Source

__all__ = ["EmbeddedImage", "TextRun", "Walk", "join_member", "read_document", "sniff_document"]

READ_CHUNK = 256 * 1024
MEMBER_NAME_CHARS = 200  # member names are client-controlled labels: cut long ones


@dataclass(frozen=True)
class TextRun:
    """Text to analyse, and where it is. `offset` is where it starts in its member's text (plain text only)."""

    text: str
    member: str | None = None
    page: int | None = None
    offset: int = 0
    source: str = Source.TEXT.value  # "metadata" for document properties
    sep: str = "\n"  # what separates it from the next run when runs are analysed together (cells: a tab)


@dataclass(frozen=True)
class EmbeddedImage:
    """An image inside a document (or a PDF page without a text layer, rendered: `rendered`)."""

    data: bytes
    member: str | None = None
    page: int | None = None
    rendered: bool = False


Part = TextRun | EmbeddedImage


def join_member(parent: str | None, name: str) -> str:
    """'a.zip' + 'b/c.png' -> 'a.zip!/b/c.png' (a member inside a member); names are cut to 200 characters."""
    name = name if len(name) <= MEMBER_NAME_CHARS else name[:MEMBER_NAME_CHARS - 3] + "..."
    return f"{parent}!/{name}" if parent else name


class Walk:
    """Limits and budgets shared by everything read from one upload, and the facts it gathers."""

    def __init__(self, limits: Limits, facts: DocumentFacts) -> None:
        self.limits = limits
        self.facts = facts
        self.expanded = 0  # decompressed bytes read so far

    def count_member(self) -> None:
        self.facts.members += 1
        if self.facts.members > self.limits.max_archive_members:
            raise InspectionError(InspectionErrorKind.TOO_MANY_MEMBERS,
                                  f"more than {self.limits.max_archive_members} archive members (max_archive_members)")

    def check_members(self, declared: int) -> None:
        """Refuse before reading when an archive's directory already declares too many members."""
        if self.facts.members + declared > self.limits.max_archive_members:
            raise InspectionError(InspectionErrorKind.TOO_MANY_MEMBERS,
                                  f"{declared} archive members declared (max_archive_members "
                                  f"{self.limits.max_archive_members})")

    def expand(self, n: int) -> None:
        self.expanded += n
        if self.expanded > self.limits.max_expanded_bytes:
            raise InspectionError(InspectionErrorKind.EXPANDED_TOO_LARGE,
                                  f"more than {self.limits.max_expanded_bytes} bytes decompressed (max_expanded_bytes)")

    def read(self, stream: IO[bytes]) -> bytes:
        """Read a decompressing stream to its end, counting every byte it yields (declared sizes are not trusted)."""
        chunks = []
        while True:
            room = self.limits.max_expanded_bytes - self.expanded + 1
            chunk = stream.read(min(READ_CHUNK, max(1, room)))
            if not chunk:
                return b"".join(chunks)
            self.expand(len(chunk))
            chunks.append(chunk)

    def parts(self, data: bytes, kind: str, member: str | None, depth: int) -> Iterator[Part]:
        """Every part of a document of type `kind` found at `member` (None: the upload itself)."""
        if depth > self.limits.max_archive_depth:
            raise InspectionError(InspectionErrorKind.TOO_DEEP,
                                  f"containers nested deeper than {self.limits.max_archive_depth} (max_archive_depth)")
        if depth and kind not in REDACTABLE_DOCUMENT_TYPES:
            self.facts.redactable = False
        if kind == "PDF":
            from gateway.documents.pdf import read_pdf
            yield from read_pdf(data, self, member, depth)
        elif kind in ("DOCX", "XLSX", "PPTX"):
            from gateway.documents.ooxml import read_package
            yield from read_package(data, kind, self, member, depth)
        elif kind == "ZIP":
            from gateway.documents.archive import read_zip
            yield from read_zip(data, self, member, depth)
        elif kind == "TAR":
            from gateway.documents.archive import read_tar
            yield from read_tar(data, self, member, depth)
        elif kind in ("GZIP", "BZIP2", "XZ"):
            from gateway.documents.archive import read_compressed
            yield from read_compressed(data, kind, self, member, depth)
        elif kind == "TEXT":
            from gateway.documents.plaintext import read_text
            yield from read_text(data, member)
        elif kind == "OLE":
            from gateway.documents.archive import ole_error
            raise ole_error(data, member)
        else:
            raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, f"not a document type we read: {kind}")

    def member_parts(self, data: bytes, member: str, depth: int) -> Iterator[Part]:
        """A member of a container: an image, a document (read recursively), text, or skipped binary."""
        if sniff_format(data) is not None:
            yield EmbeddedImage(data, member)
            return
        kind = sniff_document(data, text=True)
        if kind is None:
            self.facts.skipped += 1
            return
        yield from self.parts(data, kind, member, depth + 1)


def read_document(data: bytes, limits: Limits, kind: str | None = None) -> tuple[DocumentFacts, Iterator[Part]]:
    """The facts (filled in while iterating) and the parts of a document. Raises InspectionError, also mid-way."""
    kind = kind or sniff_document(data, text=True)
    if kind is None:
        raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, "not a document or archive we know")
    facts = DocumentFacts(kind, redactable=kind in REDACTABLE_DOCUMENT_TYPES)
    return facts, Walk(limits, facts).parts(data, kind, None, 0)
