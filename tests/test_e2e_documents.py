"""End to end with documents: a real `dlp-gateway run` on the shipped default policy, real HTTPS clients and a real
recording upstream on 127.0.0.1. PDFs, Office files and archives are blocked, warned or passed byte-identical."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.documents import docx, image_pdf, passport_png, text_pdf, xlsx, zip_bomb, zip_of
from tests.support.gateway_process import client
from tests.support.images import text_image

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CARD = "4539 1488 0343 6467"
EMAIL = "jane.doe@corpmail.com"
SSN = "536-22-1947"
PII_LINES = ["Customer record", f"Card: {CARD}", f"SSN: {SSN}", f"Email: {EMAIL}"]
CLEAN_LINES = ["Quarterly roadmap review", "Ship the new onboarding flow in March"]
POLICY = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
BLOB = "https://files.oaiusercontent.com"


def blob_put(gateway, path: str, data: bytes, ctype: str) -> httpx.Response:
    """ChatGPT's file upload: the bytes are PUT to a signed blob URL."""
    with client(gateway) as c:
        return c.put(f"{BLOB}{path}?se=2026-12-07&sig=abc", content=data,
                     headers={"x-ms-blob-type": "BlockBlob", "content-type": ctype})


def claude_upload(gateway, path: str, name: str, data: bytes, ctype: str) -> httpx.Response:
    with client(gateway) as c:
        return c.post(f"https://claude.ai{path}", files={"file": (name, data, ctype)}, data={"orgUuid": "o-1"})


def test_pii_pdf_put_to_the_chatgpt_blob_url_is_blocked(gateway, upstream):
    r = blob_put(gateway, "/file-pii-pdf", text_pdf([["Quarterly report"], PII_LINES]), "application/pdf")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for("/file-pii-pdf?se=2026-12-07&sig=abc") is None
    assert CARD not in r.text and EMAIL not in r.text


def test_scanned_passport_pdf_put_to_the_chatgpt_blob_url_is_blocked(gateway, upstream):
    passport = passport_png(11)
    r = blob_put(gateway, "/file-passport", image_pdf([passport]), "application/pdf")
    assert r.status_code == 403, r.text
    assert r.json()["error"]["rule"] == "block-identity-documents"
    assert upstream.last_for("/file-passport?se=2026-12-07&sig=abc") is None


def test_png_inside_a_zip_to_claudes_upload_endpoint_is_blocked(gateway, upstream):
    archive = zip_of({"notes/readme.txt": b"screenshots from the call", "shots/record.png": text_image(PII_LINES)})
    r = claude_upload(gateway, "/api/o-1/upload", "shots.zip", archive, "application/zip")
    assert r.status_code == 403, r.text
    assert upstream.last_for("/api/o-1/upload") is None


