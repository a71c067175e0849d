"""Documents and archives through the real models (OCR + Presidio + faces) and the real policies: what is found,
where, what is decided, and what `redact` writes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gateway.inspection import Inspector
from gateway.models import Action, InspectionError, InspectionErrorKind, RequestContext
from gateway.policy import load_default_policy, load_policy, load_policy_text
from tests.support.documents import (
    docx,
    passport_png,
    encrypted_pdf,
    encrypted_zip_member,
    image_pdf,
    pptx,
    tar_of,
    text_pdf,
    xlsx,
    zip_of,
)
from tests.support.images import text_image

pytestmark = pytest.mark.slow

CARD = "4539 1488 0343 6467"
EMAIL = "jane.doe@corpmail.com"
SSN = "536-22-1947"
REPO = Path(__file__).resolve().parents[1]
CHATGPT = RequestContext("chatgpt.com", "/backend-api/files", "PUT", "openai", image_count=1)
REDACT_POLICY = """
version: 1
destinations: [{name: anthropic, hosts: [claude.ai]}]
rules:
  - name: redact-contacts
    action: redact
    redact_fallback: block
    when: {entity: [EMAIL_ADDRESS, PHONE_NUMBER]}
  - name: block-cards
    action: block
    when: {entity: [CREDIT_CARD, US_SSN]}
