"""The request path with documents, without a proxy: documents are inspected as documents, decided with images,
rebuilt where redacted, and a redaction that cannot be done takes the rule's redact_fallback."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from gateway.cache import ReportCache
from gateway.documents import sniff_document
from gateway.metrics import GatewayMetrics
from gateway.models import (
    Action,
    DocumentFacts,
    Finding,
    ImageReport,
    InspectionError,
    InspectionErrorKind,
    InspectOptions,
)
from gateway.pipeline import FORWARD, ForwardRebuilt, Respond, UploadPipeline, UploadRequest
from gateway.policy import PolicyStore
from gateway.warn import WarnOverrides
from tests.support.documents import text_pdf, zip_of
from tests.support.inspection import ScriptedInspection

POLICY = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
CARD = Finding("CREDIT_CARD", "text", 1.0, None, page=2)
EMAIL_IN_ZIP = Finding("EMAIL_ADDRESS", "text", 0.95, None, member="notes.txt", span=(0, 5))
PDF = text_pdf([["x"], ["card"]])
ZIP = zip_of({"notes.txt": b"jane@x.example"})
CLEAN_ZIP = zip_of({"plan.txt": b"ship in march"})


class ScriptedDocuments(ScriptedInspection):
    """Scripted findings for documents too; `unredactable` documents refuse to be rewritten."""

    def __init__(self, findings, redacted_document: bytes = b"", unredactable: tuple[bytes, ...] = ()) -> None:
        super().__init__(findings)
        self.redacted_document = redacted_document
        self.unredactable = {hashlib.sha256(d).hexdigest() for d in unredactable}
        self.documents: list[str] = []

    async def inspect_document(self, data: bytes, options: InspectOptions, timeout: float) -> ImageReport:
        sha = hashlib.sha256(data).hexdigest()
        self.documents.append(sha)
        kind = sniff_document(data, text=True)
        facts = DocumentFacts(kind, pages=2 if kind == "PDF" else 0, redactable=kind in ("TEXT", "ZIP"))
        return ImageReport(sha, len(data), kind, findings=list(self.findings.get(sha, [])), document=facts)

    async def redact_document(self, data: bytes, findings: list[Finding], options: InspectOptions,
                              timeout: float) -> bytes:
        if hashlib.sha256(data).hexdigest() in self.unredactable:
            raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "scripted")
        return self.redacted_document


def pipeline(inspection) -> UploadPipeline:
    return UploadPipeline(PolicyStore(POLICY), inspection, GatewayMetrics(), ReportCache(), WarnOverrides())


def upload(body: bytes, host: str = "files.oaiusercontent.com", ctype: str = "application/octet-stream"):
    return UploadRequest("PUT", host, "/file", {"content-type": ctype}, "10.1.2.3", body_size=len(body), body=body)


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    body = (b"--B\r\nContent-Disposition: form-data; name=\"orgUuid\"\r\n\r\no-1\r\n--B\r\nContent-Disposition: "
            b"form-data; name=\"file\"; filename=\"" + name.encode() + b"\"\r\n\r\n" + data + b"\r\n--B--\r\n")
    return body, "multipart/form-data; boundary=B"


def decide(p: UploadPipeline, req: UploadRequest):
    screened = p.screen(req)
    return screened.early or asyncio.run(p.handle(req, screened.destination))


def test_a_pdf_is_inspected_as_a_document_and_blocked():
    inspection = ScriptedDocuments({PDF: [CARD]})
    result = decide(pipeline(inspection), upload(PDF))
    assert isinstance(result.outcome, Respond) and result.outcome.status == 403
    assert result.record.decision.rule == "block-financial-identifiers"
    assert inspection.documents == [hashlib.sha256(PDF).hexdigest()] and inspection.inspected == []
    assert result.record.reports[0].document.type == "PDF"


def test_a_clean_zip_is_forwarded_untouched():
    result = decide(pipeline(ScriptedDocuments({})), upload(CLEAN_ZIP))
    assert result.outcome == FORWARD and result.record.decision.action is Action.ALLOW


def test_a_zip_to_a_chatbot_is_rebuilt_around_its_redacted_copy():
    body, ctype = multipart("notes.zip", ZIP)
    redacted = zip_of({"notes.txt": b"[EMAIL_ADDRESS]"})
    result = decide(pipeline(ScriptedDocuments({ZIP: [EMAIL_IN_ZIP]}, redacted)), upload(body, "claude.ai", ctype))
    assert result.record.decision.action is Action.REDACT
    assert result.outcome == ForwardRebuilt(body.replace(ZIP, redacted))


def test_a_document_that_cannot_be_rewritten_takes_the_rules_fallback():
    body, ctype = multipart("notes.zip", ZIP)
    result = decide(pipeline(ScriptedDocuments({ZIP: [EMAIL_IN_ZIP]}, unredactable=(ZIP,))),
                    upload(body, "claude.ai", ctype))
    decision = result.record.decision
    assert (decision.action, decision.rule) == (Action.WARN, "redact-pii-public-chatbots")  # default policy: warn
    assert "redact_fallback is warn" in decision.reason
    assert isinstance(result.outcome, Respond) and result.outcome.headers["X-DLP-Action"] == "warn"
