"""End to end with the prompt typed beside an upload: a real `dlp-gateway run` on the shipped default policy, real
HTTPS clients and a real recording upstream on 127.0.0.1. An SSN in the prompt blocks even next to a clean image,
an e-mail address reaches the chatbot as a placeholder, a clean prompt arrives byte-identical."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess, client
from tests.support.images import text_image

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EMAIL = "jane.doe@corpmail.com"
SSN = "536-22-1947"
POLICY = Path(__file__).resolve().parents[1] / "policies" / "default.yaml"
CLEAN_PNG = text_image(["Quarterly roadmap review", "Ship the new onboarding flow in March"])
DATA_URL = "data:image/png;base64," + base64.b64encode(CLEAN_PNG).decode()


def post(gateway: GatewayProcess, url: str, body: bytes, ctype: str = "application/json") -> httpx.Response:
    with client(gateway) as c:
        return c.post(url, content=body, headers={"content-type": ctype})


def openai_chat(text: str, image: bool = True) -> bytes:
    content = [{"type": "text", "text": text}] + ([{"type": "image_url", "image_url": {"url": DATA_URL}}] if image else [])
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}).encode()


def test_an_ssn_in_the_prompt_next_to_a_clean_image_is_blocked(gateway, upstream):
    r = post(gateway, "https://api.openai.com/v1/chat/completions/ssn",
             openai_chat(f"Is my social security number {SSN} on this slide?"))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "dlp_blocked" and SSN not in r.text
    assert upstream.last_for("/v1/chat/completions/ssn") is None


def test_an_email_in_the_prompt_reaches_the_chatbot_as_a_placeholder(gateway, upstream):
    body = openai_chat(f"Draft a polite reply to {EMAIL} about this roadmap.")
    r = post(gateway, "https://api.openai.com/v1/chat/completions/email", body)
    assert r.status_code == 200, r.text
    got = upstream.last_for("/v1/chat/completions/email")
    assert int(got.headers["Content-Length"]) == len(got.body) and EMAIL.encode() not in got.body
    assert got.body == body.replace(EMAIL.encode(), b"[EMAIL_ADDRESS]")  # the image and every other byte unchanged
    sent = json.loads(got.body)["messages"][0]["content"]
    assert sent[0]["text"] == "Draft a polite reply to [EMAIL_ADDRESS] about this roadmap."


def test_text_only_conversations_are_inspected_too(gateway, upstream):
    web = {"action": "next", "messages": [{"id": "m1", "author": {"role": "user"}, "content": {
        "content_type": "text", "parts": [f"Wie erreiche ich {EMAIL}? Grüße \U0001F600"]}}], "model": "auto"}
    raw = json.dumps(web, ensure_ascii=False).encode()
    r = post(gateway, "https://chatgpt.com/backend-api/conversation", raw)
    assert r.status_code == 200, r.text
    got = upstream.last_for("/backend-api/conversation").body
    assert got == raw.replace(EMAIL.encode(), b"[EMAIL_ADDRESS]")
    claude = json.dumps({"prompt": f"my SSN is {SSN}, fill the form", "attachments": [], "files": []}).encode()
    r = post(gateway, "https://claude.ai/api/organizations/o-1/chat_conversations/c-1/completion", claude)
    assert r.status_code == 403 and r.json()["error"]["rule"] == "block-financial-identifiers"
    assert upstream.last_for("/api/organizations/o-1/chat_conversations/c-1/completion") is None


def test_a_clean_prompt_arrives_byte_identical(gateway, upstream):
    body = openai_chat("Summarise this slide in three bullet points.")
    r = post(gateway, "https://api.openai.com/v1/chat/completions/clean", body)
    assert r.status_code == 200, r.text
    assert upstream.last_for("/v1/chat/completions/clean").body == body
    gemini = json.dumps({"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]},
                        indent=2).encode()
    r = post(gateway, "https://generativelanguage.googleapis.com/v1beta/models/gemini:generateContent", gemini)
    assert r.status_code == 200
    assert upstream.last_for("/v1beta/models/gemini:generateContent").body == gemini


def test_audit_counts_the_prompt_and_never_quotes_it(gateway):
    events = [json.loads(line) for line in gateway.audit_lines()]
    prompts = [d for e in events for d in e.get("documents", []) if d["type"] == "PROMPT"]
    assert prompts and all(d["members"] >= 1 for d in prompts)
    assert any(e["rule"] == "redact-contact-details-in-prompts" and e["action"] == "redact" for e in events)
    assert all(e.get("images") == [] for e in events if e["rule"] == "block-financial-identifiers"
               and e["destination_host"] == "claude.ai")
    everything = "\n".join(gateway.audit_lines()) + gateway.metrics_text()
    assert 'dlp_gateway_findings_total{entity="US_SSN",source="prompt"}' in everything
    for secret in (EMAIL, SSN, "Draft a polite reply"):
        assert secret not in everything
