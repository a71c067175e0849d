"""Prompt texts through the same analyzer as OCR and document text (no OCR, no models but Presidio's): one report
per text, its findings of source "prompt" with their character spans, so `redact` can replace exactly them."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from gateway.documents import TextRun
from gateway.inspection.documents import _TextBatch
from gateway.models import ImageReport, InspectionErrorKind, Source
from gateway.prompt import prompt_sha256

if TYPE_CHECKING:
    from gateway.inspection.text import TextAnalyzer

log = logging.getLogger(__name__)


def inspect_prompts(analyzer: TextAnalyzer, texts: list[str]) -> list[ImageReport]:
    """reports[i] for texts[i]. Short texts are analysed together (one Presidio call for a few messages), long ones
    in overlapping windows. Never raises: a failure is an INTERNAL error in every report."""
    reports = [ImageReport(prompt_sha256(t), len(t.encode("utf-8", "surrogatepass")), "PROMPT") for t in texts]
    started = time.perf_counter()
    try:
        batch = _TextBatch(analyzer, Source.PROMPT.value)
        found = []
        for i, text in enumerate(texts):
            found += batch.add(TextRun(text, member=str(i), source=Source.PROMPT.value, sep="\n\n"))
        found += batch.flush()
        for f in found:
            reports[int(f.member)].findings.append(replace(f, member=None))
    except Exception as err:  # a bug must not turn into an allow: the caller applies on_error
        log.exception("prompt inspection failed")
        for r in reports:
            r.findings, r.error, r.error_detail = [], InspectionErrorKind.INTERNAL, type(err).__name__
    seconds = time.perf_counter() - started
    for r in reports:
        r.stage_seconds["analyze"] = seconds / max(1, len(reports))
    return reports
