"""Metrics and audit events for documents: type and page count in bounded labels and fields, never a member
name or the text that was found."""

from __future__ import annotations

import json

from prometheus_client import generate_latest

from gateway.audit import build_audit_event
from gateway.metrics import GatewayMetrics
from gateway.models import Action, Decision, DocumentFacts, Finding, ImageReport, InspectionErrorKind, RequestContext

CTX = RequestContext("claude.ai", "/api/upload", "POST", "anthropic", client_ip="10.0.0.5", image_count=2)
MEMBER = "payroll/jane-doe-salary.png"
PDF = ImageReport("a" * 64, 20_000, "PDF", findings=[Finding("CREDIT_CARD", "text", 1.0, None, page=2)],
                  stage_seconds={"document": 0.02, "analyze": 0.3},
                  document=DocumentFacts("PDF", pages=3, images=1, rendered_pages=1, text_chars=900))
ZIP = ImageReport("b" * 64, 9_000, "ZIP", findings=[Finding("EMAIL_ADDRESS", "ocr", 0.9, (1, 2, 3, 4), member=MEMBER)],
                  error=InspectionErrorKind.ENCRYPTED, document=DocumentFacts("ZIP", members=4, images=1))
IMAGE = ImageReport("c" * 64, 1_000, "PNG", 10, 10)
DECISION = Decision(Action.BLOCK, "block-cards", "rule 'block-cards' matched: CREDIT_CARD x1 in image 1")


def test_audit_event_lists_documents_with_counts_only():
    event = build_audit_event(CTX, DECISION, [PDF, ZIP, IMAGE], "inc", 0.5, "v1")
    assert event.images == [{"sha256": "c" * 64, "size_bytes": 1000, "format": "PNG", "error": None}]
    assert event.documents == [
        {"sha256": "a" * 64, "size_bytes": 20_000, "type": "PDF", "pages": 3, "members": 0, "images": 1,
         "rendered_pages": 1, "error": None},
        {"sha256": "b" * 64, "size_bytes": 9_000, "type": "ZIP", "pages": 0, "members": 4, "images": 1,
         "rendered_pages": 0, "error": "encrypted"},
    ]
    assert event.entities == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1}
    line = event.to_json()
    assert MEMBER not in line and "jane" not in line and json.loads(line)["documents"][0]["type"] == "PDF"


def test_metrics_count_documents_by_type_and_pages():
    metrics = GatewayMetrics()
    metrics.observe_decision(CTX, DECISION, [PDF, ZIP, IMAGE], 0.5)
    text = generate_latest(metrics.registry).decode()
    assert 'dlp_gateway_documents_inspected_total{document_type="PDF"} 1.0' in text
    assert 'dlp_gateway_documents_inspected_total{document_type="ZIP"} 1.0' in text
    assert 'dlp_gateway_documents_inspected_total{document_type="DOCX"} 0.0' in text  # every type exists up front
    assert 'dlp_gateway_pages_per_document_bucket{document_type="PDF",le="5.0"} 1.0' in text
    assert 'dlp_gateway_pages_per_document_bucket{document_type="PDF",le="2.0"} 0.0' in text
    assert "dlp_gateway_images_inspected_total 1.0" in text  # documents are not images
    assert 'dlp_gateway_images_per_upload_bucket{le="1.0"} 1.0' in text
    assert 'dlp_gateway_findings_total{entity="CREDIT_CARD",source="text"} 1.0' in text
    assert 'dlp_gateway_stage_duration_seconds_count{stage="document"} 1.0' in text
    assert MEMBER not in text and "jane" not in text
