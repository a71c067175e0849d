"""The parsed policy: destinations, conditions, rules and the Policy object the addon asks for decisions."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from gateway.models import (
    Action,
    Decision,
    ImageReport,
    InspectionErrorKind,
    InspectOptions,
    Limits,
    RequestContext,
)
from gateway.policy.hosts import host_matches, host_regex, normalize_host, normalize_path

DEFAULT_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Destination:
    """A named group of upload endpoints. Only these are TLS-intercepted and inspected."""

    name: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...] = ()  # path prefixes; empty = any path
    methods: frozenset[str] = DEFAULT_METHODS
    tags: frozenset[str] = frozenset()

    def matches(self, host: str, path: str, method: str | None) -> bool:
        """method None: any method (the messages of a WebSocket to this place are uploads)."""
        if method is not None and method.upper() not in self.methods:
            return False
        if not any(host_matches(g, host) for g in self.hosts):
            return False
        return not self.paths or any(path.startswith(p) for p in self.paths)


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; None = unbounded."""

    min: float | None = None
    max: float | None = None

    def __contains__(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def __str__(self) -> str:
        if self.max is None:
            return f">={self.min:g}"
        if self.min is None:
            return f"<={self.max:g}"
        return f"{self.min:g}..{self.max:g}"


@dataclass(frozen=True)
class FindingFilter:
    """Which findings count: any of `entities` (None = any), from any of `sources`, with score >= min_score."""

    entities: frozenset[str] | None
    sources: frozenset[str] | None
    min_score: float
    min_count: int = 1

    def accepts(self, f) -> bool:
        return ((self.entities is None or f.entity in self.entities)
                and (self.sources is None or f.source in self.sources)
                and f.score >= self.min_score)


@dataclass(frozen=True)
class Condition:
    """Every key that is set must hold (AND). all/any/none combine nested conditions."""

    findings: FindingFilter | None = None
    destinations: frozenset[str] | None = None
    hosts: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    methods: frozenset[str] | None = None
    users: tuple[str, ...] | None = None  # lower-case globs
    groups: frozenset[str] | None = None
    clients: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None = None
    headers: tuple[tuple[str, tuple[str, ...]], ...] | None = None  # (lower-case name, value globs)
    image_count: Range | None = None
    total_bytes: Range | None = None
    image_bytes: Range | None = None
    image_pixels: Range | None = None
    formats: frozenset[str] | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    none: tuple[Condition, ...] | None = None

    def uses_findings(self) -> bool:
        """True if some finding filter can make this condition true (not only under `none`)."""
        if self.findings is not None:
            return True
        return any(c.uses_findings() for c in (self.all or ()) + (self.any or ()))


@dataclass(frozen=True)
class Rule:
    name: str
    action: Action
    destinations: frozenset[str] | None = None  # None = every destination
    when: Condition | None = None  # None = always
    unless: Condition | None = None
    scope: str = "image"  # "image": conditions hold within one image; "request": findings pooled over all images
    description: str = ""
    line: int = 0
    redact_fallback: Action = Action.BLOCK  # redact rules: the action for content that cannot be redacted

    @property
    def unconditional(self) -> bool:
        return self.when is None and self.unless is None


@dataclass(frozen=True)
class Identity:
    """Where user and groups come from. Headers must be set by a trusted component in front of the gateway."""

    user_header: str | None = None
    groups_header: str | None = None
    user_groups: dict[str, frozenset[str]] = field(default_factory=dict)  # user (lower-case) -> groups

    def groups_for(self, user: str | None, header_groups: str | None = None) -> frozenset[str]:
        """Groups of `user` from the groups file/inline table plus a comma-separated groups header value."""
        groups = set(self.user_groups.get((user or "").lower(), ()))
        if header_groups:
            groups.update(g.strip() for g in header_groups.split(",") if g.strip())
        return frozenset(groups)


class Policy:
    """A validated policy. Immutable once loaded; PolicyStore swaps whole objects on reload."""

    def __init__(self, *, name: str, path: str | None, version_id: str, limits: Limits, on_error: Action,
                 default_action: Action, min_score: float, inspect_options: InspectOptions,
                 destinations: tuple[Destination, ...], rules: tuple[Rule, ...], identity: Identity,
                 source_files: tuple[str, ...] = (), warnings: tuple = ()) -> None:
        self.name = name
        self.path = path
        self.version_id = version_id
        self.limits = limits
        self.on_error = on_error
        self.default_action = default_action
        self.min_score = min_score
        self.inspect_options = inspect_options
        self.destinations = destinations
        self.rules = rules
        self.identity = identity
        self.source_files = source_files  # every file whose change must trigger a reload
        self.warnings = list(warnings)

    def __repr__(self) -> str:
        return f"Policy(name={self.name!r}, version_id={self.version_id!r}, rules={len(self.rules)})"

    def destination_for(self, host: str, path: str, method: str | None) -> str | None:
        """Name of the first destination (file order) matching this request, or None if out of scope.
        method None matches any method (WebSocket messages)."""
        h, p = normalize_host(host), normalize_path(path)
        for dest in self.destinations:
            if dest.matches(h, p, method):
                return dest.name
        return None

    def intercept_host_patterns(self) -> list[str]:
        """Host globs to TLS-intercept: every host of every destination, sorted, no duplicates."""
        return sorted({g for d in self.destinations for g in d.hosts})

    def intercept_host_regexes(self) -> list[str]:
        """The same hosts as anchored regexes, ready for mitmproxy's `allow_hosts` option."""
        return [host_regex(g) for g in self.intercept_host_patterns()]

    def groups_for(self, user: str | None, header_groups: str | None = None) -> frozenset[str]:
        return self.identity.groups_for(user, header_groups)

    def decide(self, ctx: RequestContext, reports: list[ImageReport]) -> Decision:
        """First matching rule wins; see policies/README.md for how uninspectable images are handled."""
        from gateway.policy.evaluate import decide
        return decide(self, ctx, reports)

    def after_redaction_error(self, decision: Decision, kind: InspectionErrorKind, detail: str) -> Decision:
        """The decision when redacting failed: the rule's redact_fallback for content that cannot be redacted
        faithfully, on_error for anything else (a corrupt image, a timeout)."""
        if kind is InspectionErrorKind.NOT_REDACTABLE and decision.redact_fallback is not None:
            fallback = decision.redact_fallback
            return Decision(fallback, decision.rule, f"{decision.reason}; this content cannot be redacted faithfully "
                            f"({detail}): redact_fallback is {fallback.value}", matched=decision.matched)
        return Decision(self.on_error, "on_error", f"the upload could not be inspected ({kind.value}: redaction "
                        f"failed, {detail}); policy on_error is {self.on_error.value}")

    def decide_before_inspection(self, ctx: RequestContext) -> Decision | None:
        """The decision if it cannot depend on image content (e.g. an allowed corporate tenant), else None."""
        from gateway.policy.evaluate import decide_before_inspection
        return decide_before_inspection(self, ctx)
