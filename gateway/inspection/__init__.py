"""Inspection of one image: safe decode, metadata, OCR + Presidio, faces, barcodes; and redaction.
Documents and archives (gateway.documents) are inspected with the same models: inspect_document(); the prompt text
sent with an upload with the same analyzer: inspect_prompt().

`Inspector` owns the loaded models (built once per process) and is what both the proxy's worker processes and
`dlp-gateway scan` call, so the CLI sees exactly what the proxy sees.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

import numpy as np

from gateway.cpus import available_cpus
from gateway.models import (
    EngineSettings,
    Finding,
    ImageReport,
    InspectionError,
    InspectionErrorKind,
    InspectOptions,
    Source,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class OcrReader(Protocol):
    """What the Inspector needs of an OCR engine (gateway.inspection.ocr.OcrEngine is the real one)."""

    def read(self, rgb: np.ndarray) -> list: ...


class Inspector:
    """Runs every detector the options enable on one image. Heavy models load in __init__, never per image."""

    def __init__(self, options: InspectOptions = InspectOptions(), *, ocr: OcrReader | None = None,
                 engine: EngineSettings | None = None, _shared: Inspector | None = None) -> None:
        """`ocr` replaces the OcrEngine this would build (e.g. the benchmark's, which keeps what it read); `engine`
        says how the models run (default: EngineSettings.from_env(), the process's start-up settings)."""
        from gateway.inspection.faces import FaceDetector
        from gateway.inspection.ocr import OcrEngine
        from gateway.inspection.text import TextAnalyzer

        self.options = options
        engine = engine or (_shared.engine if _shared else EngineSettings.from_env())
        self.engine = engine
        # Reuse OCR and face models from another Inspector when only the text recognizers differ (policy reload).
        if ocr is None and _shared is not None:
            ocr = _shared._ocr
        self._ocr = ocr if ocr is not None else (OcrEngine(engine) if options.ocr else None)
        self._faces = _shared._faces if _shared and _shared._faces else (FaceDetector() if options.faces else None)
        self._text = TextAnalyzer(options.recognizers, options.allow_list)
        # Faces and codes run beside OCR on a second core (they share nothing with it): the image's latency is then
        # OCR's, not OCR's plus faces'. engine.parallel_stages=False keeps everything on the calling thread.
        parallel = engine.parallel_stages if engine.parallel_stages is not None else available_cpus() > 1
        self._side = (_shared._side if _shared else ThreadPoolExecutor(1, thread_name_prefix="inspect-side")) \
            if parallel else None

    def with_options(self, options: InspectOptions) -> Inspector:
        """An Inspector for other options that shares this one's heavy models."""
        if options == self.options:
            return self
        return Inspector(options, _shared=self)

    def inspect(self, data: bytes) -> ImageReport:
        """Inspect one image. Never raises: problems are reported in ImageReport.error."""
        from gateway.inspection.decode import decode_image
        from gateway.inspection.metadata import metadata_findings

        report = ImageReport(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
        opts = self.options
        try:
            decoded = _timed(report, "decode", lambda: decode_image(data, opts.limits))
            report.format = decoded.format
            report.width, report.height = decoded.image.size
            findings: list[Finding] = []
            if opts.metadata:
                meta, texts = _timed(report, "metadata", lambda: metadata_findings(decoded))
                findings += meta
                for text in texts:
                    findings += self._text.analyze_text(text, Source.METADATA.value)
            primary = self._inspect_pixels(decoded.rgb(), report)
            findings += primary
            findings += self._inspect_planes(decoded, report, primary)
            report.findings = findings
        except InspectionError as err:
            report.error, report.error_detail = err.kind, str(err)
        except Exception as err:  # a bug must not turn into an allow: the caller applies on_error
            log.exception("inspection failed")
            report.error, report.error_detail = InspectionErrorKind.INTERNAL, type(err).__name__
        return report

    def _inspect_pixels(self, rgb: np.ndarray, report: ImageReport) -> list[Finding]:
        """OCR + Presidio on this thread, faces and codes beside it on the side thread."""
        findings: list[Finding] = []
        side = self._run_side(lambda: self._faces_and_codes(rgb, report))
        try:
            if self._ocr is not None and self.options.ocr:
                words = _timed(report, "ocr", lambda: self._ocr.read(rgb))
                findings += _timed(report, "analyze", lambda: self._text.analyze_words(words))
        finally:
            wait([side])  # never leave the side thread working on this image after it is reported
        faces, codes = side.result()
        findings += faces
        for text, box in codes:
            for f in self._text.analyze_text(text, Source.BARCODE.value):
                findings.append(Finding(f.entity, Source.BARCODE.value, f.score, box))
        return findings

    def _faces_and_codes(self, rgb: np.ndarray, report: ImageReport) -> tuple[list[Finding], list]:
        from gateway.inspection.barcodes import read_barcodes

        faces = _timed(report, "faces", lambda: self._faces.detect(rgb)) \
            if self._faces is not None and self.options.faces else []
        codes = _timed(report, "barcodes", lambda: read_barcodes(rgb)) if self.options.barcodes else []
        return faces, codes

    def _run_side(self, fn: Callable[[], T]) -> Future[T]:
        """`fn` on the side thread (or now, without one). Its result or exception comes from the future."""
        if self._side is not None:
            return self._side.submit(fn)
        done: Future[T] = Future()
        try:
            done.set_result(fn())
        except BaseException as e:  # noqa: BLE001 - re-raised by .result(), like a thread's would be
            done.set_exception(e)
        return done

    def _inspect_planes(self, decoded, report: ImageReport, primary: list[Finding]) -> list[Finding]:
        """Every other picture a receiver can see (decode.DecodedImage.planes): its PII counts too.

        A finding keeps its box only when the plane shares the main picture's pixels (alpha-hidden), so redaction
        paints it there; other planes are dropped by redaction (frames after the first, embedded pictures). What a
        plane only repeats of the main picture is not reported twice (see _new_in_plane).
        """
        found: list[Finding] = []
        planes = decoded.planes()
        while (plane := _timed(report, "decode", lambda: next(planes, None))) is not None:
            seen = self._inspect_pixels(plane.rgb, report)
            seen = [Finding(f.entity, f.source, f.score, f.box if plane.same_grid else None, plane.name) for f in seen]
            found += _new_in_plane(plane.name, plane.same_grid, seen, primary)
        return found

    def inspect_document(self, data: bytes, kind: str | None = None) -> ImageReport:
        """Inspect a document or archive: its text through this Inspector's analyzer, its images through inspect().

        Never raises; `kind` is its gateway.documents type when the caller already sniffed it."""
        from gateway.inspection.documents import DocumentInspector

        return DocumentInspector(self, self._text).inspect(data, kind)

    def inspect_prompt(self, texts: list[str]) -> list[ImageReport]:
        """The prompt texts of a request through this Inspector's analyzer (no OCR): one report per text, findings
        of source "prompt" with their spans. Never raises."""
        from gateway.inspection.prompt import inspect_prompts

        return inspect_prompts(self._text, texts)

    def redact_document(self, data: bytes, findings: list[Finding]) -> bytes:
        """The document with the findings redacted, where that is faithful (plain text, images and text in a ZIP).

        Raises InspectionError (NOT_REDACTABLE for every other document: the rule's redact_fallback applies)."""
        from gateway.inspection.documents import DocumentInspector

        return DocumentInspector(self, self._text).redact(data, findings)

    def redact(self, data: bytes, findings: list[Finding]) -> bytes:
        """Return the image re-encoded in its own format with the findings painted/blurred and all metadata gone.

        Raises InspectionError if the image cannot be decoded (the caller then applies on_error).
        """
        from gateway.inspection.decode import decode_image
        from gateway.inspection.redact import redact_image

        return redact_image(decode_image(data, self.options.limits), findings)


def _new_in_plane(name: str, same_grid: bool, seen: list[Finding], primary: list[Finding]) -> list[Finding]:
    """The findings of a plane that the main picture does not already account for.

    The alpha-hidden plane keeps the visible content around what it hides: a finding of the same entity at the same
    place as a main one is that one. An embedded picture is a copy of the main one (a thumbnail, a preview): per
    entity and source, it adds only what it has beyond the main picture's count. Frames are pictures of their own.
    """
    if same_grid:
        return [f for f in seen if not any(g.entity == f.entity and _overlap(g.box, f.box) >= 0.5 for g in primary)]
    if name.startswith("frame:"):
        return seen
    budget: dict[tuple[str, str], int] = {}
    for g in primary:
        budget[g.entity, g.source] = budget.get((g.entity, g.source), 0) + 1
    out = []
    for f in seen:
        if budget.get((f.entity, f.source), 0) > 0:
            budget[f.entity, f.source] -= 1
        else:
            out.append(f)
    return out


def _overlap(a, b) -> float:
    """Intersection over the smaller box (0 when either has no box)."""
    if a is None or b is None:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller if smaller > 0 else 0.0


def _timed(report: ImageReport, stage: str, fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    try:
        return fn()
    finally:
        report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + time.perf_counter() - start
