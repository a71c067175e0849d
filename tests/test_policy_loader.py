"""Loading and validating policies: every error has file, line, column and a useful hint."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from gateway.models import Action, CustomRecognizer, Limits
from gateway.policy import DEFAULT_POLICY_PATH, SCHEMA, PolicyError, load_default_policy, load_policy, parse_size
from gateway.policy import load_policy_text
from gateway.policy.entities import BUILTIN_ENTITIES

REPO = Path(__file__).resolve().parents[1]
HEAD = "version: 1\ndestinations:\n  - {name: openai, tags: [chatbot], hosts: [chatgpt.com]}\n"


def issues_of(text: str, base_dir=None):
    with pytest.raises(PolicyError) as exc:
        load_policy_text(textwrap.dedent(text), "p.yaml", base_dir)
    return exc.value.issues


def col(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in `text`."""
    for n, line in enumerate(textwrap.dedent(text).splitlines(), 1):
        if needle in line:
            return n, line.index(needle) + 1
    raise AssertionError(needle)


def one(text: str, base_dir=None):
    issues = [i for i in issues_of(text, base_dir) if i.level == "error"]
    assert len(issues) == 1, issues
    return issues[0]


def test_default_policy_path_and_content():
    assert Path(DEFAULT_POLICY_PATH) == REPO / "policies" / "default.yaml"
    p = load_default_policy()
    assert p.name == "default" and p.path == str(REPO / "policies" / "default.yaml")
    assert p.on_error is Action.BLOCK and p.default_action is Action.ALLOW
    assert p.limits == Limits(100 * 2**20, 25 * 2**20, 50_000_000, 20, 60.0)
    assert p.warnings == []
    hosts = set(p.intercept_host_patterns())
    for h in ["chatgpt.com", "chat.openai.com", "*.oaiusercontent.com", "api.openai.com", "claude.ai",
              "api.anthropic.com", "gemini.google.com", "content-push.googleapis.com", "push.clients6.google.com",
              "generativelanguage.googleapis.com", "copilot.microsoft.com",
              "discord-attachments-uploads-prd.storage.googleapis.com", "www.midjourney.com", "www.perplexity.ai",
              "api.stability.ai", "cloud.leonardo.ai"]:
        assert h in hosts, h
    assert "*.googleapis.com" not in hosts


SHIPPED = [p for p in sorted((REPO / "policies").rglob("*.yaml"))
           if not p.name.endswith(".test.yaml") and p.parent.name != "groups"]


def test_shipped_policies_found():
    assert len(SHIPPED) == 7


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_policy_is_valid(path: Path):
    policy = load_policy(path)
    assert policy.warnings == []
    jsonschema.validate(__import__("yaml").safe_load(path.read_text()), SCHEMA)


