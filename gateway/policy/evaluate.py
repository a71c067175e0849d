"""Rule evaluation in three-valued logic: True, False, or None = "depends on an image we could not inspect".

An uninspectable image makes every finding condition about it unknown. The policy's on_error applies only when
such an unknown could have changed the outcome, so a block rule that matched another image still blocks, and a
rule that does not look at image content (e.g. an allowed corporate tenant) is not affected at all.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import math
from collections import Counter
from dataclasses import dataclass

from gateway.models import SEVERITY, Action, Decision, Finding, ImageReport, RequestContext
from gateway.policy.hosts import host_matches, normalize_host, normalize_path
from gateway.policy.model import Condition, Policy, Rule

Tri = bool | None
Hit = tuple[int, Finding, float]  # image index, finding, the min_score it passed


@dataclass
class _View:
    """The images one evaluation looks at: one image (scope image) or all of them (scope request)."""

    images: list[tuple[int, ImageReport]]
    unknown: bool  # some content in this view could not be inspected


class _Request:
    """Request facts, normalized once per decision."""

    def __init__(self, ctx: RequestContext, reports: list[ImageReport]) -> None:
        self.ctx = ctx
        self.host = normalize_host(ctx.host)
        self.path = normalize_path(ctx.path)
        self.method = ctx.method.upper()
        self.user = (ctx.user or "").lower()
        self.image_count = ctx.image_count or len(reports)
        self.total_bytes = ctx.total_image_bytes or sum(r.size_bytes for r in reports)
        # RequestContext.headers is optional: header conditions are false when the caller provides none
        raw_headers = getattr(ctx, "headers", None) or {}
        self.headers = {str(k).lower(): str(v) for k, v in dict(raw_headers).items()}
        try:
            self.ip = ipaddress.ip_address(ctx.client_ip) if ctx.client_ip else None
        except ValueError:
            self.ip = None


def _and(values: list[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _image_leaf(view: _View, value_of, rng_or_set) -> Tri:
    """True if some image in the view has a value in the range/set; unknown values count as unknown."""
    unknown = view.unknown and not view.images
    for _, report in view.images:
        value = value_of(report)
        if value is None:
            unknown = True
        elif value in rng_or_set:
            return True
    return None if unknown else False


def _pixels(r: ImageReport) -> float | None:
    if r.document is not None:
        return math.nan  # a document has no pixels: every pixel range is false for it
    return r.width * r.height if r.ok and r.width and r.height else None


def _format(r: ImageReport) -> str | None:
    return r.format.upper() if r.format else (None if not r.ok else "")


def _eval(cond: Condition, req: _Request, view: _View) -> tuple[Tri, list[Hit]]:
    results: list[Tri] = []
    hits: list[Hit] = []
    ff = cond.findings
    if ff is not None:
        # A document that failed part-way keeps what was found before: it counts (the rest is unknown).
        found = [(i, f, ff.min_score) for i, r in view.images for f in r.findings if ff.accepts(f)]
        if len(found) >= ff.min_count:
            results.append(True)
            hits += found
        else:
            results.append(None if view.unknown else False)
    ctx = req.ctx
    if cond.destinations is not None:
        results.append(ctx.destination in cond.destinations)
    if cond.hosts is not None:
        results.append(any(host_matches(g, req.host) for g in cond.hosts))
    if cond.paths is not None:
        results.append(any(req.path.startswith(p) for p in cond.paths))
    if cond.methods is not None:
        results.append(req.method in cond.methods)
    if cond.users is not None:
        results.append(bool(req.user) and any(fnmatch.fnmatchcase(req.user, u) for u in cond.users))
    if cond.groups is not None:
        results.append(bool(cond.groups & ctx.groups))
    if cond.clients is not None:
        results.append(req.ip is not None and any(req.ip in net for net in cond.clients))
    if cond.headers is not None:
        results.append(all(name in req.headers and any(fnmatch.fnmatchcase(req.headers[name], v) for v in values)
                           for name, values in cond.headers))
    if cond.image_count is not None:
        results.append(req.image_count in cond.image_count)
    if cond.total_bytes is not None:
        results.append(req.total_bytes in cond.total_bytes)
    if cond.image_bytes is not None:
        results.append(_image_leaf(view, lambda r: r.size_bytes, cond.image_bytes))
    if cond.image_pixels is not None:
        results.append(_image_leaf(view, _pixels, cond.image_pixels))
    if cond.formats is not None:
        results.append(_image_leaf(view, _format, cond.formats))
    if cond.all is not None:
        subs = [_eval(c, req, view) for c in cond.all]
        results.append(_and([v for v, _ in subs]))
        hits += [h for _, hs in subs for h in hs]
    if cond.any is not None:
        subs = [_eval(c, req, view) for c in cond.any]
        if any(v is True for v, _ in subs):
            results.append(True)
            hits += [h for v, hs in subs if v is True for h in hs]
        else:
            results.append(None if any(v is None for v, _ in subs) else False)
    if cond.none is not None:
        subs = [_eval(c, req, view) for c in cond.none]
        if any(v is True for v, _ in subs):
            results.append(False)
        else:
            results.append(None if any(v is None for v, _ in subs) else True)
    result = _and(results)
    return result, (hits if result is True else [])


def _views(rule: Rule, reports: list[ImageReport], unknown_content: bool) -> list[_View]:
    indexed = list(enumerate(reports))
    if rule.scope == "request" or not indexed:
        return [_View(indexed, unknown_content or any(not r.ok for r in reports))]
    return [_View([(i, r)], not r.ok) for i, r in indexed]


def _eval_rule(rule: Rule, req: _Request, reports: list[ImageReport], unknown_content: bool) -> tuple[Tri, list[Hit]]:
    if rule.destinations is not None and req.ctx.destination not in rule.destinations:
        return False, []
    outcome: Tri = False
    hits: list[Hit] = []
    for view in _views(rule, reports, unknown_content):
        when, when_hits = _eval(rule.when, req, view) if rule.when else (True, [])
        unless = _eval(rule.unless, req, view)[0] if rule.unless else False
        result = _and([when, None if unless is None else not unless])
        if result is True:
            outcome = True
            hits += when_hits
        elif result is None and outcome is False:
            outcome = None
    return outcome, (hits if outcome is True else [])


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """Drop a finding matched twice (by two conditions); equal but separate findings all count."""
    seen: set[tuple[int, int]] = set()
    out = []
    for h in hits:
        if (h[0], id(h[1])) not in seen:
            seen.add((h[0], id(h[1])))
            out.append(h)
    return out


def _summary(hits: list[Hit]) -> str:
    """'EMAIL_ADDRESS x2 (score>=0.5) in image 1; FACE x1 (score>=0.5) in image 2' (1-based image numbers)."""
    parts = []
    for image in sorted({i for i, _, _ in hits}):
        counts = Counter(f.entity for i, f, _ in hits if i == image)
        floor = {f.entity: s for i, f, s in hits if i == image}
        ents = ", ".join(f"{e} x{n} (score>={floor[e]:g})" for e, n in sorted(counts.items()))
        parts.append(f"{ents} in image {image + 1}")
    return "; ".join(parts)


def _rule_decision(rule: Rule, hits: list[Hit]) -> Decision:
    hits = _dedupe(hits)
    summary = _summary(hits)
    reason = f"rule '{rule.name}' matched" + (f": {summary}" if summary else "")
    redactions: dict[int, list[Finding]] = {}
    if rule.action is Action.REDACT:
        for i, f, _ in hits:
            redactions.setdefault(i, []).append(f)
    fallback = rule.redact_fallback if rule.action is Action.REDACT else None
    return Decision(rule.action, rule.name, reason, redactions, [f for _, f, _ in hits], fallback)


def _unredactable(decision: Decision, rule: Rule, reports: list[ImageReport]) -> Decision:
    """A redact decision that names a document `redact` cannot rewrite becomes the rule's redact_fallback."""
    kinds = sorted({reports[i].document.type for i in decision.redactions
                    if reports[i].document is not None and not reports[i].document.redactable})
    if not kinds:
        return decision
    fallback = rule.redact_fallback
    return Decision(fallback, rule.name, f"{decision.reason}; {', '.join(kinds)} content cannot be redacted "
                    f"faithfully: redact_fallback is {fallback.value}", matched=decision.matched)


