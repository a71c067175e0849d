"""Inspection of documents and archives: their text through the same TextAnalyzer as OCR'd text, their images
(and rendered pages) through the same Inspector as uploaded images; and redaction where it is faithful.

One report per document: its findings carry the page and member they were found in, its `document` facts say
what it was. An error part-way (an encrypted member, a limit) keeps the findings made before it: a block rule they
match still blocks, and the policy's on_error covers what could not be read.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from gateway.documents import EmbeddedImage, TextRun, Walk, read_document, sniff_document
from gateway.documents.archive import open_zip, read_member, rebuild_zip
from gateway.documents.ooxml_redact import redact_part, strings_at
from gateway.documents.plaintext import replace_spans
from gateway.formats import sniff_format
from gateway.models import DocumentFacts, Finding, ImageReport, InspectionError, InspectionErrorKind

if TYPE_CHECKING:
    from gateway.inspection import Inspector
    from gateway.inspection.text import TextAnalyzer

log = logging.getLogger(__name__)

BATCH_CHARS = 3_000  # short runs (cells, paragraphs) are analysed together, up to about this many characters
# Presidio's context step costs findings x tokens per call: small calls keep a list of 5,000 e-mails linear.
WINDOW_CHARS = 10_000  # a longer run is analysed in windows of this size...
WINDOW_OVERLAP = 3_500  # ...that overlap by this much (a 4096-bit RSA key in PEM is ~3,200 characters)


class _TextBatch:
    """Runs of one source analysed together; each finding is mapped back to the run (and offset) it is in."""

    def __init__(self, analyzer: TextAnalyzer, source: str) -> None:
        self.analyzer, self.source = analyzer, source
        self.runs: list[TextRun] = []
        self.chars = 0

    def add(self, run: TextRun) -> list[Finding]:
        if len(run.text) > WINDOW_CHARS:
            return self.flush() + self._long(run)
        self.runs.append(run)
        self.chars += len(run.text) + len(run.sep)
        return self.flush() if self.chars >= BATCH_CHARS else []

    def flush(self) -> list[Finding]:
        runs, self.runs, self.chars = self.runs, [], 0
        if not runs:
            return []
        starts, pos = [], 0
        for run in runs:
            starts.append(pos)
            pos += len(run.text) + len(run.sep)
        text = "".join(run.text + run.sep for run in runs)
        out = []
        for f, a, b in self.analyzer.analyze_text_spans(text, self.source):
            i = bisect.bisect_right(starts, a) - 1
            if a >= starts[i] + len(runs[i].text) and i + 1 < len(runs):
                i += 1  # the span starts in the separator: it belongs to the next run
            run = runs[i]
            a0, b0 = max(0, a - starts[i]), max(0, min(b - starts[i], len(run.text)))
            out.append(_placed(f, run, run.offset + a0, run.offset + b0))
        return out

    def _long(self, run: TextRun) -> list[Finding]:
        """A long text in overlapping windows cut at line ends; a finding seen twice (in an overlap) counts once."""
        text, seen, out = run.text, set(), []
        start = 0
        while start < len(text):
            end = min(len(text), start + WINDOW_CHARS)
            if end < len(text):
                cut = text.rfind("\n", start + WINDOW_CHARS // 2, end)
                end = cut + 1 if cut > 0 else end
            for f, a, b in self.analyzer.analyze_text_spans(text[start:end], self.source):
                key = (f.entity, start + a, start + b)
                if key not in seen:
                    seen.add(key)
                    out.append(_placed(f, run, run.offset + start + a, run.offset + start + b))
            if end >= len(text):
                break
            nxt = text.find("\n", end - WINDOW_OVERLAP, end)
            start = nxt + 1 if nxt > start else end - WINDOW_OVERLAP
        return out


def _placed(f: Finding, run: TextRun, start: int, end: int) -> Finding:
    return Finding(f.entity, f.source, f.score, None, page=run.page, member=run.member, span=(start, end))


class DocumentInspector:
    """Reads documents with the models of an Inspector (one per process)."""

    def __init__(self, inspector: Inspector, analyzer: TextAnalyzer) -> None:
        self.inspector = inspector
        self.analyzer = analyzer

    def inspect(self, data: bytes, kind: str | None = None) -> ImageReport:
        """Inspect one document or archive. Never raises: problems are reported in ImageReport.error."""
        report = ImageReport(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
        findings: list[Finding] = []
        facts: DocumentFacts | None = None
        try:
            facts, parts = read_document(data, self.inspector.options.limits, kind)
            report.format, report.document = facts.type, facts
            self._inspect_parts(parts, facts, report, findings)
        except InspectionError as err:
            report.error, report.error_detail = err.kind, str(err)
        except Exception as err:  # a bug must not turn into an allow: the caller applies on_error
            log.exception("document inspection failed")
            report.error, report.error_detail = InspectionErrorKind.INTERNAL, type(err).__name__
        report.findings = findings
        return report

    def _inspect_parts(self, parts, facts: DocumentFacts, report: ImageReport, findings: list[Finding]) -> None:
        batches: dict[str, _TextBatch] = {}
        images: dict[str, list[Finding]] = {}  # the same picture on every page is read once
        started = time.perf_counter()
        inspected = 0.0  # time spent in the Inspector and the analyzer, not in parsing
        try:
            for part in parts:
                t0 = time.perf_counter()
                if isinstance(part, TextRun):
                    facts.text_chars += len(part.text)
                    batch = batches.setdefault(part.source, _TextBatch(self.analyzer, part.source))
                    findings += _timed(report, "analyze", lambda: batch.add(part))
                elif isinstance(part, EmbeddedImage):
                    findings += self._image(part, facts, report, images)
                inspected += time.perf_counter() - t0
        finally:  # text read before an error is still analysed: its findings count
            t0 = time.perf_counter()
            for batch in batches.values():
                findings += _timed(report, "analyze", batch.flush)
            inspected += time.perf_counter() - t0
            report.stage_seconds["document"] = max(0.0, time.perf_counter() - started - inspected)

    def _image(self, part: EmbeddedImage, facts: DocumentFacts, report: ImageReport,
               seen: dict[str, list[Finding]]) -> list[Finding]:
        sha = hashlib.sha256(part.data).hexdigest()
        if sha not in seen:
            sub = self.inspector.inspect(part.data)
            for stage, seconds in sub.stage_seconds.items():
                report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + seconds
            if sub.error is not None:
                where = f"page {part.page}" if part.page else "an embedded image"
                raise InspectionError(sub.error, f"{where}: {sub.error_detail or sub.error.value}")
            facts.images += 1
            seen[sha] = sub.findings
        return [replace(f, page=part.page, member=part.member) for f in seen[sha]]

    # -- redaction -------------------------------------------------------------------------------------------------

    def redact(self, data: bytes, findings: list[Finding]) -> bytes:
        """The document with the findings redacted: text spans replaced by [ENTITY] (plain text, DOCX, PPTX), images
        painted (in a ZIP, DOCX or PPTX), re-zipped. Raises InspectionError(NOT_REDACTABLE) for anything else (PDF,
        XLSX, tar, ...): the rule's redact_fallback applies."""
        kind = sniff_document(data, text=True)
        walk = Walk(self.inspector.options.limits, DocumentFacts(kind or "?"))
        return self._redact(data, kind, findings, walk)

    def _redact(self, data: bytes, kind: str | None, findings: list[Finding], walk: Walk) -> bytes:
        if kind == "TEXT":
            if any(f.span is None for f in findings):
                raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a text finding without a place")
            return replace_spans(data, [(f.span[0], f.span[1], f.entity) for f in findings])
        if kind == "ZIP":
            return self._redact_zip(data, findings, walk)
        if kind in ("DOCX", "PPTX"):
            return self._redact_office(data, findings, walk)
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, f"{kind or 'this content'} cannot be redacted")

    def _redact_office(self, data: bytes, findings: list[Finding], walk: Walk) -> bytes:
        """Text spans replaced in the XML parts, pictures painted, the preview thumbnail blanked; re-zipped."""
        texts: dict[str, list[tuple[int, int, str]]] = {}
        pictures: dict[str, list[Finding]] = {}
        for f in findings:
            if not f.member or "!/" in f.member:
                raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a finding inside an embedded file")
            if f.span is not None:
                texts.setdefault(f.member, []).append((f.span[0], f.span[1], f.entity))
            else:
                pictures.setdefault(f.member, []).append(replace(f, page=None, member=None))
        replacements = {}
        with open_zip(data, walk) as zf:
            for part, spans in texts.items():
                content = _package_part(zf, part, walk)
                replacements[part] = redact_part(content, part, strings_at(content, part, spans))
            for part, part_findings in pictures.items():
                content = _package_part(zf, part, walk)
                if sniff_format(content) is None:
                    raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a finding in a part that is no image")
                replacements[part] = self.inspector.redact(content, part_findings)
            for info in zf.infolist():  # the preview shows the first page as it was
                if info.filename.startswith("docProps/thumbnail") and info.filename not in replacements:
                    replacements[info.filename] = _blank(read_member(zf, info, walk))
        return rebuild_zip(data, replacements, walk)

    def _redact_zip(self, data: bytes, findings: list[Finding], walk: Walk) -> bytes:
        groups: dict[str, list[Finding]] = {}
        for f in findings:
            if not f.member:
                raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a ZIP finding without a member")
            name, _, rest = f.member.partition("!/")
            groups.setdefault(name, []).append(replace(f, member=rest or None))
        replacements = {}
        with open_zip(data, walk) as zf:
            for name, member_findings in groups.items():
                try:
                    info = zf.getinfo(name)
                except KeyError:
                    raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a ZIP member that is not there") \
                        from None
                content = read_member(zf, info, walk)
                if sniff_format(content) is not None:
                    replacements[name] = self.inspector.redact(content, [replace(f, page=None) for f in member_findings])
                else:
                    replacements[name] = self._redact(content, sniff_document(content, text=True), member_findings,
                                                      walk)
        return rebuild_zip(data, replacements, walk)


def _package_part(zf, part: str, walk: Walk) -> bytes:
    try:
        info = zf.getinfo(part)
    except KeyError:
        raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a part that is not in the package") from None
    return read_member(zf, info, walk)


def _blank(image: bytes) -> bytes:
    """A white image of the same size and format (a thumbnail that cannot be decoded is dropped to 1x1)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as im:
            size, fmt = im.size, im.format or "PNG"
    except Exception:  # noqa: BLE001 - an unreadable preview is replaced all the same
        size, fmt = (1, 1), "PNG"
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format=fmt)
    return buf.getvalue()


def _timed(report: ImageReport, stage: str, fn):
    start = time.perf_counter()
    try:
        return fn()
    finally:
        report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + time.perf_counter() - start
