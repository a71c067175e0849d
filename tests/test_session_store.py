"""The upload-session store: bounded memory, private spill files, per-session and global caps, expiry."""

from __future__ import annotations

import os
import stat

import pytest

from gateway.sessions import HeldRequest, SessionLimitExceeded, SessionLimits, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def chunk(body: bytes, n: int = 0) -> HeldRequest:
    return HeldRequest("PUT", "https", "up.example", 443, "up.example", f"/s?part={n}", "HTTP/1.1",
                       ((b"Content-Range", f"bytes {n}-x/y".encode()), (b"X-Case", b"Kept")), body)


def store(tmp_path, clock=None, **limits) -> SessionStore:
    return SessionStore(SessionLimits(directory=str(tmp_path), **limits), clock=clock or Clock())


def test_chunks_stay_in_memory_under_the_budget_and_come_back_in_order(tmp_path):
    s = store(tmp_path, memory_bytes=1000)
    session = s.open("up.example/s", "content_range", "up-1", "dest")
    parts = [b"a" * 300, b"b" * 300, b"c" * 300]
    for n, body in enumerate(parts):
        s.hold(session, chunk(body, n), max_session_bytes=10_000)
    assert (s.memory_bytes, s.disk_bytes, session.received) == (900, 0, 900)
    assert s.assemble(session) == b"".join(parts)
    held = list(s.held(session))
    assert [h.body for h in held] == parts and [h.path for h in held] == ["/s?part=0", "/s?part=1", "/s?part=2"]
    assert held[0].headers == ((b"Content-Range", b"bytes 0-x/y"), (b"X-Case", b"Kept"))  # order and case kept


def test_over_the_memory_budget_chunks_spill_to_a_private_unlinked_file(tmp_path):
    s = store(tmp_path, memory_bytes=500)
    session = s.open("k", "google_resumable", "up-2", "dest")
    s.hold(session, chunk(b"1" * 400), 10_000)
    s.hold(session, chunk(b"2" * 400), 10_000)  # 800 > 500: on disk
    s.hold(session, chunk(b"3" * 50), 10_000)  # fits the memory budget again
    assert (s.memory_bytes, s.disk_bytes) == (450, 400)
    directory = s.directory
    assert os.path.dirname(directory) == str(tmp_path)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert os.listdir(directory) == []  # unlinked at once: nothing to open by name, nothing left after a crash
    fd = session._spill
    assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600 and os.fstat(fd).st_size == 400
    assert s.assemble(session) == b"1" * 400 + b"2" * 400 + b"3" * 50
    assert [h.body[:1] for h in s.held(session)] == [b"1", b"2", b"3"]
    s.drop("k")
    with pytest.raises(OSError):
        os.fstat(fd)  # the file is closed, its space freed
    assert (s.memory_bytes, s.disk_bytes, s.count) == (0, 0, 0)


def test_per_session_and_global_caps_refuse_a_chunk_and_keep_nothing_of_it(tmp_path):
    s = store(tmp_path, memory_bytes=100, total_bytes=1000)
    one = s.open("one", "content_range", "up-a", None)
    s.hold(one, chunk(b"x" * 600), max_session_bytes=700)
    with pytest.raises(SessionLimitExceeded, match="max_body_bytes"):
        s.hold(one, chunk(b"y" * 200), max_session_bytes=700)
    two = s.open("two", "content_range", "up-b", None)
    with pytest.raises(SessionLimitExceeded, match="together"):
        s.hold(two, chunk(b"z" * 500), max_session_bytes=10_000)
    assert (one.received, two.received, s.memory_bytes + s.disk_bytes) == (600, 0, 600)


def test_idle_sessions_expire_and_free_their_bytes_while_active_ones_stay(tmp_path):
    clock = Clock()
    s = store(tmp_path, clock=clock, memory_bytes=0, timeout_seconds=10)
    idle = s.open("idle", "content_range", "up-i", None)
    s.hold(idle, chunk(b"i" * 100), 1000)
    busy = s.open("busy", "content_range", "up-b", None)
    clock.now += 6
    s.hold(busy, chunk(b"b" * 100), 1000)
    clock.now += 6
    assert [x.key for x in s.sweep()] == ["idle"]
    assert s.get("idle") is None and s.get("busy") is busy and s.disk_bytes == 100
    assert s.expired_total == 1


def test_a_refused_session_keeps_its_answer_until_it_expires(tmp_path):
    clock = Clock()
    s = store(tmp_path, clock=clock, timeout_seconds=5)
    session = s.open("k", "google_resumable", "up-r", None)
    s.hold(session, chunk(b"q" * 10), 100)
    s.refuse(session, "the block")
    assert s.get("k") is None and s.refusal("k").answer == "the block" and s.knows("k")
    assert s.memory_bytes == 0
    clock.now += 6
    s.sweep()
    assert s.refusal("k") is None and not s.knows("k")


def test_reopening_a_key_drops_the_old_session_and_close_removes_the_directory(tmp_path):
    s = store(tmp_path, memory_bytes=0)
    first = s.open("k", "content_range", "up-1", None)
    s.hold(first, chunk(b"1" * 10), 100)
    second = s.open("k", "content_range", "up-2", None)
    assert s.get("k") is second and s.disk_bytes == 0
    s.hold(second, chunk(b"2" * 10), 100)
    directory = s.directory
    s.close()
    assert not os.path.exists(directory) and s.count == 0


def test_a_busy_session_is_not_expired_while_it_is_judged_or_replayed(tmp_path):
    clock = Clock()
    s = store(tmp_path, clock=clock, timeout_seconds=1)
    session = s.open("k", "content_range", "up-busy", None)
    s.hold(session, chunk(b"b" * 10), 100)
    session.busy = True
    clock.now += 5
    assert s.sweep() == [] and s.assemble(session) == b"b" * 10
    session.busy = False
    assert s.sweep() == [session]
