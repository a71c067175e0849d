"""The policy language for documents: limits, format names, source text, redact_fallback (and the load-time message
that says which documents a redact rule cannot rewrite), and decisions on document reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.models import (
    Action,
    Decision,
    DocumentFacts,
    Finding,
    ImageReport,
    InspectionErrorKind,
    Limits,
    RequestContext,
)
from gateway.policy import PolicyError, load_policy_text

HEAD = "version: 1\ndestinations:\n  - {name: openai, hosts: [chatgpt.com]}\n"
CTX = RequestContext("chatgpt.com", "/upload", "POST", "openai", image_count=1)


def load(text: str):
    return load_policy_text(HEAD + textwrap.dedent(text), "p.yaml")


def doc(kind: str, *findings: Finding, redactable: bool | None = None, error=None, pages: int = 1) -> ImageReport:
    facts = DocumentFacts(kind, pages=pages, redactable=kind in ("TEXT", "ZIP") if redactable is None else redactable)
    return ImageReport("d" * 64, 5000, kind, findings=list(findings), document=facts, error=error)


def email(member: str | None = None, page: int | None = None) -> Finding:
    return Finding("EMAIL_ADDRESS", "text", 0.95, None, page=page, member=member, span=(0, 21))


def test_document_limits_are_read_with_sizes():
    p = load("""
    settings:
      limits: {max_document_pages: 50, max_archive_members: 200, max_archive_depth: 3, max_expanded_bytes: 64MiB}
    rules: []
    """)
    assert p.limits == Limits(max_document_pages=50, max_archive_members=200, max_archive_depth=3,
                              max_expanded_bytes=64 * 2**20)
    assert load("rules: []\n").limits.max_expanded_bytes == 100 * 2**20  # a safe default


def test_bad_document_limit_is_an_error_with_its_line():
    with pytest.raises(PolicyError) as exc:
        load("settings:\n  limits: {max_archive_depth: 0}\nrules: []\n")
    issue = exc.value.issues[0]
    assert issue.line == 5 and "max_archive_depth" in issue.message


def test_redact_rule_says_at_load_time_which_documents_it_cannot_redact():
    p = load("""
    rules:
      - name: redact-contacts
        action: redact
        when: {entity: EMAIL_ADDRESS}
    """)
    [warning] = p.warnings
    assert warning.level == "warning" and warning.line == 7  # the action line
    assert warning.message == ("rule 'redact-contacts' redacts, but BZIP2, GZIP, PDF, TAR, XLSX, XZ uploads "
                               "cannot be redacted faithfully: they are blocked (redact_fallback: block)")
    assert "redact_fallback: block, warn or audit" in warning.hint
    assert p.rules[0].redact_fallback is Action.BLOCK


def test_explicit_fallback_or_redactable_formats_only_need_no_message():
    explicit = load("""
    rules:
      - {name: r, action: redact, redact_fallback: warn, when: {entity: EMAIL_ADDRESS}}
    """)
    assert explicit.warnings == [] and explicit.rules[0].redact_fallback is Action.WARN
    images_only = load("""
    rules:
      - {name: r, action: redact, when: {entity: EMAIL_ADDRESS, format: [PNG, JPEG, TEXT, ZIP, DOCX, PPTX]}}
    """)
    assert images_only.warnings == []
    partly = load("""
    rules:
      - {name: r, action: redact, when: {all: [{entity: FACE}, {any: [{format: PNG}, {format: PDF}]}]}}
    """)
    assert [w.message.split(" uploads")[0] for w in partly.warnings] == ["rule 'r' redacts, but PDF"]


def test_fallback_must_not_be_a_silent_allow():
    with pytest.raises(PolicyError) as exc:
        load("rules:\n  - {name: r, action: redact, redact_fallback: allow, when: {entity: FACE}}\n")
    assert "'allow' is not allowed" in exc.value.issues[0].message


def test_fallback_on_a_rule_that_does_not_redact_is_pointed_out():
    p = load("rules:\n  - {name: r, action: block, redact_fallback: warn, when: {entity: FACE}}\n")
    assert [w.message for w in p.warnings] == ["rule 'r' does not redact: redact_fallback is ignored"]


def test_document_formats_and_text_source_in_conditions():
    p = load("""
    rules:
      - {name: pdf-text-emails, action: block, when: {format: [PDF, txt], source: text, entity: EMAIL_ADDRESS}}
    """)
    assert p.rules[0].when.formats == frozenset({"PDF", "TEXT"})
    assert p.decide(CTX, [doc("PDF", email(page=3))]).rule == "pdf-text-emails"
    assert p.decide(CTX, [doc("DOCX", email("word/document.xml"))]).rule is None
    with pytest.raises(PolicyError) as exc:
        load("rules:\n  - {name: r, action: block, when: {format: PFD}}\n")
    assert exc.value.issues[0].hint == "did you mean 'PDF'?"


def test_redact_of_a_pdf_becomes_the_rules_fallback():
    p = load("""
    rules:
      - {name: r, action: redact, redact_fallback: warn, when: {entity: EMAIL_ADDRESS}}
    """)
    decision = p.decide(CTX, [doc("PDF", email(page=1))])
    assert (decision.action, decision.rule) == (Action.WARN, "r")
    assert decision.reason.endswith("PDF content cannot be redacted faithfully: redact_fallback is warn")
    assert decision.redactions == {}
    text = p.decide(CTX, [doc("TEXT", email())])
    assert text.action is Action.REDACT and text.redactions == {0: [email()]}
    assert text.redact_fallback is Action.WARN


def test_zip_holding_a_workbook_is_not_redactable():
    p = load("rules:\n  - {name: r, action: redact, redact_fallback: block, when: {entity: EMAIL_ADDRESS}}\n")
    report = doc("ZIP", email("report.xlsx!/xl/worksheets/sheet1.xml#B2"), redactable=False)
    assert p.decide(CTX, [report]).action is Action.BLOCK


def test_redaction_that_fails_at_run_time_takes_the_fallback_or_on_error():
    p = load("rules:\n  - {name: r, action: redact, redact_fallback: audit, when: {entity: EMAIL_ADDRESS}}\n")
    decision = p.decide(CTX, [doc("ZIP", email("a.txt"))])
    fallback = p.after_redaction_error(decision, InspectionErrorKind.NOT_REDACTABLE, "a JSON file would break")
    assert (fallback.action, fallback.rule) == (Action.AUDIT, "r")
    assert "redact_fallback is audit" in fallback.reason
    broken = p.after_redaction_error(decision, InspectionErrorKind.TIMEOUT, "took too long")
    assert (broken.action, broken.rule) == (Action.BLOCK, "on_error")
    assert p.after_redaction_error(Decision(Action.REDACT, "x", "y"), InspectionErrorKind.NOT_REDACTABLE,
                                   "z").action is Action.BLOCK  # no fallback known: on_error


def test_findings_before_an_error_count_and_redacting_a_partly_read_document_is_on_error():
    p = load("""
    settings: {on_error: block}
    rules:
      - {name: block-cards, action: block, when: {entity: CREDIT_CARD}}
      - {name: r, action: redact, redact_fallback: block, when: {entity: EMAIL_ADDRESS}}
    """)
    card = Finding("CREDIT_CARD", "text", 1.0, None, member="a.txt")
    partly = doc("ZIP", card, error=InspectionErrorKind.ENCRYPTED)
    assert p.decide(CTX, [partly]).rule == "block-cards"
    lenient = load("""
    settings: {on_error: allow}
    rules:
      - {name: block-cards, action: block, when: {entity: CREDIT_CARD}}
    """)
    assert lenient.decide(CTX, [partly]).rule == "block-cards"  # on_error allow does not let found PII through
    emails = doc("ZIP", email("a.txt"), error=InspectionErrorKind.ENCRYPTED)
    decision = p.decide(CTX, [emails])
    assert (decision.action, decision.rule) == (Action.BLOCK, "on_error")


def test_pixel_conditions_do_not_apply_to_documents():
    p = load("""
    settings: {on_error: block}
    rules:
      - {name: huge, action: block, when: {image_pixels: {min: 1000}}}
    """)
    decision = p.decide(CTX, [doc("PDF")])
    assert decision.action is Action.ALLOW and decision.rule is None


def test_policy_test_cases_take_document_files_and_fake_documents(tmp_path, capsys):
    from gateway.policy.cli import main
    from tests.support.documents import text_pdf

    (tmp_path / "payslip.pdf").write_bytes(text_pdf([["Payslip"]]))
    cases = tmp_path / "docs.test.yaml"
    cases.write_text(f"""policy: {Path(__file__).resolve().parents[1] / 'policies' / 'default.yaml'}
cases:
  - name: a PDF file is inspected as a document
    images: [payslip.pdf]
    request: {{host: chatgpt.com, path: /backend-api/files}}
    expect: {{action: block, rule: block-financial-identifiers}}
  - name: a fake workbook
    images: [{{document: XLSX, findings: [{{entity: EMAIL_ADDRESS}}]}}]
    request: {{host: chatgpt.com, path: /backend-api/files}}
    expect: {{action: warn, rule: redact-pii-public-chatbots}}
""")
    seen = []

    class Documents:
        def __init__(self, options):
            pass

        def inspect(self, data):
            raise AssertionError("a PDF is not an image")

        def inspect_document(self, data, kind=None):
            seen.append(kind)
            return ImageReport("p", len(data), kind, findings=[Finding("CREDIT_CARD", "text", 1.0, page=1)],
                               document=DocumentFacts(kind, pages=1))

    assert main(["test", str(cases)], inspector_factory=Documents) == 0, capsys.readouterr().out
    assert seen == ["PDF"]
