"""Recorded upload requests of the AI apps (tests/fixtures/apps/<app>/request.json), with a file put in.

A fixture is one request as the app's web client sends it: method, URL, headers and body. The file's bytes are
a placeholder, so that no binary is committed and a test can upload any image the same way: `{{file}}` (the raw
bytes), `{{file:base64}}` (standard base64), `{{file:size}}` (its length in bytes, e.g. in a header).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gateway.models import HttpRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
APPS = sorted(p.name for p in FIXTURES.iterdir() if (p / "request.json").exists())


@dataclass(frozen=True)
class AppRequest:
    app: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def http_request(self) -> HttpRequest:
        return HttpRequest(self.method, self.host, self.path, {k.lower(): v for k, v in self.headers.items()})


def app_request(app: str, file: bytes) -> AppRequest:
    """The recorded request of `app` carrying `file`."""
    raw = json.loads((FIXTURES / app / "request.json").read_text())
    values = {"{{file:base64}}": base64.b64encode(file), "{{file:size}}": str(len(file)).encode(), "{{file}}": file}
    headers = {k: _fill(v.encode(), values).decode() for k, v in raw["headers"].items()}
    body = _fill(raw["body"].encode("utf-8"), values)
    return AppRequest(app, raw["method"], raw["url"], headers, body)


def _fill(template: bytes, values: dict[str, bytes]) -> bytes:
    for marker, value in values.items():
        template = template.replace(marker.encode(), value)
    return template
