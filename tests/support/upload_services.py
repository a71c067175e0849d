"""The upload protocols of real services, spoken minimally by the recording upstream (tests/support/upstream.py).

Google resumable (`x-goog-upload-*`) and Microsoft Graph upload sessions (`Content-Range` PUTs): enough for a
client to upload a file in chunks, and strict about offsets, so a gateway that reorders, drops or duplicates a
chunk is caught. Each finished file is kept in `files` (session URL path -> bytes).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re

from tests.support.upstream import Received

_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class UploadServices:
    """A RecordingUpstream responder: `RecordingUpstream(dir, responder=UploadServices())`."""

    def __init__(self) -> None:
        self.partial: dict[str, bytearray] = {}
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)

    def __call__(self, got: Received) -> tuple[int, dict[str, str], bytes] | None:
        headers = {k.lower(): v for k, v in got.headers.items()}
        if "x-goog-upload-command" in headers:
            return self._google(got, headers)
        if "content-range" in headers and got.method == "PUT":
            return self._graph(got, headers)
        return None

    def _google(self, got: Received, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        commands = {c.strip() for c in headers["x-goog-upload-command"].split(",")}
        if "start" in commands:
            path = f"/upload/?upload_id=srv{next(self._ids)}&upload_protocol=resumable"
            self.partial[path] = bytearray()
            return 200, {"x-goog-upload-status": "active", "x-goog-upload-url": f"https://{got.host}{path}",
                         "x-goog-upload-chunk-granularity": "262144"}, b""
        held = self.partial.get(got.path)
        if held is None:
            return 404, {"x-goog-upload-status": "final"}, b"no such upload"
        if int(headers.get("x-goog-upload-offset", len(held))) != len(held):
            return 400, {"x-goog-upload-status": "active", "x-goog-upload-size-received": str(len(held))}, b""
        held += got.body
        if "finalize" not in commands:
            return 200, {"x-goog-upload-status": "active", "x-goog-upload-size-received": str(len(held))}, b""
        return self._finish(got.path, {"x-goog-upload-status": "final"}, 200)

    def _graph(self, got: Received, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        first, last, total = _RANGE.match(headers["content-range"]).groups()
        held = self.partial.setdefault(got.path, bytearray()) if first == "0" else self.partial.get(got.path)
        if held is None or int(first) != len(held) or int(last) - int(first) + 1 != len(got.body):
            return 416, {"content-type": "application/json"}, b'{"error": {"code": "invalidRange"}}'
        held += got.body
        if total != "*" and len(held) == int(total):
            return self._finish(got.path, {"content-type": "application/json"}, 201)
        body = json.dumps({"nextExpectedRanges": [f"{len(held)}-"]}).encode()
        return 202, {"content-type": "application/json"}, body

    def _finish(self, path: str, headers: dict[str, str], status: int) -> tuple[int, dict[str, str], bytes]:
        data = bytes(self.partial.pop(path))
        self.files[path] = data
        body = json.dumps({"id": f"file-{len(self.files)}", "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest()}).encode()
        return status, {**headers, "content-type": "application/json"}, body