"""
CLAUDE = RequestContext("claude.ai", "/api/upload", "POST", "anthropic", image_count=1)


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector()


@pytest.fixture(scope="module")
def default_policy():
    return load_default_policy()


def found(report, entity: str) -> list:
    return [f for f in report.findings if f.entity == entity and f.score >= 0.5]


def test_scanned_passport_pdf_is_an_identity_document(inspector, default_policy):
    passport = passport_png(11)
    report = inspector.inspect_document(image_pdf([passport]))
    assert report.ok and report.format == "PDF" and report.document.rendered_pages == 1
    mrz = found(report, "MRZ")
    assert mrz and all(f.page == 1 and f.source == "ocr" and f.box for f in mrz)
    assert found(report, "FACE")
    decision = default_policy.decide(CHATGPT, [report])
    assert (decision.action, decision.rule) == (Action.BLOCK, "block-identity-documents")


def test_text_pdf_with_a_card_on_page_two_is_blocked(inspector, default_policy):
    report = inspector.inspect_document(text_pdf([["Quarterly roadmap review"], ["Payment details", f"Card {CARD}"]]))
    cards = found(report, "CREDIT_CARD")
    assert [(f.page, f.source, f.member) for f in cards] == [(2, "text", None)]
    assert report.document.pages == 2 and report.document.rendered_pages == 0
    decision = default_policy.decide(CHATGPT, [report])
    assert (decision.action, decision.rule) == (Action.BLOCK, "block-financial-identifiers")


def test_docx_with_a_card_in_a_table_and_an_email_in_an_image(inspector, default_policy):
    data = docx(["Customer onboarding"], table=[["Field", "Value"], ["Card", CARD]],
                image=text_image([f"Contact {EMAIL}"], size=(800, 120)))
    report = inspector.inspect_document(data)
    assert [f.member for f in found(report, "CREDIT_CARD")] == ["word/document.xml"]
    emails = found(report, "EMAIL_ADDRESS")
    assert any(f.member == "word/media/image1.png" and f.source == "ocr" and f.box for f in emails)
    assert default_policy.decide(CHATGPT, [report]).rule == "block-financial-identifiers"


def test_xlsx_customer_list_is_handled_per_policy(inspector, default_policy):
    rows = [["Name", "Email", "Plan"]] + [[f"Customer {i}", f"customer{i}@corpmail.com", "gold"] for i in range(20)]
    report = inspector.inspect_document(xlsx({"Customers": rows}))
    emails = found(report, "EMAIL_ADDRESS")
    assert len(emails) == 20 and emails[0].member == "xl/worksheets/sheet1.xml#B2" and emails[0].page == 1
    # The shipped default redacts contact details for chatbots; a workbook cannot be redacted: warn page.
    warned = default_policy.decide(CHATGPT, [report])
    assert (warned.action, warned.rule) == (Action.WARN, "redact-pii-public-chatbots")
    assert "XLSX content cannot be redacted faithfully: redact_fallback is warn" in warned.reason
    # The example policy says block for what it cannot redact.
    example = load_policy(REPO / "policies" / "examples" / "redact-pii-chatbots.yaml")
    assert example.decide(CHATGPT, [report]).action is Action.BLOCK


def test_pptx_notes_and_a_card_picture_carry_their_slide(inspector, default_policy):
    card_png = text_image([f"Card: {CARD}"], size=(800, 120))
    report = inspector.inspect_document(pptx(["Roadmap", "Customers"], notes={1: f"ask {EMAIL}"},
                                             image_on={2: card_png}))
    assert [f.page for f in found(report, "EMAIL_ADDRESS") if f.source == "text"] == [1]
    assert [(f.page, f.member) for f in found(report, "CREDIT_CARD")] == [(2, "ppt/media/image1.png")]
    assert default_policy.decide(CHATGPT, [report]).action is Action.BLOCK


def test_png_with_pii_inside_a_zip_is_blocked(inspector, default_policy):
    pii = text_image(["Customer record", f"Card: {CARD}", f"SSN: {SSN}", f"Email: {EMAIL}"])
    report = inspector.inspect_document(zip_of({"readme.txt": b"screenshots", "shots/record.png": pii}))
    assert {f.member for f in found(report, "CREDIT_CARD")} == {"shots/record.png"}
    assert default_policy.decide(CLAUDE, [report]).action is Action.BLOCK


def test_tar_gz_members_are_inspected(inspector):
    report = inspector.inspect_document(tar_of({"notes/hr.txt": f"employee ssn {SSN}\n".encode()}, "w:gz"))
    assert [f.member for f in found(report, "US_SSN")] == ["notes/hr.txt"]
    assert report.document.type == "GZIP" and not report.document.redactable


def test_clean_documents_are_allowed(inspector, default_policy):
    lines = ["Quarterly roadmap review", "Ship the new onboarding flow in March"]
    for data in (text_pdf([lines]), docx(lines), zip_of({"plan.txt": "\n".join(lines).encode(),
                                                         "chart.png": text_image(lines)})):
        report = inspector.inspect_document(data)
        decision = default_policy.decide(CHATGPT, [report])
        assert report.ok and decision.action is Action.ALLOW, (report.format, decision.reason)


def test_zip_is_redacted_member_by_member(inspector):
    policy = load_policy_text(REDACT_POLICY)
    shot = text_image(["Please contact the customer:", f"Email: {EMAIL}"])
    notes = f"Call notes\nReach her at {EMAIL} after 5pm.\n".encode()
    data = zip_of({"keep.txt": b"nothing to see", "shot.png": shot, "notes.txt": notes})
    report = inspector.inspect_document(data)
    decision = policy.decide(CLAUDE, [report])
    assert decision.action is Action.REDACT and report.document.redactable
    redacted = inspector.redact_document(data, decision.redactions[0])
    with zipfile.ZipFile(io.BytesIO(redacted)) as zf:
        assert zf.namelist() == ["keep.txt", "shot.png", "notes.txt"]
        assert zf.read("keep.txt") == b"nothing to see"
        assert zf.read("notes.txt") == b"Call notes\nReach her at [EMAIL_ADDRESS] after 5pm.\n"
        assert zf.read("shot.png") != shot
    again = inspector.inspect_document(redacted)
    assert not found(again, "EMAIL_ADDRESS")


def test_text_file_is_redacted_in_place(inspector):
    policy = load_policy_text(REDACT_POLICY)
    data = f"name,email,phone\nJane Doe,{EMAIL},+1 212 555 0187\n".encode()
    report = inspector.inspect_document(data)
    decision = policy.decide(CLAUDE, [report])
    assert decision.action is Action.REDACT
    assert inspector.redact_document(data, decision.redactions[0]) == \
        b"name,email,phone\nJane Doe,[EMAIL_ADDRESS],[PHONE_NUMBER]\n"


def test_docx_is_redacted_in_its_own_xml_and_still_opens(inspector):
    import docx as python_docx

    policy = load_policy_text(REDACT_POLICY)
    picture = text_image([f"Mail: {EMAIL}"], size=(700, 100))
    data = docx(["Intro", f"Reach {EMAIL} today"], table=[["Email", EMAIL]], header=f"From {EMAIL}", author=EMAIL,
                comment=f"cc {EMAIL}", image=picture)
    report = inspector.inspect_document(data)
    decision = policy.decide(CLAUDE, [report])
    assert decision.action is Action.REDACT and report.document.redactable
    redacted = inspector.redact_document(data, decision.redactions[0])
    assert not found(inspector.inspect_document(redacted), "EMAIL_ADDRESS")
    doc = python_docx.Document(io.BytesIO(redacted))
    assert [p.text for p in doc.paragraphs][:2] == ["Intro", "Reach [EMAIL_ADDRESS] today"]
    assert doc.core_properties.author == "[EMAIL_ADDRESS]" and doc.tables[0].cell(0, 1).text == "[EMAIL_ADDRESS]"
    before, after = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(io.BytesIO(redacted))
    changed = {n for n in before.namelist() if before.read(n) != after.read(n)}
    assert changed == {"word/document.xml", "word/header1.xml", "word/comments.xml", "docProps/core.xml",
                       "word/media/image1.png", "docProps/thumbnail.jpeg"}
    assert before.read("word/styles.xml") == after.read("word/styles.xml")


def test_pptx_slide_and_notes_are_redacted(inspector):
    from pptx import Presentation

    policy = load_policy_text(REDACT_POLICY)
    data = pptx(["Roadmap", f"Contact {EMAIL}"], notes={2: f"notes {EMAIL}"})
    decision = policy.decide(CLAUDE, [inspector.inspect_document(data)])
    redacted = inspector.redact_document(data, decision.redactions[0])
    deck = Presentation(io.BytesIO(redacted))
    assert deck.slides[1].shapes.title.text == "Contact [EMAIL_ADDRESS]"
    assert deck.slides[1].notes_slide.notes_text_frame.text == "notes [EMAIL_ADDRESS]"


def test_xlsx_is_not_redacted_but_gets_the_fallback(inspector):
    policy = load_policy_text(REDACT_POLICY)
    report = inspector.inspect_document(xlsx({"S": [["Email"], [EMAIL]]}))
    decision = policy.decide(CLAUDE, [report])
    assert (decision.action, decision.rule) == (Action.BLOCK, "redact-contacts")
    assert "XLSX content cannot be redacted faithfully" in decision.reason


def test_pdf_is_not_redacted_but_gets_the_fallback(inspector):
    policy = load_policy_text(REDACT_POLICY)
    data = text_pdf([[f"Contact {EMAIL}"]])
    report = inspector.inspect_document(data)
    decision = policy.decide(CLAUDE, [report])
    assert (decision.action, decision.rule) == (Action.BLOCK, "redact-contacts")
    with pytest.raises(InspectionError) as info:
        inspector.redact_document(data, found(report, "EMAIL_ADDRESS"))
    assert info.value.kind is InspectionErrorKind.NOT_REDACTABLE


def test_encrypted_pdf_follows_on_error(inspector, default_policy):
    report = inspector.inspect_document(encrypted_pdf(text_pdf([[f"Card {CARD}"]])))
    assert report.error is InspectionErrorKind.ENCRYPTED
    assert default_policy.decide(CHATGPT, [report]).rule == "on_error"
    monitor = load_policy(REPO / "policies" / "examples" / "monitor-only.yaml")
    assert monitor.decide(RequestContext("chatgpt.com", "/", "POST", "openai"), [report]).action is Action.AUDIT


def test_what_was_found_before_an_encrypted_member_still_blocks(inspector):
    allow_errors = load_policy_text(REDACT_POLICY.replace("version: 1", "version: 1\nsettings: {on_error: allow}"))
    data = encrypted_zip_member("locked.txt", before={"first.txt": f"ssn {SSN}".encode()})
    report = inspector.inspect_document(data)
    assert report.error is InspectionErrorKind.ENCRYPTED and found(report, "US_SSN")
    assert allow_errors.decide(CLAUDE, [report]).rule == "block-cards"


def test_scan_json_for_documents(tmp_path):
    pdf = tmp_path / "payslip.pdf"
    pdf.write_bytes(text_pdf([["Payslip"], [f"Card {CARD}"]]))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(zip_of({"notes.txt": f"mail {EMAIL}\n".encode()}))
    out = tmp_path / "out"
    exe = str(Path(sys.executable).with_name("dlp-gateway"))
    policy = tmp_path / "redact.yaml"
    policy.write_text(REDACT_POLICY)
    proc = subprocess.run([exe, "scan", "--json", "--policy", str(policy), "--host", "claude.ai", "--out-dir", str(out),
                           str(pdf), str(archive)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(pdf), str(archive)]
    assert rows[0]["action"] == "block" and rows[0]["document"] == {"type": "PDF", "pages": 2}
    card = [f for f in rows[0]["findings"] if f["entity"] == "CREDIT_CARD"]
    assert card and card[0]["page"] == 2 and "member" not in card[0] and card[0]["box"] is None
    assert set(card[0]) == {"entity", "source", "score", "box", "page"}
    assert rows[1]["action"] == "redact" and rows[1]["document"] == {"type": "ZIP", "pages": 0}
    assert [f["member"] for f in rows[1]["findings"] if f["entity"] == "EMAIL_ADDRESS"] == ["notes.txt"]
    with zipfile.ZipFile(out / "bundle.zip") as zf:
        assert zf.read("notes.txt") == b"mail [EMAIL_ADDRESS]\n"
    assert not (out / "payslip.pdf").exists()
