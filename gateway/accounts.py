"""The account a user is signed in to an AI app with, read from the app's session token: who sent an upload when
no proxy authentication or SSO header says so.

Many apps send a JWT on every request: ChatGPT's web app and Microsoft 365 / Copilot (MSAL) as
`Authorization: Bearer <jwt>`, Copilot's chat WebSocket as `?accessToken=<jwt>` in its URL. Its payload names the
account (`email`, `upn`, `preferred_username`, `unique_name`; ChatGPT under `https://api.openai.com/profile`). Only
an e-mail-shaped value is taken, lower-cased; the token itself is never kept, logged or audited.

The signature is not checked (the gateway has no key for it), and it need not be: a forged claim only matters if the
service accepts the token, and the service checks the signature. So a user cannot borrow an exempt colleague's
account for an upload that the service would take; they can only make their own upload fail.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

MAX_TOKEN_CHARS = 16_384  # a JWT this long is not a session token: not read
CLAIMS = ("email", "upn", "preferred_username", "unique_name")
NESTED = ("https://api.openai.com/profile",)  # objects whose `email` names the account
QUERY_TOKENS = ("accessToken", "access_token")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+$")


def account_from_request(headers: Mapping[str, str], path: str = "") -> str | None:
    """The signed-in account from the request's bearer JWT (headers with lower-case names) or its URL's access
    token, None when there is none."""
    for token in (_bearer(headers.get("authorization", "")), _query_token(path)):
        account = account_from_jwt(token) if token else None
        if account:
            return account
    return None


def account_from_jwt(token: str) -> str | None:
    """The e-mail-shaped account claim of a JWT's payload (unverified), lower-cased; None if it has none."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict):
        return None
    candidates = [payload.get(c) for c in CLAIMS]
    candidates += [n.get("email") for n in (payload.get(k) for k in NESTED) if isinstance(n, dict)]
    for value in candidates:
        if isinstance(value, str) and len(value) <= 254 and _EMAIL.match(value):
            return value.lower()
    return None


def _bearer(value: str) -> str | None:
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _query_token(path: str) -> str | None:
    if "?" not in path:
        return None
    query = parse_qs(urlsplit(path).query)
    for name in QUERY_TOKENS:
        if query.get(name):
            return query[name][0]
    return None
