"""Clients that just sent a decompression bomb: their next encoded bodies are refused without being decoded.

Refusing a bomb costs the gateway the CPU time to decode it up to `max_body_bytes`; a client sending them back to
back would keep a core busy. Browsers and the AI services' SDKs do not compress request bodies, so refusing a
bomb sender's encoded bodies for a while costs nobody legitimate anything. Only used where the policy's on_error
is block: with on_error allow, a refusal would be a way past inspection.
"""

from __future__ import annotations

import time
from collections.abc import Callable

COOLDOWN_SECONDS = 30.0
MAX_CLIENTS = 10_000  # bounded memory under a spoofed-source flood: the oldest entries go first


class BombCooldown:
    """Per client address: until when its encoded bodies are refused."""

    def __init__(self, seconds: float = COOLDOWN_SECONDS, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS) -> None:
        self.seconds = seconds
        self._clock = clock
        self._max = max_clients
        self._until: dict[str, float] = {}  # insertion order = marking order

    def mark(self, client_ip: str) -> None:
        """`client_ip` sent a body that decoded past the limit."""
        if not client_ip or self.seconds <= 0:
            return
        now = self._clock()
        self._until.pop(client_ip, None)
        self._until[client_ip] = now + self.seconds
        for ip in [ip for ip, until in self._until.items() if until <= now]:
            del self._until[ip]
        while len(self._until) > self._max:
            del self._until[next(iter(self._until))]

    def remaining(self, client_ip: str) -> float:
        """Seconds left in `client_ip`'s cooldown; 0 when it has none."""
        until = self._until.get(client_ip)
        return max(0.0, until - self._clock()) if until is not None else 0.0