def _partly_read(decision: Decision, policy: Policy, reports: list[ImageReport]) -> Decision:
    """Redacting what was found in a document that could not be read to its end would pass the rest unread."""
    failed = sorted(i + 1 for i in decision.redactions if not reports[i].ok)
    if not failed or SEVERITY[policy.on_error] <= SEVERITY[Action.REDACT]:
        return decision
    return Decision(policy.on_error, "on_error", f"{decision.reason}; but upload {failed[0]} could not be read to its "
                    f"end ({reports[failed[0] - 1].error.value}): on_error is {policy.on_error.value}")


def _add_later_redactions(chosen: Decision, later: tuple[Rule, ...], req: _Request,
                          reports: list[ImageReport]) -> None:
    """Redact rules combine: every later redact rule that matches adds what it matched to the redactions."""
    for rule in later:
        if rule.action is not Action.REDACT:
            continue
        outcome, hits = _eval_rule(rule, req, reports, unknown_content=False)
        if outcome is not True:
            continue
        new = [h for h in _dedupe(hits) if all(h[1] is not x for x in chosen.redactions.get(h[0], []))]
        if not new:
            continue
        for i, f, _ in new:
            chosen.redactions.setdefault(i, []).append(f)
            chosen.matched.append(f)
        chosen.reason += f"; also rule '{rule.name}': {_summary(new)}"


def decide(policy: Policy, ctx: RequestContext, reports: list[ImageReport]) -> Decision:
    req = _Request(ctx, reports)
    uncertain: list[str] = []  # rules that might have matched an uninspectable image
    chosen: Decision | None = None
    for n, rule in enumerate(policy.rules):
        outcome, hits = _eval_rule(rule, req, reports, unknown_content=False)
        if outcome is True:
            chosen = _rule_decision(rule, hits)
            if rule.action is Action.REDACT:
                _add_later_redactions(chosen, policy.rules[n + 1:], req, reports)
                chosen = _partly_read(_unredactable(chosen, rule, reports), policy, reports)
            break
        if outcome is None:
            uncertain.append(rule.name)
    if chosen is None:
        chosen = Decision(policy.default_action, None, "no rule matched: default action")
    failed = [(i, r) for i, r in enumerate(reports) if not r.ok]
    if not failed:
        return chosen
    what = ", ".join(f"image {i + 1} ({r.error.value if r.error else 'error'})" for i, r in failed)
    if uncertain and SEVERITY[policy.on_error] > SEVERITY[chosen.action]:
        return Decision(policy.on_error, "on_error",
                        f"could not inspect {what}; rule '{uncertain[0]}' might have matched: "
                        f"on_error is {policy.on_error.value}")
    chosen.reason += f"; could not inspect {what}"
    return chosen


def decide_before_inspection(policy: Policy, ctx: RequestContext) -> Decision | None:
    """The decision when it is already certain without looking at any image, else None."""
    req = _Request(ctx, [])
    for rule in policy.rules:
        outcome, hits = _eval_rule(rule, req, [], unknown_content=True)
        if outcome is True:
            return _rule_decision(rule, hits)
        if outcome is None:
            return None
    return Decision(policy.default_action, None, "no rule matched: default action")

