"""Google's resumable upload protocol (`x-goog-upload-*`), as Gemini (push.clients6.google.com,
content-push.googleapis.com) and other Google apps use it.

1. `POST` with `x-goog-upload-command: start` (+ `x-goog-upload-header-content-length` / `-content-type`): opens
   the session upstream; its body is metadata, not the file. It is forwarded (judged like any request), and the
   upstream's answer (`x-goog-upload-status: active`, `x-goog-upload-url`) names the session URL.
2. `POST <session URL>` with `x-goog-upload-command: upload` and `x-goog-upload-offset: N`: file bytes. The gateway
   holds them and answers as the service does to an accepted chunk: `200`, `x-goog-upload-status: active` and
   `x-goog-upload-size-received` (the bytes held so far). (`308` is the JSON-API flavour of Google resumable
   uploads with `Content-Range`; that one is gateway.sessions.content_range.)
3. `upload, finalize` (or `finalize`): the last bytes; the whole file is judged, then the held `upload` requests are
   replayed upstream in order and this one is forwarded.
`query` is answered by the gateway (it holds the bytes, the upstream has none yet); `cancel` is forwarded.
`start, upload, finalize` in one request carries the whole file: that is an ordinary upload, not a session.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.sessions.pieces import Piece, PieceKind, Reply, SessionView, key_from_url, session_key

NAME = "google_resumable"
COMMAND = "x-goog-upload-command"


def _commands(value: str) -> frozenset[str]:
    return frozenset(c.strip().lower() for c in value.split(",") if c.strip())


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


class GoogleResumable:
    NAME = NAME

    def read(self, method: str, host: str, path: str, headers: Mapping[str, str], known: bool) -> Piece | None:
        value = headers.get(COMMAND)
        if value is None:
            return None
        commands = _commands(value)
        key = session_key(host, path)
        if "start" in commands:
            if commands & {"upload", "finalize"}:
                return None  # the whole file in one request: an ordinary upload
            return Piece(NAME, PieceKind.START, key, total=_int(headers.get("x-goog-upload-header-content-length")),
                         content_type=headers.get("x-goog-upload-header-content-type"))
        if "cancel" in commands:
            return Piece(NAME, PieceKind.CANCEL, key)
        if commands == {"query"}:
            return Piece(NAME, PieceKind.QUERY, key)
        if commands <= {"upload", "finalize"} and commands:
            offset = _int(headers.get("x-goog-upload-offset"))
            if offset is None and "x-goog-upload-offset" in headers:
                return Piece(NAME, PieceKind.INVALID, key, detail="unreadable x-goog-upload-offset")
            kind = PieceKind.FINAL if "finalize" in commands else PieceKind.CHUNK
            return Piece(NAME, kind, key, offset=offset)
        return Piece(NAME, PieceKind.INVALID, key, detail=f"unknown x-goog-upload-command {value[:40]!r}")

    def opens(self, piece: Piece) -> bool:
        return False  # only a start the gateway saw opens a session: a chunk of an unknown one is refused

    @staticmethod
    def session_url_key(status: int, headers: Mapping[str, str]) -> str | None:
        """The session key from the upstream's answer to a start, None when it opened no session."""
        if not 200 <= status < 300 or headers.get("x-goog-upload-status", "").lower() != "active":
            return None
        url = headers.get("x-goog-upload-url")
        return key_from_url(url) if url else None

    def interim(self, host: str, session: SessionView) -> Reply:
        return Reply(200, self._status_headers(session))

    def status(self, host: str, session: SessionView) -> Reply:
        return Reply(200, self._status_headers(session))

    def mismatch(self, host: str, session: SessionView, detail: str) -> Reply:
        headers = {**self._status_headers(session), "content-type": "text/plain; charset=utf-8"}
        return Reply(400, headers, f"{detail}; query the upload status and resume".encode())

    def accepts(self, status: int, headers: Mapping[str, str]) -> bool:
        return 200 <= status < 300 and headers.get("x-goog-upload-status", "active").lower() == "active"

    @staticmethod
    def _status_headers(session: SessionView) -> dict[str, str]:
        return {"x-goog-upload-status": "active", "x-goog-upload-size-received": str(session.received),
                "content-length": "0", "cache-control": "no-store"}
