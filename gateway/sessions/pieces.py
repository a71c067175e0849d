"""What every upload-session protocol shares: the pieces a request can be, and the answers the gateway gives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol
from urllib.parse import urlsplit


class PieceKind(str, Enum):
    START = "start"  # opens a session upstream; carries no file bytes (Google `start`)
    CHUNK = "chunk"  # file bytes, more to come
    FINAL = "final"  # the last file bytes (possibly none): the whole file can be judged now
    QUERY = "query"  # "how much did you get?": answered by the gateway, which holds the bytes
    CANCEL = "cancel"  # the client gives the upload up
    INVALID = "invalid"  # a session header the gateway cannot read: never forwarded


@dataclass(frozen=True)
class Piece:
    """One request of an upload session, as its protocol reads it from the request head."""

    protocol: str  # a protocol's NAME: "google_resumable", "content_range"
    kind: PieceKind
    key: str  # the session: host + path (with query) of the session URL
    offset: int | None = None  # where this request's bytes start in the file
    length: int | None = None  # bytes this request says it carries (Content-Range)
    total: int | None = None  # the file's size, when the client said it
    content_type: str | None = None  # the file's media type, when the client said it
    detail: str = ""  # why a piece is INVALID

    def to_json(self) -> dict:
        """Plain data (mitmproxy keeps it in flow.metadata, which it may write to a flow file)."""
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__}, "kind": self.kind.value}

    @classmethod
    def from_json(cls, data: dict) -> Piece:
        return cls(**{**data, "kind": PieceKind(data["kind"])})


@dataclass(frozen=True)
class Reply:
    """An answer the gateway gives in the service's place."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class HeldRequest:
    """A request exactly as it would have gone upstream, to be replayed once its upload is judged.

    Headers keep their order, case and repeats; `host`/`port` are the connection target, `authority` the request
    target's authority as mitmproxy keeps it (empty for the origin-form requests inside a CONNECT tunnel)."""

    method: str
    scheme: str
    host: str
    port: int
    authority: str
    path: str
    http_version: str
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = field(default=b"", repr=False)


class SessionView(Protocol):
    """What a protocol needs to know about a held session to answer for the service."""

    received: int
    total: int | None
    expires_at_wall: float  # Unix time the gateway drops the session if nothing more arrives


class UploadProtocol(Protocol):
    """One chunked/resumable upload protocol: reads pieces and answers as the service would while bytes are held."""

    NAME: str

    def read(self, method: str, host: str, path: str, headers: Mapping[str, str], known: bool) -> Piece | None: ...

    def opens(self, piece: Piece) -> bool: ...

    def interim(self, host: str, session: SessionView) -> Reply: ...

    def status(self, host: str, session: SessionView) -> Reply: ...

    def mismatch(self, host: str, session: SessionView, detail: str) -> Reply: ...

    def accepts(self, status: int, headers: Mapping[str, str]) -> bool: ...

    def session_url_key(self, status: int, headers: Mapping[str, str]) -> str | None: ...


def session_key(host: str, path: str) -> str:
    """host (lower case, no port) + path with query: the same for the URL a service hands out and the requests to it."""
    host = host.lower().rstrip(".")
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host + (path or "/")


def key_from_url(url: str) -> str | None:
    """session_key of an absolute URL (e.g. Google's x-goog-upload-url); None when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    path = parts.path or "/"
    return session_key(parts.hostname, path + (f"?{parts.query}" if parts.query else ""))
