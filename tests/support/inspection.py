"""A stand-in for the inspection worker pool in proxy-free tests: findings are scripted per image.

Detection itself is tested with the real models elsewhere; these tests are about what the request path does with
the reports (decide, enforce, rebuild, record), so they must not wait for OCR.
"""

from __future__ import annotations

import hashlib

from gateway.formats import sniff_format
from gateway.models import Finding, ImageReport, InspectionError, InspectionErrorKind, InspectOptions
from gateway.prompt import prompt_sha256

EMAIL_FINDING = Finding("EMAIL_ADDRESS", "ocr", 0.95, (10, 10, 200, 40))


class ScriptedInspection:
    """Reports `findings[image]` for each image (none for the others); `failing` images raise `failure`."""

    def __init__(self, findings: dict[bytes, list[Finding]] | None = None, redacted: bytes = b"",
                 failing: dict[bytes, InspectionErrorKind] | None = None,
                 prompt_entities: dict[str, tuple[str, float]] | None = None) -> None:
        """`prompt_entities`: substring -> (entity, score) found wherever the substring is in a prompt text."""
        self.findings = {hashlib.sha256(k).hexdigest(): v for k, v in (findings or {}).items()}
        self.failing = {hashlib.sha256(k).hexdigest(): v for k, v in (failing or {}).items()}
        self.redacted = redacted
        self.inspected: list[str] = []  # sha256 of every image inspected, in order
        self.redactions: list[tuple[str, list[Finding]]] = []
        self.prompt_entities = dict(prompt_entities or {})
        self.prompts: list[list[str]] = []  # the texts of every inspect_prompt call
        self.waiting = 0
        self.in_flight = 0

    async def inspect(self, data: bytes, options: InspectOptions, timeout: float) -> ImageReport:
        sha = hashlib.sha256(data).hexdigest()
        self.inspected.append(sha)
        if sha in self.failing:
            raise InspectionError(self.failing[sha], "scripted failure")
        return ImageReport(sha, len(data), sniff_format(data), 100, 100, list(self.findings.get(sha, [])))

    async def redact(self, data: bytes, findings: list[Finding], options: InspectOptions, timeout: float) -> bytes:
        self.redactions.append((hashlib.sha256(data).hexdigest(), findings))
        return self.redacted

    async def inspect_prompt(self, texts: list[str], options: InspectOptions, timeout: float) -> list[ImageReport]:
        self.prompts.append(list(texts))
        reports = []
        for text in texts:
            found = [Finding(entity, "prompt", score, None, span=(at, at + len(needle)))
                     for needle, (entity, score) in self.prompt_entities.items() if (at := text.find(needle)) >= 0]
            reports.append(ImageReport(prompt_sha256(text), len(text.encode()), "PROMPT", findings=found))
        return reports
