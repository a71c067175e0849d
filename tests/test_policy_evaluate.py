"""Policy decisions: every condition kind, rule order, scopes, redactions, reasons, uninspectable images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import textwrap

from gateway.models import Action, Finding, ImageReport, InspectionErrorKind, RequestContext
from gateway.policy import load_policy_text

DESTS = """
destinations:
  - {name: openai, tags: [chatbot], hosts: [chatgpt.com, "*.oaiusercontent.com"]}
  - {name: claude, tags: [chatbot], hosts: [claude.ai]}
  - {name: mj, hosts: [www.midjourney.com]}
  - {name: gcs-bucket, hosts: [storage.googleapis.com], paths: [/team-bucket/], methods: [PUT]}
"""


def policy(rules: str, extra: str = "", dests: str = DESTS):
    text = "version: 1\nname: t\n" + textwrap.dedent(extra) + dests + "rules:\n" + textwrap.indent(
        textwrap.dedent(rules), "  ")
    return load_policy_text(text, "t.yaml")


def f(entity: str, score: float = 0.9, source: str = "ocr", box=(0, 0, 10, 10)) -> Finding:
    return Finding(entity, source, score, box)


def img(*findings: Finding, size: int = 1000, fmt: str = "PNG", w: int = 100, h: int = 100) -> ImageReport:
    return ImageReport("x", size, fmt, w, h, list(findings))


def bad(kind=InspectionErrorKind.CORRUPT) -> ImageReport:
    return ImageReport("y", 10, error=kind)


def ctx(host="chatgpt.com", path="/upload", method="POST", dest="openai", **kw) -> RequestContext:
    return RequestContext(host, path, method, dest, **kw)


@dataclass(frozen=True)
class HeaderContext(RequestContext):
    headers: Mapping[str, str] = field(default_factory=dict)


# --- entity, min_score, min_count, source -------------------------------------------------------------------------
def test_entity_match_and_no_match():
    p = policy("- {name: r, action: block, when: {entity: EMAIL_ADDRESS}}")
    assert p.decide(ctx(), [img(f("EMAIL_ADDRESS"))]).action is Action.BLOCK
    d = p.decide(ctx(), [img(f("PHONE_NUMBER"))])
    assert (d.action, d.rule, d.reason) == (Action.ALLOW, None, "no rule matched: default action")


def test_entity_list_is_any_of():
    p = policy("- {name: r, action: block, when: {entity: [EMAIL_ADDRESS, PHONE_NUMBER]}}")
    assert p.decide(ctx(), [img(f("PHONE_NUMBER"))]).rule == "r"


def test_findings_under_min_score_do_not_count():
    p = policy("- {name: r, action: block, when: {entity: EMAIL_ADDRESS, min_score: 0.8}}")
    assert p.decide(ctx(), [img(f("EMAIL_ADDRESS", 0.79))]).action is Action.ALLOW
    assert p.decide(ctx(), [img(f("EMAIL_ADDRESS", 0.8))]).action is Action.BLOCK


def test_settings_min_score_is_the_default():
    p = policy("- {name: r, action: block, when: {entity: PERSON}}", "settings: {min_score: 0.7}\n")
    assert p.decide(ctx(), [img(f("PERSON", 0.6))]).action is Action.ALLOW
    assert p.decide(ctx(), [img(f("PERSON", 0.7))]).action is Action.BLOCK


def test_min_count_counts_only_qualifying_findings():
    p = policy("- {name: r, action: block, when: {entity: PERSON, min_count: 3, min_score: 0.5}}")
    assert p.decide(ctx(), [img(f("PERSON"), f("PERSON"), f("PERSON", 0.2))]).action is Action.ALLOW
    d = p.decide(ctx(), [img(f("PERSON"), f("PERSON"), f("PERSON"))])
    assert d.action is Action.BLOCK
    assert d.reason == "rule 'r' matched: PERSON x3 (score>=0.5) in image 1"


def test_source_filter():
    p = policy("- {name: r, action: audit, when: {source: barcode}}")
    assert p.decide(ctx(), [img(f("URL", source="ocr"))]).action is Action.ALLOW
    assert p.decide(ctx(), [img(f("URL", source="barcode"))]).action is Action.AUDIT


def test_entity_and_source_together():
    p = policy("- {name: r, action: audit, when: {entity: PERSON, source: metadata}}")
    assert p.decide(ctx(), [img(f("PERSON", source="ocr"))]).action is Action.ALLOW
    assert p.decide(ctx(), [img(f("PERSON", source="metadata", box=None))]).action is Action.AUDIT


# --- combinators --------------------------------------------------------------------------------------------------
def test_all_any_none():
    p = policy("""
        - name: r
          action: block
          when:
            all:
              - {entity: FACE}
              - any: [{entity: US_PASSPORT}, {entity: MRZ}]
              - none: [{entity: URL}]
        """)
    assert p.decide(ctx(), [img(f("FACE"), f("MRZ"))]).action is Action.BLOCK
    assert p.decide(ctx(), [img(f("FACE"), f("US_PASSPORT"))]).action is Action.BLOCK
    assert p.decide(ctx(), [img(f("FACE"))]).action is Action.ALLOW
    assert p.decide(ctx(), [img(f("FACE"), f("MRZ"), f("URL"))]).action is Action.ALLOW


def test_keys_in_one_condition_are_and():
    p = policy("- {name: r, action: block, when: {entity: FACE, groups: [interns]}}")
    assert p.decide(ctx(), [img(f("FACE"))]).action is Action.ALLOW
    assert p.decide(ctx(groups=frozenset({"interns"})), [img(f("FACE"))]).action is Action.BLOCK


def test_unless_exempts():
    p = policy("- {name: r, action: block, when: {entity: FACE}, unless: {groups: [marketing]}}")
    assert p.decide(ctx(), [img(f("FACE"))]).action is Action.BLOCK
    assert p.decide(ctx(groups=frozenset({"marketing"})), [img(f("FACE"))]).action is Action.ALLOW


# --- scope: image vs request -----------------------------------------------------------------------------------------
def test_image_scope_needs_all_conditions_in_one_image():
    p = policy("- {name: r, action: block, when: {all: [{entity: FACE}, {entity: US_PASSPORT}]}}")
    assert p.decide(ctx(), [img(f("FACE")), img(f("US_PASSPORT"))]).action is Action.ALLOW
    assert p.decide(ctx(), [img(), img(f("FACE"), f("US_PASSPORT"))]).action is Action.BLOCK


def test_request_scope_pools_findings_over_images():
    p = policy("""
        - {name: r, action: block, scope: request, when: {all: [{entity: FACE}, {entity: US_PASSPORT}]}}
        - {name: n, action: audit, scope: request, when: {entity: EMAIL_ADDRESS, min_count: 3}}
        """)
    d = p.decide(ctx(), [img(f("FACE")), img(f("US_PASSPORT"))])
    assert d.action is Action.BLOCK
    assert d.reason == "rule 'r' matched: FACE x1 (score>=0.5) in image 1; US_PASSPORT x1 (score>=0.5) in image 2"
    emails = [img(f("EMAIL_ADDRESS")) for _ in range(3)]
    assert p.decide(ctx(), emails).rule == "n"
    assert p.decide(ctx(), emails[:2]).rule is None


# --- request conditions -------------------------------------------------------------------------------------------
def test_rule_destinations_by_name_and_tag():
    p = policy("""
        - {name: a, destinations: mj, action: block, when: {entity: FACE}}
        - {name: b, destinations: [chatbot], action: redact, when: {entity: FACE}}
        """)
    assert p.decide(ctx(dest="mj"), [img(f("FACE"))]).rule == "a"
    assert p.decide(ctx(dest="claude"), [img(f("FACE"))]).rule == "b"
    assert p.decide(ctx(dest="gcs-bucket"), [img(f("FACE"))]).rule is None


def test_condition_destinations_hosts_paths_methods():
    p = policy("""
        - {name: d, action: audit, when: {destinations: [claude]}}
        - {name: h, action: audit, when: {hosts: ["*.oaiusercontent.com"]}}
        - {name: p, action: audit, when: {paths: [/backend-api/files]}}
        - {name: m, action: audit, when: {methods: [put]}}
        """)
    assert p.decide(ctx(dest="claude"), []).rule == "d"
    assert p.decide(ctx(host="files.oaiusercontent.com"), []).rule == "h"
    assert p.decide(ctx(path="/backend-api/files/123?x=1"), []).rule == "p"
    assert p.decide(ctx(path="/backend-api/%66iles/1"), []).rule == "p"  # percent-encoding does not evade
    assert p.decide(ctx(method="PUT"), []).rule == "m"
    assert p.decide(ctx(), []).rule is None


def test_users_are_case_insensitive_globs_and_groups_any_of():
    p = policy("""
        - {name: u, action: block, when: {users: ["*@contractor.example"]}}
        - {name: g, action: audit, when: {groups: [finance, legal]}}
        """)
    assert p.decide(ctx(user="Bob@Contractor.Example"), []).rule == "u"
    assert p.decide(ctx(user="bob@acme.example", groups=frozenset({"legal"})), []).rule == "g"
    assert p.decide(ctx(user=None), []).rule is None


def test_client_cidrs():
    p = policy("- {name: c, action: block, when: {clients: [10.1.0.0/16, '2001:db8::/32', 192.168.1.7]}}")
    assert p.decide(ctx(client_ip="10.1.2.3"), []).rule == "c"
    assert p.decide(ctx(client_ip="2001:db8::1"), []).rule == "c"
    assert p.decide(ctx(client_ip="192.168.1.7"), []).rule == "c"
    assert p.decide(ctx(client_ip="10.2.0.1"), []).rule is None
    assert p.decide(ctx(client_ip="not-an-ip"), []).rule is None


def test_image_count_and_sizes():
    p = policy("""
        - {name: many, action: audit, when: {image_count: {min: 3}}}
        - {name: big, action: block, when: {image_bytes: {min: 2MiB}}}
        - {name: total, action: warn, when: {total_bytes: {min: 1.5MB}}}
        - {name: px, action: audit, when: {image_pixels: {max: 99}}}
        - {name: tif, action: block, when: {format: [tiff, jpg]}}
        """)
    assert p.decide(ctx(image_count=3), [img()]).rule == "many"
    assert p.decide(ctx(), [img(size=2 * 2**20)]).rule == "big"
    assert p.decide(ctx(), [img(size=800_000), img(size=800_000)]).rule == "total"
    assert p.decide(ctx(), [img(w=9, h=10)]).rule == "px"
    assert p.decide(ctx(), [img(fmt="JPEG")]).rule == "tif"
    assert p.decide(ctx(), [img()]).rule is None


def test_header_condition_when_context_carries_headers():
    p = policy("- {name: corp, action: allow, when: {headers: {ChatGPT-Account-Id: [acme-*]}}}\n"
               "- {name: rest, action: block}")
    corp = HeaderContext("chatgpt.com", "/", "POST", "openai", headers={"chatgpt-account-id": "acme-1"})
    other = HeaderContext("chatgpt.com", "/", "POST", "openai", headers={"ChatGPT-Account-Id": "me"})
    assert p.decide(corp, [img()]).rule == "corp"
    assert p.decide(other, [img()]).rule == "rest"
    assert p.decide(ctx(), [img()]).rule == "rest"  # plain RequestContext: no headers, condition false


# --- order, redactions, defaults -------------------------------------------------------------------------------------
def test_first_match_wins():
    p = policy("""
        - {name: first, action: audit, when: {entity: EMAIL_ADDRESS}}
        - {name: second, action: block, when: {entity: EMAIL_ADDRESS}}
        """)
    assert p.decide(ctx(), [img(f("EMAIL_ADDRESS"))]).rule == "first"


def test_disabled_rule_is_skipped():
    p = policy("- {name: disabled, action: block, enabled: false}\n- {name: active, action: audit}")
    assert p.decide(ctx(), []).rule == "active"


def test_default_action_setting():
    p = policy("- {name: r, action: allow, when: {entity: FACE}}", "settings: {default_action: audit}\n")
    assert p.decide(ctx(), [img()]).action is Action.AUDIT


def test_redactions_hold_only_matched_findings_per_image():
    p = policy("- {name: r, action: redact, when: {entity: [EMAIL_ADDRESS, FACE], min_score: 0.5}}")
    e, face, low, url = f("EMAIL_ADDRESS"), f("FACE", source="face"), f("EMAIL_ADDRESS", 0.2), f("URL")
    d = p.decide(ctx(), [img(url), img(e, low, url), img(face)])
    assert d.action is Action.REDACT
    assert d.redactions == {1: [e], 2: [face]}
    assert d.matched == [e, face]
    assert d.reason == ("rule 'r' matched: EMAIL_ADDRESS x1 (score>=0.5) in image 2; "
                        "FACE x1 (score>=0.5) in image 3")


def test_later_redact_rules_add_redactions():
    p = policy("""
        - {name: pii, action: redact, when: {entity: EMAIL_ADDRESS}}
        - {name: other, action: block, when: {entity: URL}}
        - {name: gps, action: redact, when: {entity: EXIF_GPS}}
        """)
    e, g, u = f("EMAIL_ADDRESS"), f("EXIF_GPS", 1.0, "metadata", None), f("URL")
    d = p.decide(ctx(), [img(e, g, u)])
    assert (d.action, d.rule) == (Action.REDACT, "pii")
    assert d.redactions == {0: [e, g]}
    assert "also rule 'gps': EXIF_GPS x1" in d.reason


def test_non_redact_decisions_have_no_redactions():
    p = policy("- {name: r, action: block, when: {entity: EMAIL_ADDRESS}}")
    d = p.decide(ctx(), [img(f("EMAIL_ADDRESS"))])
    assert d.redactions == {} and d.matched == [f("EMAIL_ADDRESS")]


def test_reason_never_contains_text_only_entities():
    p = policy("- {name: r, action: block, when: {entity: EMAIL_ADDRESS}}")
    reason = p.decide(ctx(), [img(f("EMAIL_ADDRESS"))]).reason
    assert "@" not in reason and "EMAIL_ADDRESS x1" in reason


# --- uninspectable images -----------------------------------------------------------------------------------------
def test_error_gets_on_error_when_a_rule_might_have_matched():
    p = policy("- {name: r, action: redact, when: {entity: EMAIL_ADDRESS}}")
    d = p.decide(ctx(), [img(), bad()])
    assert (d.action, d.rule) == (Action.BLOCK, "on_error")
    assert "image 2 (corrupt)" in d.reason


def test_earlier_block_match_beats_on_error():
    p = policy("- {name: r, action: block, when: {entity: SECRET}}", "settings: {on_error: warn}\n")
    d = p.decide(ctx(), [img(f("SECRET")), bad(InspectionErrorKind.TIMEOUT)])
    assert (d.action, d.rule) == (Action.BLOCK, "r")
    assert "could not inspect image 2 (timeout)" in d.reason


def test_on_error_more_severe_than_matched_redact_wins():
    p = policy("""
        - {name: ids, action: block, when: {entity: MRZ}}
        - {name: pii, action: redact, when: {entity: EMAIL_ADDRESS}}
        """)
    assert p.decide(ctx(), [img(f("EMAIL_ADDRESS")), bad()]).rule == "on_error"


def test_on_error_less_severe_keeps_the_rule():
    p = policy("- {name: pii, action: redact, when: {entity: EMAIL_ADDRESS}}", "settings: {on_error: allow}\n")
    d = p.decide(ctx(), [img(f("EMAIL_ADDRESS")), bad()])
    assert (d.action, d.rule) == (Action.REDACT, "pii") and d.redactions == {0: [f("EMAIL_ADDRESS")]}


def test_content_independent_rule_is_not_affected_by_errors():
    p = policy("- {name: corp, action: allow, when: {groups: [exec]}}\n"
               "- {name: pii, action: block, when: {entity: EMAIL_ADDRESS}}")
    assert p.decide(ctx(groups=frozenset({"exec"})), [bad()]).rule == "corp"
    assert p.decide(ctx(), [bad()]).rule == "on_error"


def test_error_is_irrelevant_when_no_rule_applies_to_the_destination():
    p = policy("- {name: r, destinations: [mj], action: block, when: {entity: FACE}}")
    d = p.decide(ctx(dest="openai"), [bad()])
    assert (d.action, d.rule) == (Action.ALLOW, None)


def test_none_over_an_uninspectable_image_is_unknown():
    p = policy("- {name: r, action: allow, when: {none: [{entity: FACE}]}}", "settings: {default_action: audit}\n")
    assert p.decide(ctx(), [img()]).rule == "r"
    assert p.decide(ctx(), [bad()]).rule == "on_error"


def test_decide_before_inspection():
    p = policy("- {name: corp, action: allow, when: {groups: [exec]}}\n"
               "- {name: pii, action: block, when: {entity: EMAIL_ADDRESS}}\n"
               "- {name: mj, destinations: [mj], action: block}")
    assert p.decide_before_inspection(ctx(groups=frozenset({"exec"}))).rule == "corp"
    assert p.decide_before_inspection(ctx()) is None
    q = policy("- {name: mj, destinations: [mj], action: block}\n"
               "- {name: pii, action: block, when: {entity: EMAIL_ADDRESS}, unless: {image_bytes: {max: 10}}}")
    assert q.decide_before_inspection(ctx(dest="mj")).rule == "mj"
    assert q.decide_before_inspection(ctx(dest="openai")) is None


# --- destinations -------------------------------------------------------------------------------------------------
def test_destination_for():
    p = policy("- {name: r, action: audit}")
    assert p.destination_for("ChatGPT.com:443", "/x", "post") == "openai"
    assert p.destination_for("chatgpt.com.", "/x", "PATCH") == "openai"
    assert p.destination_for("chatgpt.com", "/x", "GET") is None  # default methods: POST, PUT, PATCH
    assert p.destination_for("files.oaiusercontent.com", "/", "PUT") == "openai"
    assert p.destination_for("a.b.oaiusercontent.com", "/", "PUT") == "openai"
    assert p.destination_for("oaiusercontent.com", "/", "PUT") is None
    assert p.destination_for("evilchatgpt.com", "/", "POST") is None
    assert p.destination_for("storage.googleapis.com", "/team-bucket/o.png", "PUT") == "gcs-bucket"
    assert p.destination_for("storage.googleapis.com", "/team-bucket/o.png", "POST") is None
    assert p.destination_for("storage.googleapis.com", "/other-bucket/o.png", "PUT") is None
    assert p.destination_for("storage.googleapis.com", "//team-bucket/o.png", "PUT") == "gcs-bucket"
    assert p.destination_for("storage.googleapis.com", "/x/../team-bucket/o.png", "PUT") == "gcs-bucket"
    assert p.destination_for("storage.googleapis.com", "/team-bucket/../other/o.png", "PUT") is None


def test_intercept_hosts_and_regexes():
    import re
    p = policy("- {name: r, action: audit}")
    assert p.intercept_host_patterns() == ["*.oaiusercontent.com", "chatgpt.com", "claude.ai",
                                           "storage.googleapis.com", "www.midjourney.com"]
    regexes = p.intercept_host_regexes()

    def allowed(hostport: str) -> bool:
        return any(re.search(r, hostport, re.IGNORECASE) for r in regexes)
    assert allowed("chatgpt.com:443") and allowed("files.oaiusercontent.com:443") and allowed("claude.ai")
    assert not allowed("oaiusercontent.com:443") and not allowed("notchatgpt.com:443")
    assert not allowed("chatgpt.com.evil.example:443")


def test_groups_from_identity_table():
    p = policy("- {name: r, action: audit, when: {groups: [fin]}}",
               "identity: {groups: {fin: [Alice@acme.example]}}\n")
    groups = p.groups_for("alice@ACME.example", "eng, ops")
    assert groups == {"fin", "eng", "ops"}
