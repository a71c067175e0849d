"""The account signed in to an app, from its session JWT: the user for rules and the audit log, never the token."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

from gateway.accounts import account_from_jwt, account_from_request
from gateway.audit import build_audit_event
from gateway.cache import ReportCache
from gateway.metrics import GatewayMetrics
from gateway.pipeline import RequestHead, UploadPipeline, UploadRequest
from gateway.policy import PolicyStore
from gateway.warn import WarnOverrides
from tests.support.images import text_image
from tests.support.inspection import EMAIL_FINDING, ScriptedInspection

POLICY = Path(__file__).parent / "policies" / "e2e.yaml"
PII = text_image(["Contact: jane.doe@corpmail.com"], size=(400, 120))


def jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_account_claims_of_the_apps_tokens():
    assert account_from_jwt(jwt({"email": "Alice@Corp.Example"})) == "alice@corp.example"
    assert account_from_jwt(jwt({"upn": "bob@corp.example", "name": "Bob"})) == "bob@corp.example"  # Entra ID
    chatgpt = jwt({"https://api.openai.com/profile": {"email": "carol@gmail.com", "email_verified": True}})
    assert account_from_jwt(chatgpt) == "carol@gmail.com"
    assert account_from_jwt(jwt({"sub": "12345", "preferred_username": "not an e-mail"})) is None
    for bad in ("sk-proj-abc", "a.b", "x.!!!.y", jwt({"email": "a@b.c"})[:-1] + ".extra", "a." * 10000 + "b"):
        assert account_from_jwt(bad) is None


def test_accounts_come_from_a_bearer_header_or_the_websocket_url_token():
    token = jwt({"email": "dave@corp.example"})
    assert account_from_request({"authorization": f"Bearer {token}"}) == "dave@corp.example"
    assert account_from_request({}, f"/c/api/chat?api-version=2&accessToken={token}") == "dave@corp.example"
    assert account_from_request({"authorization": "Basic dXNlcjpwYXNz"}, "/upload") is None
    assert account_from_request({"authorization": "Bearer sk-ant-api03-xyz"}) is None  # an API key is no account


def decide(headers: dict[str, str], proxy_user: str | None = None):
    p = UploadPipeline(PolicyStore(POLICY), ScriptedInspection({PII: [EMAIL_FINDING]}), GatewayMetrics(),
                       ReportCache(), WarnOverrides())
    req = UploadRequest("PUT", "files.oaiusercontent.com", "/file", {"content-type": "image/png", **headers},
                        "10.1.2.3", proxy_user, body_size=len(PII), body=PII)
    return asyncio.run(p.handle(req, p.screen(req).destination))


def test_the_signed_in_account_is_the_user_for_rules_and_audit_but_never_the_token():
    token = jwt({"email": "alice@corp.example"})  # alice is in the policy's dlp-exempt group
    result = decide({"authorization": f"Bearer {token}"})
    assert result.record.decision.rule == "audit-exempt-users"
    ctx = result.record.context
    assert (ctx.user, ctx.user_source, "dlp-exempt" in ctx.groups) == ("alice@corp.example", "session_token", True)
    event = build_audit_event(ctx, result.record.decision, result.record.reports, "i", 0.1, "v")
    assert event.user == "alice@corp.example" and event.user_source == "session_token"
    assert token not in event.to_json() and token.split(".")[1] not in event.to_json()
    personal = decide({"authorization": f"Bearer {jwt({'email': 'alice@gmail.com'})}"})
    assert personal.record.decision.rule == "block-pii" and personal.record.context.user == "alice@gmail.com"


def test_proxy_authentication_and_the_sso_header_win_over_the_app_account():
    token = jwt({"email": "alice@corp.example"})
    by_proxy = decide({"authorization": f"Bearer {token}"}, proxy_user="mallory@corp.example")
    assert by_proxy.record.context.user == "mallory@corp.example" and by_proxy.record.decision.rule == "block-pii"
    assert by_proxy.record.context.user_source == "proxy_auth"
    by_header = decide({"authorization": f"Bearer {token}", "x-auth-user": "erin@corp.example"})
    assert (by_header.record.context.user, by_header.record.context.user_source) == ("erin@corp.example", "header")


def test_a_warn_grant_is_bound_to_the_client_not_to_the_app_account():
    from gateway.pipeline import _warn_identity
    from gateway.models import RequestContext

    ctx = RequestContext("h", "/", "PUT", "d", client_ip="10.0.0.9", user="a@b.example", user_source="session_token")
    assert _warn_identity(ctx) == "10.0.0.9"  # the proceed click reaches the gateway without the app's token
    assert _warn_identity(RequestContext("h", "/", "PUT", "d", "10.0.0.9", "a@b.example", user_source="header")) == "a@b.example"


def test_an_allow_list_of_corporate_account_domains_is_a_users_glob(tmp_path):
    policy = tmp_path / "accounts.yaml"
    policy.write_text(POLICY.read_text().replace("rules:\n", """rules:
  - name: block-personal-accounts
    destinations: [openai]
    action: block
    unless: {users: ["*@corp.example"]}
""", 1))
    p = UploadPipeline(PolicyStore(policy), ScriptedInspection(), GatewayMetrics(), ReportCache(), WarnOverrides())
    clean = text_image(["Quarterly roadmap"], size=(300, 80))

    def rule(email: str) -> str | None:
        req = UploadRequest("PUT", "files.oaiusercontent.com", "/f", {
            "content-type": "image/png", "authorization": f"Bearer {jwt({'email': email})}"}, "10.1.2.3",
            body_size=len(clean), body=clean)
        return asyncio.run(p.handle(req, "openai")).record.decision.rule

    assert rule("frank@gmail.com") == "block-personal-accounts"
    assert rule("frank@corp.example") is None  # no rule matched: default allow