def test_version_id_changes_with_content(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(HEAD + "rules: []\n")
    a = load_policy(f).version_id
    assert load_policy(f).version_id == a
    f.write_text(HEAD + "rules: []\n# comment\n")
    assert load_policy(f).version_id != a


def test_inspect_options_from_settings_recognizers_allow_list():
    p = load_policy_text(HEAD + textwrap.dedent("""
        settings:
          limits: {max_body_bytes: 10 MB, max_image_bytes: 512KiB, inspect_timeout_seconds: 5}
          detectors: {faces: false, barcodes: false}
        recognizers:
          - {name: emp, entity: EMPLOYEE_ID, patterns: [{regex: 'EMP-\\d{6}', score: 0.8}], context: [employee]}
          - {name: code, entity: PROJECT_CODENAME, deny_list: [ORION, BLUEBIRD]}
        allow_list: [support@acme.example]
        rules:
          - {name: r, action: block, when: {entity: [EMPLOYEE_ID, PROJECT_CODENAME]}}
        """))
    o = p.inspect_options
    assert o.limits.max_body_bytes == 10_000_000 and o.limits.max_image_bytes == 512 * 1024
    assert o.limits.inspect_timeout_seconds == 5.0
    assert (o.ocr, o.faces, o.barcodes, o.metadata) == (True, False, False, True)
    assert o.recognizers == (CustomRecognizer("emp", "EMPLOYEE_ID", (("EMP-\\d{6}", 0.8),), ("employee",)),
                             CustomRecognizer("code", "PROJECT_CODENAME", deny_list=("ORION", "BLUEBIRD")))
    assert o.allow_list == ("support@acme.example",)
    hash(o)  # part of the report cache key


@pytest.mark.parametrize("text,expected", [("25MiB", 25 * 2**20), ("10 MB", 10**7), ("1.5GiB", int(1.5 * 2**30)),
                                           ("100", 100), (7, 7), ("512kib", 512 * 1024)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


def test_presidio_entities_are_known():
    registry_mod = pytest.importorskip("presidio_analyzer")
    registry = registry_mod.RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    supported = {e for r in registry.recognizers for e in r.supported_entities}
    assert supported <= BUILTIN_ENTITIES, supported - BUILTIN_ENTITIES


# --- structural errors (JSON Schema), with positions --------------------------------------------------------------
def test_unknown_top_level_key_did_you_mean():
    i = one("version: 1\nrules: []\nsetings: {}\n")
    assert (i.file, i.line, i.column) == ("p.yaml", 3, 1)
    assert i.message == "unknown key 'setings' at the top level" and i.hint == "did you mean 'settings'?"
    assert str(i) == "p.yaml:3:1: error: unknown key 'setings' at the top level (did you mean 'settings'?)"


def test_unknown_condition_key():
    i = one(HEAD + "rules:\n  - name: r\n    action: block\n    when: {entiy: FACE}\n")
    assert (i.line, i.column) == (7, 12)
    assert i.message == "unknown key 'entiy' in rule 'r' > when" and i.hint == "did you mean 'entity'?"


def test_unknown_action():
    i = one(HEAD + "rules:\n  - {name: r, action: blok}\n")
    assert (i.line, i.column, i.hint) == (5, 23, "did you mean 'block'?")
    assert "'blok' is not allowed for rule 'r' > action" == i.message


def test_on_error_cannot_be_redact():
    i = one("version: 1\nsettings: {on_error: redact}\nrules: []\n")
    assert (i.line, i.column) == (2, 22) and "allow, audit, block, warn" in i.hint


def test_missing_required_keys():
    issues = issues_of("version: 1\nrules:\n  - {action: block}\n")
    assert issues[0].message == "rules[1] is missing the required key 'name'" and issues[0].line == 3
    i = one("rules: []\n")
    assert i.message == "the top level is missing the required key 'version'"


def test_wrong_version():
    i = one("version: 2\nrules: []\n")
    assert i.message == "version must be 1, not 2" and (i.line, i.column) == (1, 10)


def test_bad_size():
    i = one("version: 1\nsettings:\n  limits: {max_image_bytes: 25MeB}\nrules: []\n")
    assert (i.line, i.column) == (3, 29) and "25MiB" in i.hint


def test_boolean_name_hint():
    i = one(HEAD + "rules:\n  - {name: off, action: block}\n")
    assert "must be text, not true/false" in i.message and "quotes" in i.hint


def test_yaml_syntax_error_position():
    i = one("version: 1\nrules:\n  - name: r\n   action: block\n")
    assert i.message.startswith("YAML syntax error") and i.line == 4


def test_duplicate_key():
    i = one("version: 1\nrules: []\nrules: []\n")
    assert (i.line, i.message) == (3, "duplicate key 'rules'")


def test_empty_and_non_mapping_files():
    assert one("").message == "the policy file is empty"
    assert "mapping" in one("- a\n- b\n").message


# --- semantic errors ----------------------------------------------------------------------------------------------
def test_unknown_entity_did_you_mean():
    text = HEAD + "rules:\n  - name: r\n    action: block\n    when: {entity: [FACE, EMAIL_ADRESS]}\n"
    i = one(text)
    assert (i.line, i.column) == col(text, "EMAIL_ADRESS") == (7, 27)
    assert i.message == "unknown entity 'EMAIL_ADRESS'" and i.hint.startswith("did you mean 'EMAIL_ADDRESS'?")


def test_lower_case_entity_suggests_upper_case():
    i = one(HEAD + "rules:\n  - {name: r, action: block, when: {entity: credit_card}}\n")
    assert i.hint.startswith("did you mean 'CREDIT_CARD'?")


def test_custom_entity_becomes_known():
    load_policy_text(HEAD + "recognizers: [{name: x, entity: ACME_ID, deny_list: [A1]}]\n"
                     "rules: [{name: r, action: block, when: {entity: ACME_ID}}]\n")


def test_unknown_source():
    i = one(HEAD + "rules:\n  - {name: r, action: block, when: {source: ocrr}}\n")
    assert i.message == "unknown source 'ocrr'" and i.hint == "did you mean 'ocr'?"


def test_unknown_destination_reference():
    text = HEAD + "rules:\n  - {name: r, destinations: [opnai], action: block}\n"
    i = one(text)
    assert (i.line, i.column) == col(text, "opnai")
    assert i.message == "unknown destination 'opnai'" and i.hint.startswith("did you mean 'openai'?")


@pytest.mark.parametrize("host,needle", [
    ("https://chatgpt.com/", "scheme or a path"), ("chatgpt.com:443", "port"), ("*.com", "at least two labels"),
    ("chat*.com", "whole first label"), ("bad_host.com", "not a valid host"), ("", "empty")])
def test_bad_host_glob(host, needle):
    i = one(f"version: 1\ndestinations:\n  - {{name: d, hosts: ['{host}']}}\nrules: []\n")
    assert (i.line, i.column) == (3, 23) and needle in i.message and "example.com" in i.hint


def test_shared_storage_host_needs_paths():
    i = one("version: 1\ndestinations:\n  - {name: d, hosts: [storage.googleapis.com]}\nrules: []\n")
    assert "shared storage/CDN host" in i.message and "paths" in i.hint
    i = one("version: 1\ndestinations:\n  - {name: d, hosts: ['*.s3.amazonaws.com']}\nrules: []\n")
    assert "shared" in i.message
    load_policy_text("version: 1\ndestinations:\n  - {name: d, hosts: [storage.googleapis.com], paths: [/b/]}\n"
                     "rules: []\n")


def test_bad_paths_and_methods():
    i = one("version: 1\ndestinations:\n  - {name: d, hosts: [a.example], paths: [bucket/]}\nrules: []\n")
    assert i.message == "path prefix 'bucket/' must start with '/'"
    i = one("version: 1\ndestinations:\n  - {name: d, hosts: [a.example], methods: [POTS]}\nrules: []\n")
    assert i.message == "unknown HTTP method 'POTS'" and i.hint == "did you mean 'POST'?"


def test_bad_regex():
    text = HEAD + "recognizers:\n  - {name: x, entity: X_ID, patterns: [{regex: 'EMP-(\\d{6}'}]}\nrules: []\n"
    i = one(text)
    assert (i.line, i.column) == col(text, "'EMP-")
    assert i.message.startswith("bad regex") and "missing )" in i.message


def test_recognizer_needs_patterns_or_deny_list():
    i = one(HEAD + "recognizers:\n  - {name: x, entity: X_ID}\nrules: []\n")
    assert "neither patterns nor deny_list" in i.message


def test_bad_cidr():
    text = HEAD + "rules:\n  - {name: r, action: block, when: {clients: [10.0.0.0/33]}}\n"
    i = one(text)
    assert i.message == "bad client network '10.0.0.0/33'" and (i.line, i.column) == col(text, "10.0.0.0/33")


def test_bad_range_and_format():
    i = one(HEAD + "rules:\n  - {name: r, action: block, when: {image_bytes: {min: 2MiB, max: 1MiB}}}\n")
    assert i.message == "min (2MiB) is larger than max (1MiB)"
    i = one(HEAD + "rules:\n  - {name: r, action: block, when: {format: [PGN]}}\n")
    assert i.message == "unknown image or document format 'PGN'" and i.hint == "did you mean 'PNG'?"


def test_unreachable_rule_after_unconditional():
    i = one(HEAD + "rules:\n  - {name: all, action: block}\n  - {name: later, action: audit, when: {entity: FACE}}\n")
    assert (i.line, i.column) == (6, 5)
    assert i.message == "rule 'later' can never match: rule 'all' (line 5) matches every request first"
    assert "top to bottom" in i.hint


def test_unreachable_rule_same_destinations():
    i = one(HEAD + "rules:\n  - {name: a, destinations: [openai], action: block}\n"
            "  - {name: b, destinations: openai, action: audit}\n")
    assert "every request to openai" in i.message
    # narrower earlier rule does not shadow a broader later one
    load_policy_text(HEAD + "rules:\n  - {name: a, destinations: [openai], action: block}\n"
                     "  - {name: b, action: audit}\n")


def test_redact_needs_finding_condition():
    i = one(HEAD + "rules:\n  - {name: r, action: redact, when: {groups: [x]}}\n")
    assert "names no entity or source" in i.message and i.line == 5


def test_duplicate_names():
    i = one(HEAD + "rules:\n  - {name: r, action: block, when: {entity: FACE}}\n"
            "  - {name: r, action: audit, when: {entity: MRZ}}\n")
    assert i.message == "duplicate rule name 'r'" and i.line == 6
    i = one("version: 1\ndestinations:\n  - {name: d, hosts: [a.example]}\n  - {name: d, hosts: [b.example]}\n"
            "rules: []\n")
    assert i.message == "duplicate destination name 'd'"


def test_tag_colliding_with_name():
    i = one("version: 1\ndestinations:\n  - {name: d, hosts: [a.example], tags: [e]}\n"
            "  - {name: e, hosts: [b.example]}\nrules: []\n")
    assert "both a destination name and a tag" in i.message


def test_every_error_reported_at_once():
    issues = issues_of(HEAD + "rules:\n  - {name: a, action: block, when: {entity: FAEC}}\n"
                       "  - {name: b, destinations: [nope], action: block, when: {clients: [x]}}\n")
    assert [i.line for i in issues] == [5, 6, 6]


def test_disabled_detector_warns():
    p = load_policy_text(HEAD + "settings: {detectors: {faces: false}}\n"
                         "rules:\n  - {name: r, action: block, when: {entity: FACE}}\n", "p.yaml")
    assert len(p.warnings) == 1 and "'faces' detector" in p.warnings[0].message
    assert p.warnings[0].level == "warning"


def test_groups_file_relative_to_policy(tmp_path):
    (tmp_path / "g.yaml").write_text("fin: [Alice]\n")
    f = tmp_path / "p.yaml"
    f.write_text(HEAD + "identity: {groups_file: g.yaml, user_header: X-Auth-User}\nrules: []\n")
    p = load_policy(f)
    assert p.groups_for("alice") == {"fin"} and p.identity.user_header == "X-Auth-User"
    assert str(tmp_path / "g.yaml") in p.source_files
    v1 = p.version_id
    (tmp_path / "g.yaml").write_text("fin: [Alice, Bob]\n")
    assert load_policy(f).version_id != v1
    (tmp_path / "g.yaml").write_text("fin: Alice\n")
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    assert exc.value.issues[0].file.endswith("g.yaml") and "list of user names" in exc.value.issues[0].message


def test_missing_groups_file(tmp_path):
    i = one(HEAD + "identity: {groups_file: nope.yaml}\nrules: []\n", tmp_path)
    assert i.message.startswith("cannot read groups file") and "relative to the policy file" in i.hint


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError) as exc:
        load_policy(tmp_path / "missing.yaml")
    assert "cannot read policy" in str(exc.value)


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    json.dumps(SCHEMA)


def test_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, *a{n - 1}, "
              f"*a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 9)]
    i = one("\n".join(lines) + "\n")
    assert "expands to more than" in i.message


def test_yaml_merge_keys_work():
    p = load_policy_text(HEAD + "rules:\n"
                         "  - &base {name: a, action: block, when: {entity: FACE}}\n"
                         "  - {<<: *base, name: b, when: {entity: MRZ}}\n")
    assert [r.name for r in p.rules] == ["a", "b"] and p.rules[1].action is Action.BLOCK
