"""Chunked and resumable upload sessions: one module per protocol, and the store that holds their chunks.

A chunk of a file is not a file: the gateway holds every chunk of a session (gateway.sessions.store), answers the
client as the service would, judges the reassembled file at the last chunk through the same path as a raw upload
(gateway.pipeline), then replays the held chunks upstream unchanged and in order, or refuses them all.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.sessions.content_range import ContentRange
from gateway.sessions.google_resumable import GoogleResumable
from gateway.sessions.pieces import HeldRequest, Piece, PieceKind, Reply, UploadProtocol, key_from_url, session_key
from gateway.sessions.store import SessionLimitExceeded, SessionLimits, SessionStore, UploadSession

PROTOCOLS: dict[str, UploadProtocol] = {p.NAME: p for p in (GoogleResumable(), ContentRange())}

__all__ = ["HeldRequest", "Piece", "PieceKind", "PROTOCOLS", "Reply", "SessionLimitExceeded", "SessionLimits",
           "SessionStore", "UploadSession", "key_from_url", "read_piece", "session_key"]


def read_piece(method: str, host: str, path: str, headers: Mapping[str, str], known: bool) -> Piece | None:
    """The session piece this request is, by the first protocol that claims it; None for an ordinary request.

    `known`: the store already holds a session at this URL (a bare GET/DELETE is then a status query / cancel)."""
    for protocol in PROTOCOLS.values():
        piece = protocol.read(method, host, path, headers, known)
        if piece is not None:
            return piece
    return None
