"""What an app module declares: which requests are that app's uploads, and what in them the generic walk needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.extract.json_walk import GENERIC_JSON, JsonShape
from gateway.models import HttpRequest


@dataclass(frozen=True)
class AppShape:
    """One app's upload request, as public reverse-engineering of its web client shows it (issue 18).

    `carrier` names the generic shape that holds the file bytes ("raw", "multipart", "json"); each app's recorded
    fixture (tests/fixtures/apps/<name>/) is tested to be found that way.
    """

    name: str
    hosts: tuple[str, ...]  # exact host names
    path: re.Pattern[str]  # matched (re.match) against the path without its query string
    methods: frozenset[str]
    carrier: str
    json: JsonShape = GENERIC_JSON  # the keys the JSON walker reads by name in this app's bodies
    # Reads the file's id from the service's JSON answer to this request (gateway.extract.apps.file_ids), if known.
    file_id: Callable[[object], str | None] | None = None

    def matches(self, request: HttpRequest) -> bool:
        return (request.method.upper() in self.methods and bare_host(request.host) in self.hosts
                and self.path.match(request.path.split("?", 1)[0]) is not None)


def bare_host(host: str) -> str:
    """Lower case, without a port or a trailing dot (IPv6 literals never name an app)."""
    host = host.strip().lower()
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def path(pattern: str) -> re.Pattern[str]:
    """A path pattern anchored at both ends."""
    return re.compile(pattern + r"\Z")
