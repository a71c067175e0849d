"""Office Open XML (DOCX, XLSX, PPTX): the text of every XML part, and every embedded image and document.

What is read: body paragraphs (tracked deletions and field codes too), table cells, spreadsheet cells (shared,
inline and numeric values, sheet names, shared strings no cell uses any more), slides and their notes and comments,
headers, footers, footnotes, charts, alt text, external link targets (mailto:), and the document properties
(docProps/core.xml, app.xml, custom.xml, reported with source "metadata"). Images under media/ go to the image
Inspector; embedded packages (a workbook inside a slide deck) and PDFs are read recursively.

Parsing: the standard library's zipfile, members read through the Walk's byte budget, and defusedxml with DTDs
forbidden, so no entity expansion (billion laughs) and no external entities (XXE) — a DTD is an error, as it
never occurs in a package Office writes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from gateway.documents import EmbeddedImage, TextRun, Walk, join_member
from gateway.documents.archive import open_zip, read_member
from gateway.models import InspectionError, InspectionErrorKind, Source

# Parts with no user text: formatting, themes, fonts, settings, the package's own plumbing, and slide layouts and
# masters (template placeholders like "Click to edit Master title style").
_NO_TEXT = re.compile(r"(^|/)(\[Content_Types\]\.xml|styles\.xml|stylesWithEffects\.xml|theme\d*\.xml|fontTable\.xml|"
                      r"settings\.xml|webSettings\.xml|calcChain\.xml|presProps\.xml|viewProps\.xml|tableStyles\.xml|"
                      r"numbering\.xml|people\.xml)$|^ppt/(slideLayouts|slideMasters|notesMasters|handoutMasters)/", re.I)
_INLINE = {"t", "delText", "instrText"}  # text of runs: concatenated within a paragraph
_BREAKS = {"tab": "\t", "br": "\n", "cr": "\n"}
_PARAGRAPHS = {"p", "si", "row", "tr"}
_TEXT_ATTRIBUTES = ("descr", "title", "displayName", "author", "userId", "initials")
_SHEET = re.compile(r"^xl/worksheets/sheet\d+\.xml$")
_CELL_TYPES_SKIPPED = {"b", "e"}  # booleans and error codes


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _events(data: bytes, part: str):
    """(event, element) pairs of a part; a DTD, entity or malformed XML is a corrupt document."""
    try:
        yield from iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
    except DefusedXmlException:
        raise InspectionError(InspectionErrorKind.CORRUPT, f"{part}: XML with a DTD or entities") from None
    except (ParseError, ValueError, LookupError):  # LookupError: an unknown declared encoding
        raise InspectionError(InspectionErrorKind.CORRUPT, f"{part}: malformed XML") from None


def xml_text_runs(data: bytes, part: str, member: str, page: int | None, source: str) -> Iterator[TextRun]:
    """Paragraph by paragraph: runs' text joined, tabs and breaks kept; other text-bearing elements on their own.

    Each run's offset is where it starts in the part's runs laid end to end (one separator each), so a finding's
    span names one place in the part (ooxml_redact finds it again from the same bytes)."""
    pos = 0

    def run(text: str) -> TextRun:
        nonlocal pos
        out = TextRun(text, member, page, offset=pos, source=source)
        pos += len(text) + 1
        return out

    line: list[str] = []
    for event, elem in _events(data, part):
        name = _local(elem.tag)
        if event == "start":
            for attr in _TEXT_ATTRIBUTES:
                value = elem.get(attr)
                if value and value.strip():
                    yield run(value)
            continue
        if name in _INLINE:
            line.append(elem.text or "")
        elif name in _BREAKS:
            line.append(_BREAKS[name])
        elif name in _PARAGRAPHS:
            if "".join(line).strip():
                yield run("".join(line))
            line = []
        elif elem.text and elem.text.strip() and len(elem) == 0:
            yield run(elem.text)
        elem.clear()
    if "".join(line).strip():
        yield run("".join(line))


def external_targets(data: bytes, part: str, member: str) -> Iterator[TextRun]:
    """Hyperlinks outside the package (mailto:, web addresses) are text the author typed."""
    pos = 0
    for event, elem in _events(data, part):
        if event == "end" and _local(elem.tag) == "Relationship" and elem.get("TargetMode") == "External":
            target = elem.get("Target", "")
            yield TextRun(target, member, offset=pos)
            pos += len(target) + 1


def _relationships(zf: zipfile.ZipFile, part: str, walk: Walk) -> list[tuple[str, str, str]]:
    """(id, type, target) of a part's relationships; internal targets resolved to part names."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    info = _info(zf, rels)
    if info is None:
        return []
    out = []
    for event, elem in _events(read_member(zf, info, walk), rels):
        if event == "end" and _local(elem.tag) == "Relationship":
            target = elem.get("Target", "")
            if elem.get("TargetMode") != "External":
                target = posixpath.normpath(posixpath.join(folder, target)).lstrip("/") if not target.startswith("/") \
                    else target.lstrip("/")
            out.append((elem.get("Id", ""), elem.get("Type", "").rsplit("/", 1)[-1], target))
    return out


