"""Held chunks of upload sessions: bounded memory, spilling to private temporary files, with caps and expiry.

Nothing here knows HTTP or a protocol. A session is a list of held requests whose bodies, concatenated, are the file
received so far. Bodies stay in memory while every session's in-memory bytes fit `memory_bytes`; beyond that a chunk
goes to its session's spill file: created 0600 in a 0700 directory made for this process, unlinked at once (so no
other process can open it by name and nothing is left behind by a crash), read back with pread. `total_bytes` caps
everything held (memory and disk), the per-session cap comes from the caller (the policy's max_body_bytes). A
session untouched for `timeout_seconds` is dropped by `sweep`, its memory and file freed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.sessions.pieces import HeldRequest


@dataclass(frozen=True)
class SessionLimits:
    """How much the gateway holds for upload sessions, and for how long."""

    memory_bytes: int = 64 * 2**20  # held bytes kept in memory, all sessions together; more spills to disk
    total_bytes: int = 1024 * 2**20  # held bytes in memory and on disk, all sessions together
    timeout_seconds: float = 900.0  # a session with no request for this long is dropped
    directory: str = ""  # where the private spill directory is made ("" = the system temporary directory)


class SessionLimitExceeded(Exception):
    """A chunk the gateway will not hold: the session or all sessions together are over their cap."""


@dataclass
class _Chunk:
    head: HeldRequest  # body=b"": the body lives in `data` or in the spill file
    length: int
    data: bytes | None  # in memory, or None when spilled
    disk_offset: int = -1


@dataclass
class UploadSession:
    """One upload being reassembled. `received` counts the file bytes held so far."""

    key: str
    protocol: str
    upload_id: str
    destination: str | None
    content_type: str | None = None
    total: int | None = None  # the file size the client declared, if it did
    received: int = 0
    pieces: int = 0  # requests of this session seen so far (start included)
    passthrough: bool = False  # on_error allowed it uninspected: later pieces are forwarded as they come
    busy: bool = False  # being judged or replayed: never expired under the caller's feet
    touched: float = 0.0
    expires_at_wall: float = 0.0
    chunks: list[_Chunk] = field(default_factory=list, repr=False)
    _spill: int = field(default=-1, repr=False)  # file descriptor of the spill file, -1 when none
    _spill_size: int = field(default=0, repr=False)


@dataclass(frozen=True)
class Refusal:
    """A session that was refused: later pieces get the same answer, never the upstream."""

    answer: Any
    upload_id: str
    touched: float


class SessionStore:
    """Upload sessions by key. Thread-safe; every method is quick except assemble/held on spilled sessions."""

    def __init__(self, limits: SessionLimits = SessionLimits(), clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._clock, self._wall = clock, wall
        self._sessions: dict[str, UploadSession] = {}
        self._refused: dict[str, Refusal] = {}
        self._lock = threading.RLock()
        self.memory_bytes = 0
        self.disk_bytes = 0
        self.expired_total = 0
        self._directory: str | None = None

    @property
    def directory(self) -> str:
        """The private spill directory (0700), made on first use; call it at start-up to fail loudly there."""
        with self._lock:
            if self._directory is None:
                self._directory = tempfile.mkdtemp(prefix="dlp-sessions-", dir=self.limits.directory or None)
            return self._directory

    # --- sessions ------------------------------------------------------------------------------------------

    def open(self, key: str, protocol: str, upload_id: str, destination: str | None,
             content_type: str | None = None, total: int | None = None, pieces: int = 1) -> UploadSession:
        """A new session at `key` (one already there, or a refusal, is dropped first)."""
        with self._lock:
            self._drop_locked(key)
            self._refused.pop(key, None)
            session = UploadSession(key, protocol, upload_id, destination, content_type, total, pieces=pieces)
            self._touch(session)
            self._sessions[key] = session
            return session

    def get(self, key: str) -> UploadSession | None:
        with self._lock:
            session = self._sessions.get(key)
            if session is not None:
                self._touch(session)
            return session

    def knows(self, key: str) -> bool:
        with self._lock:
            return key in self._sessions or key in self._refused

    def refusal(self, key: str) -> Refusal | None:
        with self._lock:
            return self._refused.get(key)

    def refuse(self, session: UploadSession, answer: Any) -> None:
        """Free the session's chunks and answer `answer` to any later piece until it expires."""
        with self._lock:
            self._drop_locked(session.key)
            self._refused[session.key] = Refusal(answer, session.upload_id, self._clock())

    def drop(self, key: str) -> None:
        with self._lock:
            self._drop_locked(key)

    def release_chunks(self, session: UploadSession) -> None:
        """Forget the held chunks (they went upstream) but keep the session."""
        with self._lock:
            self._free(session)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._sessions)

    # --- chunks --------------------------------------------------------------------------------------------

    def hold(self, session: UploadSession, request: HeldRequest, max_session_bytes: int) -> None:
        """Keep `request` (its body is the next file bytes) or raise SessionLimitExceeded (nothing is kept)."""
        size = len(request.body)
        with self._lock:
            if session.received + size > max_session_bytes:
                raise SessionLimitExceeded(f"upload session over {max_session_bytes} bytes (max_body_bytes)")
            if self.memory_bytes + self.disk_bytes + size > self.limits.total_bytes:
                raise SessionLimitExceeded(f"upload sessions hold over {self.limits.total_bytes} bytes together")
            head = replace(request, body=b"")
            if self.memory_bytes + size <= self.limits.memory_bytes:
                session.chunks.append(_Chunk(head, size, request.body))
                self.memory_bytes += size
            else:
                session.chunks.append(_Chunk(head, size, None, self._spill_write(session, request.body)))
                self.disk_bytes += size
            session.received += size
            self._touch(session)

    def held(self, session: UploadSession) -> Iterator[HeldRequest]:
        """The held requests in order, bodies read back one at a time."""
        for chunk in list(session.chunks):
            yield replace(chunk.head, body=self._body(session, chunk))

    def assemble(self, session: UploadSession) -> bytes:
        """The file bytes held so far."""
        return b"".join(self._body(session, chunk) for chunk in list(session.chunks))

    def mark_piece(self, session: UploadSession) -> None:
        with self._lock:
            session.pieces += 1
            self._touch(session)

    # --- expiry --------------------------------------------------------------------------------------------

    def sweep(self) -> list[UploadSession]:
        """Drop sessions (and refusals) idle for longer than the timeout; returns the dropped sessions."""
        deadline = self._clock() - self.limits.timeout_seconds
        with self._lock:
            old = [s for s in self._sessions.values() if s.touched < deadline and not s.busy]
            for session in old:
                self._drop_locked(session.key)
            for key in [k for k, r in self._refused.items() if r.touched < deadline]:
                del self._refused[key]
            self.expired_total += len(old)
            return old

    def close(self) -> None:
        """Free everything and remove the spill directory."""
        with self._lock:
            for key in list(self._sessions):
                self._drop_locked(key)
            self._refused.clear()
            directory, self._directory = self._directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    # --- internals -----------------------------------------------------------------------------------------

    def _touch(self, session: UploadSession) -> None:
        session.touched = self._clock()
        session.expires_at_wall = self._wall() + self.limits.timeout_seconds

    def _drop_locked(self, key: str) -> None:
        session = self._sessions.pop(key, None)
        if session is not None:
            self._free(session)

    def _free(self, session: UploadSession) -> None:
        for chunk in session.chunks:
            if chunk.data is not None:
                self.memory_bytes -= chunk.length
            else:
                self.disk_bytes -= chunk.length
        session.chunks = []
        if session._spill >= 0:
            os.close(session._spill)
            session._spill, session._spill_size = -1, 0

    def _spill_write(self, session: UploadSession, body: bytes) -> int:
        if session._spill < 0:
            fd, path = tempfile.mkstemp(prefix="upload-", dir=self.directory)  # mode 0600
            os.unlink(path)
            session._spill = fd
        offset = session._spill_size
        view = memoryview(body)
        while view:
            written = os.pwrite(session._spill, view, offset + len(body) - len(view))
            view = view[written:]
        session._spill_size += len(body)
        return offset

    def _body(self, session: UploadSession, chunk: _Chunk) -> bytes:
        if chunk.data is not None:
            return chunk.data
        with self._lock:
            if session._spill < 0:
                raise SessionLimitExceeded("the session was dropped while it was being read")
            return os.pread(session._spill, chunk.length, chunk.disk_offset)
