"""The prompt beside an upload: found in every chat shape, rewritten in its own JSON escaping, decided with the images,
and read by the real analyzer with exact spans."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from gateway.cache import ReportCache
from gateway.extract import extract_images
from gateway.metrics import GatewayMetrics
from gateway.models import Action, Finding
from gateway.pipeline import FORWARD, ForwardRebuilt, Respond, UploadPipeline, UploadRequest
from gateway.policy import PolicyStore
from gateway.prompt import MAX_PROMPT_CHARS, is_prompt_path, redact_prompts, replace_spans
from gateway.warn import WarnOverrides
from tests.support.images import text_image
from tests.support.inspection import ScriptedInspection

POLICY = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
EMAIL = "jane.doe@corpmail.com"
SSN = "536-22-1947"
PNG = text_image(["Quarterly roadmap review"], size=(400, 120))
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def prompts_of(body: dict | bytes, ctype: str = "application/json") -> list[tuple[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [(p.text, p.where) for p in extract_images(ctype, raw).prompts]


# --- which text is prompt text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, expected", [
    ({"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                                   {"type": "image_url", "image_url": {"url": DATA_URL}}]}]},
     [("Be brief.", "json $.messages[0].content"), ("What is this?", "json $.messages[1].content[0].text")]),
    ({"model": "claude", "system": "You review forms.", "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PNG).decode()}},
        {"type": "text", "text": "Check it"}]}]},
     [("You review forms.", "json $.system"), ("Check it", "json $.messages[0].content[1].text")]),
    ({"system": [{"type": "text", "text": "Cached system"}], "messages": [{"role": "user", "content": "Hi"}]},
     [("Cached system", "json $.system[0].text"), ("Hi", "json $.messages[0].content")]),
    ({"contents": [{"role": "user", "parts": [{"text": "Describe"}, {"inline_data": {"mime_type": "image/png",
                                                                                      "data": base64.b64encode(PNG).decode()}}]}],
      "systemInstruction": {"parts": [{"text": "Gemini system"}]}},
     [("Describe", "json $.contents[0].parts[0].text"), ("Gemini system", "json $.systemInstruction.parts[0].text")]),
    ({"action": "next", "messages": [{"id": "m1", "author": {"role": "user"},
                                      "content": {"content_type": "text", "parts": ["ChatGPT web text"]}}],
      "model": "auto", "conversation_mode": {"kind": "primary_assistant"}},
     [("ChatGPT web text", "json $.messages[0].content.parts[0]")]),
    ({"prompt": "Claude web text", "timezone": "Europe/Paris", "attachments": [
        {"file_name": "notes.txt", "file_type": "text/plain", "extracted_content": "pasted notes"}], "files": []},
     [("Claude web text", "json $.prompt"), ("pasted notes", "json $.attachments[0].extracted_content")]),
    ({"model": "gpt-4.1", "instructions": "Answer in French", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Responses API"}]}]},
     [("Answer in French", "json $.instructions"), ("Responses API", "json $.input[0].content[0].text")]),
    ({"model": "text-embedding-3", "input": "embed me"}, [("embed me", "json $.input")]),
])
def test_every_chat_shape_yields_its_prompt_text(body, expected):
    assert prompts_of(body) == expected


@pytest.mark.parametrize("body", [
    {"model": "gpt-4o", "temperature": 0.2, "user": "alice", "metadata": {"text": "not typed by the user"}},
    {"messages": [{"role": "user", "name": "Jane Doe", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
    {"settings": {"prompt": "a nested key is not Claude's prompt"}},
    {"messages": [{"role": "user", "content": "   "}]},
])
def test_other_strings_are_not_prompt_text(body):
    assert prompts_of(body) == []


def test_keys_written_with_unicode_escapes_are_still_read():
    raw = b'{"messages": [{"role": "user", "\\u0063ontent": "hidden key"}]}'
    assert prompts_of(raw) == [("hidden key", "json $.messages[0].content")]


def test_a_chat_body_wrapped_one_level_deeper_still_counts():
    body = {"request": {"contents": [{"parts": [{"text": "batched"}]}]}}
    assert prompts_of(body) == [("batched", "json $.request.contents[0].parts[0].text")]


def test_prompt_form_and_multipart_fields():
    body = (b'--B\r\nContent-Disposition: form-data; name="prompt"\r\n\r\na fox, call 415 555 0134\r\n'
            b'--B\r\nContent-Disposition: form-data; name="output_format"\r\n\r\npng\r\n'
            b'--B\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
            + PNG + b'\r\n--B--\r\n')
    extraction = extract_images("multipart/form-data; boundary=B", body)
    assert [(p.text, p.where) for p in extraction.prompts] == [("a fox, call 415 555 0134", "multipart part 'prompt'")]
    assert len(extraction.images) == 1
    new = extraction.rebuild({}, {}, {0: "a fox, call [PHONE_NUMBER]"})
    assert new == body.replace(b"415 555 0134", b"[PHONE_NUMBER]")
    form = extract_images("application/x-www-form-urlencoded", b"model=x&prompt=write+to+jane%40corp.com&n=1")
    assert [p.text for p in form.prompts] == ["write to jane@corp.com"]
    assert form.rebuild({}, {}, {0: "write to [EMAIL_ADDRESS]"}) == b"model=x&prompt=write+to+%5BEMAIL_ADDRESS%5D&n=1"


# --- rewriting the prompt -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_rewritten_prompt_keeps_every_other_byte_and_its_escaping(ensure_ascii):
    text = 'Caf\u00e9 \U0001F600 "quoted" a/b \\ tab\there\nline two: mail jane.doe@corpmail.com now'
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], "stream": True}
    raw = json.dumps(body, ensure_ascii=ensure_ascii, indent=1).encode()
    extraction = extract_images("application/json", raw)
    assert [p.text for p in extraction.prompts] == [text]
    start = text.index(EMAIL)
    new_text = replace_spans(text, [(start, start + len(EMAIL), "EMAIL_ADDRESS")])
    new = extraction.rebuild({}, {}, {0: new_text})
    assert json.loads(new) == {**body, "messages": [{"role": "user", "content": new_text}]}
    old_literal = json.dumps(text, ensure_ascii=ensure_ascii).encode()
    assert new == raw.replace(old_literal, json.dumps(new_text, ensure_ascii=ensure_ascii).encode())
    assert (b"\\ud83d" in new) is ensure_ascii and EMAIL.encode() not in new


def test_escaped_slashes_and_a_lone_surrogate_are_written_back_validly():
    raw = b'{"prompt": "see http:\\/\\/x.example\\/a and \\ud83d alone, jane.doe@corpmail.com"}'
    extraction = extract_images("application/json", raw)
    text = extraction.prompts[0].text
    start = text.index(EMAIL)
    new = extraction.rebuild({}, {}, {0: replace_spans(text, [(start, start + len(EMAIL), "EMAIL_ADDRESS")])})
    assert b"http:\\/\\/x.example\\/a" in new and b"\\ud83d" in new
    assert json.loads(new)["prompt"].endswith("alone, [EMAIL_ADDRESS]")


def test_spans_are_code_points_and_overlaps_merge():
    text = "\U0001F600 call +1 415 555 0134 or mail a@b.co"
    phone = text.index("+1")
    spans = [(phone, phone + 15, "PHONE_NUMBER"), (phone + 3, phone + 6, "US_BANK_NUMBER"),
             (text.index("a@b"), len(text), "EMAIL_ADDRESS")]
    assert replace_spans(text, spans) == "\U0001F600 call [PHONE_NUMBER] or mail [EMAIL_ADDRESS]"
    findings = [Finding("EMAIL_ADDRESS", "prompt", 0.9, None, member="prompt:1", span=(0, 3)),
                Finding("EMAIL_ADDRESS", "ocr", 0.9, (0, 0, 1, 1))]
    assert redact_prompts(["keep", "abc def"], findings) == {1: "[EMAIL_ADDRESS] def"}


def test_a_prompt_and_an_image_inside_it_cannot_both_be_replaced():
    raw = json.dumps({"prompt": "look: " + DATA_URL}).encode()
    extraction = extract_images("application/json", raw)
    assert len(extraction.images) == 1 and len(extraction.prompts) == 1
    with pytest.raises(KeyError):
        extraction.rebuild({0: PNG}, {}, {0: "look: [X]"})
    assert json.loads(extraction.rebuild({}, {}, {0: "[X]"})) == {"prompt": "[X]"}


def test_too_much_prompt_text_is_noted_for_on_error():
    raw = json.dumps({"messages": [{"role": "user", "content": "a" * (MAX_PROMPT_CHARS // 2 + 1)}] * 2}).encode()
    extraction = extract_images("application/json", raw)
    assert len(extraction.prompts) == 1 and "characters of prompt text" in extraction.undecodable[0]


def test_paths_are_suffixes_except_the_generic_root_keys():
    assert is_prompt_path(("batch", "*", "messages", "*", "content"))
    assert is_prompt_path(("prompt",)) and not is_prompt_path(("options", "prompt"))


# --- the request path ---------------------------------------------------------------------------------------------


def chat(content, host: str = "api.openai.com", path: str = "/v1/chat/completions") -> UploadRequest:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}).encode()
    return UploadRequest("POST", host, path, {"content-type": "application/json"}, "10.1.2.3", body_size=len(body),
                         body=body)


def run(inspection: ScriptedInspection, req: UploadRequest, cache: ReportCache | None = None):
    cache = cache if cache is not None else ReportCache()
    p = UploadPipeline(PolicyStore(POLICY), inspection, GatewayMetrics(), cache, WarnOverrides())
    screened = p.screen(req)
    return screened.early or asyncio.run(p.handle(req, screened.destination))


SCRIPT = {EMAIL: ("EMAIL_ADDRESS", 0.95), SSN: ("US_SSN", 0.85)}


def test_an_ssn_in_a_text_only_prompt_is_blocked():
    inspection = ScriptedInspection(prompt_entities=SCRIPT)
    result = run(inspection, chat(f"my SSN is {SSN}"))
    assert isinstance(result.outcome, Respond) and result.outcome.status == 403
    assert result.record.decision.rule == "block-financial-identifiers" and inspection.inspected == []
    report = result.record.reports[-1]
    assert report.document.type == "PROMPT" and report.findings[0].source == "prompt"
    assert result.record.context.image_count == 0


def test_an_email_in_the_prompt_next_to_a_clean_image_becomes_a_placeholder():
    content = [{"type": "text", "text": f"write to {EMAIL} please"}, {"type": "image_url", "image_url": {"url": DATA_URL}}]
    req = chat(content)
    result = run(ScriptedInspection(prompt_entities=SCRIPT), req)
    assert result.record.decision.rule == "redact-contact-details-in-prompts"
    assert isinstance(result.outcome, ForwardRebuilt)
    sent = json.loads(result.outcome.body)
    assert sent["messages"][0]["content"][0]["text"] == "write to [EMAIL_ADDRESS] please"
    assert sent["messages"][0]["content"][1]["image_url"]["url"] == DATA_URL
    assert result.outcome.body == req.body.replace(EMAIL.encode(), b"[EMAIL_ADDRESS]")
    assert result.record.context.image_count == 1


def test_a_clean_prompt_and_a_body_without_prompt_pass_untouched():
    inspection = ScriptedInspection(prompt_entities=SCRIPT)
    clean = run(inspection, chat("Summarise the chart"))
    assert clean.outcome == FORWARD and clean.record.decision.action is Action.ALLOW
    body = json.dumps({"model": "gpt-4o", "temperature": 1}).encode()
    nothing = run(inspection, UploadRequest("POST", "api.openai.com", "/v1/chat/completions",
                                            {"content-type": "application/json"}, body_size=len(body), body=body))
    assert nothing.outcome == FORWARD and nothing.record is None
    assert inspection.prompts == [["Summarise the chart"]]


def test_earlier_turns_of_a_conversation_come_from_the_cache():
    inspection, cache = ScriptedInspection(prompt_entities=SCRIPT), ReportCache()
    first = chat("first question")
    run(inspection, first, cache)
    body = json.dumps({"messages": [{"role": "user", "content": "first question"},
                                    {"role": "assistant", "content": "an answer"},
                                    {"role": "user", "content": f"and {SSN}?"}]}).encode()
    later = UploadRequest("POST", "api.openai.com", "/v1/chat/completions", {"content-type": "application/json"},
                          body_size=len(body), body=body)
    result = run(inspection, later, cache)
    assert inspection.prompts == [["first question"], ["an answer", f"and {SSN}?"]]
    assert result.record.decision.rule == "block-financial-identifiers"
    assert [f.member for f in result.record.reports[-1].findings] == ["prompt:2"]


def test_prompt_inspection_can_be_turned_off(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY.read_text().replace("metadata: true, prompt: true", "metadata: true, prompt: false"))
    inspection = ScriptedInspection(prompt_entities=SCRIPT)
    p = UploadPipeline(PolicyStore(policy), inspection, GatewayMetrics(), ReportCache(), WarnOverrides())
    req = chat(f"my SSN is {SSN}")
    result = asyncio.run(p.handle(req, p.screen(req).destination))
    assert result.outcome == FORWARD and result.record is None and inspection.prompts == []


# --- the real analyzer --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_real_analyzer_finds_prompt_entities_with_exact_spans():
    from gateway.inspection.prompt import inspect_prompts
    from gateway.inspection.text import TextAnalyzer

    texts = ["You are a helpful assistant.", f"Écris à {EMAIL} 😀, SSN {SSN}", "x" * 12_000 + f" {EMAIL}"]
    reports = inspect_prompts(TextAnalyzer(), texts)
    assert [r.document for r in reports] == [None, None, None] and all(r.ok for r in reports)
    assert reports[0].findings == []
    spans = {(f.entity, texts[1][f.span[0]:f.span[1]]) for f in reports[1].findings}
    assert {("EMAIL_ADDRESS", EMAIL), ("US_SSN", SSN)} <= spans
    assert all(f.source == "prompt" and f.member is None for r in reports for f in r.findings)
    long = [texts[2][f.span[0]:f.span[1]] for f in reports[2].findings if f.entity == "EMAIL_ADDRESS"]
    assert long == [EMAIL]
