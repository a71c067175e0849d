"""What the client sees when an upload is stopped: an error in the shape its API client expects, or an HTML page.

Proxy-free on purpose: returns (status, body, headers) for the addon to send, so it is testable on its own.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from gateway.models import Action, Decision

# API hosts whose clients parse a provider-specific error object.
API_ERROR_STYLES: dict[str, str] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "google",
    "api.stability.ai": "openai",
}


@dataclass(frozen=True)
class BlockResponse:
    status: int
    body: bytes
    headers: dict[str, str]


def block_message(decision: Decision, incident_id: str) -> str:
    """The sentence a blocked or warned user reads (never detected text)."""
    what = "blocked" if decision.action is Action.BLOCK else "held for confirmation"
    return (
        f"This upload was {what} by your organisation's data loss prevention policy "
        f"(rule: {decision.rule or 'default'}; incident: {incident_id}). {decision.reason}"
    )


def wants_html(accept: str, sec_fetch_mode: str = "") -> bool:
    """A browser navigation (form post) gets a page; fetch/XHR and API clients get JSON."""
    return sec_fetch_mode == "navigate" or ("text/html" in accept and "application/json" not in accept)


def block_response(
    host: str, decision: Decision, incident_id: str, accept: str = "", sec_fetch_mode: str = "", proceed_url: str = ""
) -> BlockResponse:
    """The answer for a blocked (or warned) upload. Never contains detected text: Decision.reason does not."""
    headers = {
        "X-DLP-Action": decision.action.value,
        "X-DLP-Rule": decision.rule or "",
        "X-DLP-Incident": incident_id,
        "Cache-Control": "no-store",
    }
    message = block_message(decision, incident_id)
    style = API_ERROR_STYLES.get(host.lower())
    if style is None and wants_html(accept, sec_fetch_mode):
        headers["Content-Type"] = "text/html; charset=utf-8"
        return BlockResponse(403, _html_page(decision, incident_id, proceed_url).encode(), headers)
    headers["Content-Type"] = "application/json"
    extra = {"rule": decision.rule, "incident_id": incident_id}
    if proceed_url:
        extra["proceed_url"] = proceed_url
    if style == "anthropic":
        body = {"type": "error", "error": {"type": "permission_error", "message": message, **extra}}
    elif style == "google":
        body = {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED", "details": [extra]}}
    else:  # OpenAI's shape is what most chat web apps and SDKs understand
        body = {"error": {"message": message, "type": "dlp_policy_violation", "code": "dlp_blocked", "param": None, **extra}}
    return BlockResponse(403, json.dumps(body).encode(), headers)


def _html_page(decision: Decision, incident_id: str, proceed_url: str) -> str:
    rule = html.escape(decision.rule or "default")
    reason = html.escape(decision.reason)
    proceed = ""
    if proceed_url:
        proceed = (
            '<p>If this upload is part of your work and allowed, you may continue. Your choice is recorded.</p>'
            f'<p><a class="button" href="{html.escape(proceed_url)}">Proceed anyway</a> and then send the upload again.</p>'
        )
    title = "Upload blocked" if decision.action is Action.BLOCK else "Check this upload"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} by data protection policy</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{color:#b00020}} code{{background:#f3f3f3;padding:0 .3em}} .button{{background:#b00020;color:#fff;padding:.5em 1em;
text-decoration:none;border-radius:4px}} footer{{margin-top:3rem;color:#666;font-size:.9em}}</style></head>
<body><h1>{title}</h1>
<p>Your organisation's data loss prevention gateway stopped an image upload to an AI service because it appears to
contain sensitive information (for example personal data, identity documents, faces or credentials).</p>
<p><strong>Why:</strong> {reason}</p>
<p><strong>Rule:</strong> <code>{rule}</code><br><strong>Incident id:</strong> <code>{incident_id}</code></p>
{proceed}
<p>Remove the sensitive parts of the image and try again, or contact your security team and quote the incident id.</p>
<footer>DLP upload gateway</footer></body></html>
"""