def _info(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    try:
        return zf.getinfo(name)
    except KeyError:
        return None


class _Package:
    """One Office package being read: its zip, its budget, and the page (slide, sheet) of each part."""

    def __init__(self, zf: zipfile.ZipFile, kind: str, walk: Walk, member: str | None, depth: int) -> None:
        self.zf, self.kind, self.walk, self.member, self.depth = zf, kind, walk, member, depth
        self.pages: dict[str, int] = {}  # part name -> 1-based slide / sheet number
        self.media_pages: dict[str, int] = {}  # image/embedded part -> the first slide or sheet showing it
        self.sheet_names: list[str] = []

    def where(self, part: str) -> str:
        return join_member(self.member, part)

    def read(self, part: str) -> bytes | None:
        info = _info(self.zf, part)
        return None if info is None else read_member(self.zf, info, self.walk)

    def number_pages(self) -> None:
        """Slides in presentation order (notes and comments follow their slide); sheets in workbook order."""
        main = {"PPTX": "ppt/presentation.xml", "XLSX": "xl/workbook.xml"}.get(self.kind)
        if main is None:
            self.walk.facts.pages += self._declared_pages()
            return
        data = self.read(main)
        if data is None:
            raise InspectionError(InspectionErrorKind.CORRUPT, f"{main} is missing")
        targets = {rid: target for rid, _, target in _relationships(self.zf, main, self.walk)}
        order: list[str] = []
        for event, elem in _events(data, main):
            if event != "end":
                continue
            name = _local(elem.tag)
            rid = next((v for k, v in elem.attrib.items() if k.endswith("}id")), None)  # r:id, not id
            if name in ("sldId", "sheet") and rid in targets:
                order.append(targets[rid])
                if name == "sheet":
                    self.sheet_names.append(elem.get("name", ""))
        for number, part in enumerate(order, 1):
            self.pages[part] = number
            for _, rel_type, target in _relationships(self.zf, part, self.walk):
                if rel_type in ("notesSlide", "comments", "comment", "threadedComment"):
                    self.pages.setdefault(target, number)
                elif rel_type in ("image", "oleObject", "package", "media", "video"):
                    self.media_pages.setdefault(target, number)
        self.walk.facts.pages += len(order)
        if len(order) > self.walk.limits.max_document_pages:
            raise InspectionError(InspectionErrorKind.TOO_MANY_PAGES,
                                  f"{len(order)} slides/sheets (max_document_pages "
                                  f"{self.walk.limits.max_document_pages})")

    def _declared_pages(self) -> int:
        """Word's own page count from docProps/app.xml (for metrics only: a DOCX has no pages of its own)."""
        data = self.read("docProps/app.xml")
        for event, elem in _events(data or b"", "docProps/app.xml") if data else ():
            if event == "end" and _local(elem.tag) == "Pages" and (elem.text or "").strip().isdigit():
                return min(int(elem.text), 10**6)
        return 0

    def parts(self) -> Iterator:
        self.number_pages()
        shared = self._shared_strings() if self.kind == "XLSX" else []
        used: set[int] = set()
        for number, name in enumerate(self.sheet_names, 1):
            if name.strip():
                yield TextRun(name, self.where("xl/workbook.xml"), number)
        for info in self.zf.infolist():
            self.walk.count_member()
            part = info.filename
            if info.is_dir() or _NO_TEXT.search(part) or part == "xl/sharedStrings.xml":
                continue
            content = read_member(self.zf, info, self.walk)
            if part.endswith(".rels"):
                yield from external_targets(content, part, self.where(part))
            elif _SHEET.match(part):
                yield from self._cells(content, part, shared, used)
            elif part.endswith(".xml") or part.endswith(".vml"):
                source = Source.METADATA.value if part.startswith("docProps/") else Source.TEXT.value
                yield from xml_text_runs(content, part, self.where(part), self.pages.get(part), source)
            elif part.endswith(".bin"):  # VBA macros, printer settings, legacy OLE objects: not read
                self.walk.facts.skipped += 1
            else:
                page = self.media_pages.get(part)
                for item in self.walk.member_parts(content, self.where(part), self.depth):
                    yield EmbeddedImage(item.data, item.member, page) \
                        if isinstance(item, EmbeddedImage) and page is not None else item
        for index in sorted(set(range(len(shared))) - used):  # strings left behind by deleted cells are content too
            if shared[index].strip():
                yield TextRun(shared[index], self.where("xl/sharedStrings.xml"))

    def _shared_strings(self) -> list[str]:
        data = self.read("xl/sharedStrings.xml")
        if data is None:
            return []
        strings, current = [], []
        for event, elem in _events(data, "xl/sharedStrings.xml"):
            name = _local(elem.tag)
            if event == "end" and name == "t":
                current.append(elem.text or "")
            elif event == "end" and name == "si":
                strings.append("".join(current))
                current = []
                elem.clear()
        return strings

    def _cells(self, data: bytes, part: str, shared: list[str], used: set[int]) -> Iterator[TextRun]:
        """One run per cell, tab-separated within a row, so a header row gives its column context."""
        page = self.pages.get(part)
        row: list[tuple[str, str]] = []
        inline: list[str] = []
        value = None
        for event, elem in _events(data, part):
            if event != "end":
                continue
            name = _local(elem.tag)
            if name == "v":
                value = elem.text or ""
            elif name == "t":
                inline.append(elem.text or "")
            elif name == "c":
                text = self._cell_text(elem.get("t", "n"), value, inline, shared, used)
                if text and text.strip():
                    row.append((elem.get("r", "?"), text))
                value, inline = None, []
                elem.clear()
            elif name == "row":
                for i, (ref, text) in enumerate(row):
                    sep = "\n" if i == len(row) - 1 else "\t"
                    yield TextRun(text, f"{self.where(part)}#{ref}", page, sep=sep)
                row = []
                elem.clear()
        for ref, text in row:
            yield TextRun(text, f"{self.where(part)}#{ref}", page)

    @staticmethod
    def _cell_text(kind: str, value: str | None, inline: list[str], shared: list[str], used: set[int]) -> str | None:
        if kind in _CELL_TYPES_SKIPPED:
            return None
        if kind == "s":
            try:
                index = int(value or "")
            except ValueError:
                return None
            used.add(index)
            return shared[index] if 0 <= index < len(shared) else None
        if kind == "inlineStr":
            return "".join(inline)
        return value


def read_package(data: bytes, kind: str, walk: Walk, member: str | None, depth: int) -> Iterator:
    with open_zip(data, walk) as zf:
        yield from _Package(zf, kind, walk, member, depth).parts()
