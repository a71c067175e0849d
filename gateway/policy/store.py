"""Atomic hot reload: validate the new policy completely, then swap one reference. A broken edit keeps the old."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable

from gateway.policy.errors import PolicyError
from gateway.policy.loader import load_policy
from gateway.policy.model import Policy

log = logging.getLogger(__name__)

ReloadCallback = Callable[[Policy | None, bool, str], None]  # (new policy or None, success, error text)


def _fingerprint(files: tuple[str, ...]) -> tuple:
    """mtime/size of every file; cheap to poll."""
    out = []
    for f in files:
        try:
            st = os.stat(f)
            out.append((f, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((f, None, None))
    return tuple(out)


def _content_hash(files: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for f in files:
        try:
            with open(f, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


class PolicyStore:
    """Holds the current policy. Start-up with a bad policy raises PolicyError; later bad edits are refused."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self.on_reload: list[ReloadCallback] = []
        self.last_error: str = ""
        self._lock = threading.Lock()
        self._current = load_policy(self.path)
        self._files = self._watched(self._current)
        self._seen = (_fingerprint(self._files), _content_hash(self._files))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> Policy:
        return self._current  # a plain reference read: always a whole, validated policy

    def _watched(self, policy: Policy) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.path,) + tuple(policy.source_files)))

    def reload(self) -> bool:
        """Load and validate the file again; swap on success. On failure keep the old policy and return False."""
        with self._lock:
            files = self._files
            seen = (_fingerprint(files), _content_hash(files))
            try:
                policy = load_policy(self.path)
            except PolicyError as exc:
                self._seen = seen
                self.last_error = str(exc)
                log.error("policy reload failed, keeping version %s:\n%s", self._current.version_id, exc)
                self._notify(None, False, self.last_error)
                return False
            except Exception as exc:  # never let a reload take the gateway down
                self._seen = seen
                self.last_error = f"unexpected error: {exc!r}"
                log.exception("policy reload failed, keeping version %s", self._current.version_id)
                self._notify(None, False, self.last_error)
                return False
            old = self._current
            if policy.version_id != old.version_id:
                self._current = policy
                log.info("policy %s reloaded: version %s -> %s", policy.name, old.version_id, policy.version_id)
            self._files = self._watched(self._current)
            self._seen = (_fingerprint(self._files), _content_hash(self._files))
            self.last_error = ""
            current = self._current
        self._notify(current, True, "")
        return True

    def _notify(self, policy: Policy | None, ok: bool, error: str) -> None:
        for callback in list(self.on_reload):
            try:
                callback(policy, ok, error)
            except Exception:
                log.exception("policy reload callback failed")

    def check(self) -> bool | None:
        """Reload if a watched file changed (mtime/size, then content hash). Returns reload()'s result or None."""
        fingerprint = _fingerprint(self._files)
        if fingerprint == self._seen[0]:
            return None
        if _content_hash(self._files) == self._seen[1]:
            self._seen = (fingerprint, self._seen[1])  # touched, not changed
            return None
        return self.reload()

    def start_watching(self, interval: float = 1.0) -> None:
        """Poll the policy (and its groups file) in a daemon thread. SIGHUP should call reload() directly."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.check()
                except Exception:
                    log.exception("policy watcher error")

        self._thread = threading.Thread(target=loop, name="policy-watcher", daemon=True)
        self._thread.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