def test_docx_with_a_card_is_blocked(gateway, upstream):
    data = docx(["Onboarding checklist"], table=[["Field", "Value"], ["Card", CARD]])
    r = claude_upload(gateway, "/api/o-1/upload-docx", "form.docx", data,
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert r.status_code == 403 and r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for("/api/o-1/upload-docx") is None


def test_xlsx_customer_list_to_a_chatbot_gets_the_warning_page(gateway, upstream):
    rows = [["Name", "Email"]] + [[f"Customer {i}", f"customer{i}@corpmail.com"] for i in range(10)]
    r = blob_put(gateway, "/file-xlsx", xlsx({"Customers": rows}),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert r.status_code == 403 and r.headers["x-dlp-action"] == "warn"
    assert r.json()["error"]["rule"] == "redact-pii-public-chatbots"
    assert upstream.last_for("/file-xlsx?se=2026-12-07&sig=abc") is None


def test_zip_docx_and_csv_with_emails_to_claude_arrive_redacted(gateway, upstream):
    shot = text_image(["Please contact the customer:", f"Email: {EMAIL}"])
    notes = f"Call notes\nReach her at {EMAIL} after 5pm.\n".encode()
    archive = zip_of({"keep.txt": b"nothing to see here", "shot.png": shot, "notes.txt": notes})
    r = claude_upload(gateway, "/api/o-1/upload-zip", "call.zip", archive, "application/zip")
    assert r.status_code == 200, r.text
    got = upstream.last_for("/api/o-1/upload-zip")
    assert int(got.headers["Content-Length"]) == len(got.body) and EMAIL.encode() not in got.body
    sent = got.body[got.body.index(b"PK\x03\x04"):got.body.rindex(b"PK\x05\x06") + 22]
    with zipfile.ZipFile(io.BytesIO(sent)) as zf:
        assert zf.namelist() == ["keep.txt", "shot.png", "notes.txt"]
        assert zf.read("keep.txt") == b"nothing to see here"
        assert zf.read("notes.txt") == b"Call notes\nReach her at [EMAIL_ADDRESS] after 5pm.\n"
        assert zf.read("shot.png") != shot
    letter = docx(["Dear team,", f"please write to {EMAIL} about the renewal."])
    r = claude_upload(gateway, "/api/o-1/upload-docx-redact", "letter.docx", letter,
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert r.status_code == 200, r.text
    got = upstream.last_for("/api/o-1/upload-docx-redact").body
    sent = got[got.index(b"PK\x03\x04"):got.rindex(b"PK\x05\x06") + 22]
    import docx as python_docx
    assert [p.text for p in python_docx.Document(io.BytesIO(sent)).paragraphs] == \
        ["Dear team,", "please write to [EMAIL_ADDRESS] about the renewal."]
    csv = f"name,email\nJane Doe,{EMAIL}\n".encode()
    r = claude_upload(gateway, "/api/o-1/upload-csv", "customers.csv", csv, "text/csv")
    assert r.status_code == 200, r.text
    body = upstream.last_for("/api/o-1/upload-csv").body
    assert b"[EMAIL_ADDRESS]" in body and EMAIL.encode() not in body and b'name="orgUuid"' in body


@pytest.mark.parametrize("kind", ["pdf", "docx", "zip"])
def test_clean_documents_arrive_byte_identical(gateway, upstream, kind):
    data = {"pdf": lambda: text_pdf([CLEAN_LINES]), "docx": lambda: docx(CLEAN_LINES),
            "zip": lambda: zip_of({"plan.txt": "\n".join(CLEAN_LINES).encode(),
                                   "chart.png": text_image(CLEAN_LINES)})}[kind]()
    r = blob_put(gateway, f"/file-clean-{kind}", data, "application/octet-stream")
    assert r.status_code == 200, r.text
    assert upstream.last_for(f"/file-clean-{kind}?se=2026-12-07&sig=abc").body == data
    multipart = claude_upload(gateway, f"/api/o-1/clean-{kind}", f"clean.{kind}", data, "application/octet-stream")
    assert multipart.status_code == 200
    assert data in upstream.last_for(f"/api/o-1/clean-{kind}").body


def test_zip_bomb_is_a_decision_and_the_gateway_stays_up(gateway, upstream):
    bomb = zip_bomb(512 * 2**20)  # 512 MiB of zeros in about 0.5 MiB; the default max_expanded_bytes is 100 MiB
    r = blob_put(gateway, "/file-bomb", bomb, "application/zip")
    assert r.status_code == 403 and r.json()["error"]["rule"] == "on_error"
    assert upstream.last_for("/file-bomb?se=2026-12-07&sig=abc") is None
    after = blob_put(gateway, "/file-after-bomb", text_pdf([CLEAN_LINES]), "application/pdf")
    assert after.status_code == 200


def test_two_thousand_page_pdf_is_a_decision(gateway, upstream):
    import io

    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    for _ in range(2000):
        doc.new_page(612, 792)
    buf = io.BytesIO()
    doc.save(buf)
    r = blob_put(gateway, "/file-2000-pages", buf.getvalue(), "application/pdf")
    assert r.status_code == 403 and r.json()["error"]["rule"] == "on_error"
    assert "too_many_pages" in r.json()["error"]["message"]
    assert upstream.last_for("/file-2000-pages?se=2026-12-07&sig=abc") is None


def test_audit_and_metrics_show_document_types_and_pages_never_content(gateway):
    events = [json.loads(line) for line in gateway.audit_lines()]
    documents = [d for e in events for d in e.get("documents", [])]
    assert {"PDF", "ZIP", "DOCX", "XLSX"} <= {d["type"] for d in documents}
    assert any(d["type"] == "PDF" and d["pages"] == 2 for d in documents)
    assert any(d["error"] == "expanded_too_large" for d in documents)
    assert any(d["error"] == "too_many_pages" and d["pages"] == 2000 for d in documents)
    metrics = gateway.metrics_text()
    assert 'dlp_gateway_documents_inspected_total{document_type="PDF"}' in metrics
    assert 'dlp_gateway_errors_total{kind="expanded_too_large"} 1.0' in metrics
    everything = "\n".join(gateway.audit_lines()) + metrics
    for secret in (CARD, CARD.replace(" ", ""), SSN, EMAIL, "customer1@corpmail.com", "record.png", "readme.txt"):
        assert secret not in everything
