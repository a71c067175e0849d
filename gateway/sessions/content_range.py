"""Upload sessions whose chunks say where they go with `Content-Range: bytes FIRST-LAST/TOTAL`.

Microsoft Graph / SharePoint / OneDrive (`createUploadSession`, then PUT chunks to `*.sharepoint.com`), and the JSON
API flavour of Google Cloud Storage resumable uploads (`*.googleapis.com`, `TOTAL` may be `*` until the last chunk).
A chunk starting at 0 opens the session at its URL (the service handed the URL out in an earlier JSON answer: the
session is the URL). Chunks must follow each other (`FIRST` = bytes held so far). The chunk whose `LAST` is
`TOTAL - 1` is the last: the file is judged, the held chunks are replayed upstream in order, then that one goes.
A single request with the whole range (`bytes 0-(N-1)/N`) is an ordinary upload, not a session.

While bytes are held the gateway answers as the service does: Graph `202 Accepted` with `nextExpectedRanges`,
Google Cloud Storage `308` with `Range: bytes=0-LAST`. `GET` (Graph) or `PUT` with `bytes */TOTAL` (GCS) asks for
the status; `DELETE` cancels and is forwarded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone

from gateway.sessions.pieces import Piece, PieceKind, Reply, SessionView, session_key

NAME = "content_range"
_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.I)
_GCS_SUFFIXES = (".googleapis.com", ".storage.googleapis.com")


def _gcs(host: str) -> bool:
    host = host.lower()
    return host == "storage.googleapis.com" or host.endswith(_GCS_SUFFIXES)


class ContentRange:
    NAME = NAME

    def read(self, method: str, host: str, path: str, headers: Mapping[str, str], known: bool) -> Piece | None:
        key = session_key(host, path)
        method = method.upper()
        value = headers.get("content-range")
        if value is None:
            if known and method == "GET":
                return Piece(NAME, PieceKind.QUERY, key)
            if known and method == "DELETE":
                return Piece(NAME, PieceKind.CANCEL, key)
            return None
        if method not in ("PUT", "POST", "PATCH"):
            return None
        match = _RANGE.match(value)
        if match is None:
            return Piece(NAME, PieceKind.INVALID, key, detail=f"unreadable Content-Range {value[:40]!r}")
        first, last, total_text = match.groups()
        total = None if total_text == "*" else int(total_text)
        if first is None:  # bytes */TOTAL: a status query
            return Piece(NAME, PieceKind.QUERY, key, total=total)
        first_i, last_i = int(first), int(last)
        if last_i < first_i or (total is not None and last_i >= total):
            return Piece(NAME, PieceKind.INVALID, key, detail=f"impossible Content-Range {value[:40]!r}")
        final = total is not None and last_i + 1 == total
        if final and first_i == 0:
            return None  # the whole file in one request
        kind = PieceKind.FINAL if final else PieceKind.CHUNK
        return Piece(NAME, kind, key, offset=first_i, length=last_i - first_i + 1, total=total)

    def opens(self, piece: Piece) -> bool:
        return piece.kind is PieceKind.CHUNK and piece.offset == 0

    def session_url_key(self, status: int, headers: Mapping[str, str]) -> str | None:
        return None  # the session URL came in a JSON answer earlier; its first chunk opens the session here

    def interim(self, host: str, session: SessionView) -> Reply:
        if _gcs(host):
            return self._gcs_incomplete(session)
        return self._graph(202, session)

    def status(self, host: str, session: SessionView) -> Reply:
        return self._gcs_incomplete(session) if _gcs(host) else self._graph(200, session)

    def mismatch(self, host: str, session: SessionView, detail: str) -> Reply:
        if _gcs(host):
            return self._gcs_incomplete(session)  # GCS answers a wrong offset with the range it has
        body = {"error": {"code": "invalidRange", "message": f"{detail}; expected bytes from {session.received}"}}
        return Reply(416, {"content-type": "application/json", "cache-control": "no-store"}, json.dumps(body).encode())

    def accepts(self, status: int, headers: Mapping[str, str]) -> bool:
        return 200 <= status < 300 or status == 308

    @staticmethod
    def _graph(status: int, session: SessionView) -> Reply:
        expires = datetime.fromtimestamp(session.expires_at_wall, timezone.utc)
        body = {"expirationDateTime": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "nextExpectedRanges": [f"{session.received}-"]}
        return Reply(status, {"content-type": "application/json", "cache-control": "no-store"},
                     json.dumps(body).encode())

    @staticmethod
    def _gcs_incomplete(session: SessionView) -> Reply:
        headers = {"content-length": "0", "cache-control": "no-store"}
        if session.received:
            headers["range"] = f"bytes=0-{session.received - 1}"
        return Reply(308, headers)
