"""The JSON Schema of the policy language (structure only; loader.py adds the semantic checks)."""

from __future__ import annotations

import difflib
from typing import Any

from jsonschema import Draft202012Validator

from gateway.policy.errors import PolicyIssue
from gateway.policy.yamlsrc import Document

ACTIONS = ["allow", "audit", "redact", "warn", "block"]
SIZE_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*([kKmMgGtT]i?[bB]|[bB])?\s*$"

_names = {"description": "a name or a list of names",
          "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_size = {"description": "a size: bytes as a number, or text like 25MiB, 10 MB, 512KiB",
         "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": SIZE_PATTERN}]}


def _range(item: dict) -> dict:
    return {"description": "bounds like {min: 2} or {min: 1, max: 10} (inclusive)",
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {"min": item, "max": item}}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:dlp-upload-gateway:policy:v1",
    "title": "DLP upload gateway policy",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "rules"],
    "properties": {
        "version": {"description": "policy language version; must be 1", "const": 1},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "settings": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "default_action": {"description": "action when no rule matches", "enum": ACTIONS},
                "on_error": {"description": "action for an upload that cannot be inspected",
                             "enum": ["allow", "audit", "warn", "block"]},
                "min_score": {"description": "default minimum detector score (0..1) for a finding to count",
                              "type": "number", "minimum": 0, "maximum": 1},
                "limits": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "max_body_bytes": _size,
                        "max_image_bytes": _size,
                        "max_pixels": {"type": "integer", "minimum": 1},
                        "max_images_per_request": {"type": "integer", "minimum": 1},
                        "inspect_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
                        "max_document_pages": {"description": "pages (slides, sheets) of one document",
                                               "type": "integer", "minimum": 1},
                        "max_archive_members": {"description": "archive members and Office parts in one upload",
                                                "type": "integer", "minimum": 1},
                        "max_archive_depth": {"description": "containers inside containers (zip in zip: 2)",
                                              "type": "integer", "minimum": 1},
                        "max_expanded_bytes": _size,
                    },
                },
                "detectors": {
                    "type": "object", "additionalProperties": False,
                    "properties": {k: {"type": "boolean"} for k in ("ocr", "faces", "barcodes", "metadata", "prompt")},
                },
            },
        },
        "destinations": {"type": "array", "items": {"$ref": "#/$defs/destination"}},
        "recognizers": {"type": "array", "items": {"$ref": "#/$defs/recognizer"}},
        "allow_list": {"description": "text values that are never reported (exact match)",
                       "type": "array", "items": {"type": "string", "minLength": 1}},
        "identity": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "user_header": {"type": "string", "minLength": 1},
                "groups_header": {"type": "string", "minLength": 1},
                "groups_file": {"description": "YAML file mapping group -> list of users",
                                "type": "string", "minLength": 1},
                "groups": {"description": "group -> list of users",
                           "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        },
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
    },
    "$defs": {
        "destination": {
            "type": "object", "additionalProperties": False, "required": ["name", "hosts"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                "description": {"type": "string"},
                "hosts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "paths": {"description": "path prefixes starting with /",
                          "type": "array", "items": {"type": "string"}},
                "methods": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "tags": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"}},
            },
        },
        "recognizer": {
            "type": "object", "additionalProperties": False, "required": ["name", "entity"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "entity": {"description": "an upper-case entity name like EMPLOYEE_ID",
                           "type": "string", "pattern": r"^[A-Z][A-Z0-9_]*$"},
                "patterns": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["regex"],
                    "properties": {"regex": {"type": "string", "minLength": 1},
                                   "score": {"type": "number", "minimum": 0, "maximum": 1},
                                   "name": {"type": "string"}}}},
                "context": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "deny_list": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "deny_list_score": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "rule": {
            "type": "object", "additionalProperties": False, "required": ["name", "action"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                "description": {"type": "string"},
                "action": {"enum": ACTIONS},
                "redact_fallback": {"description": "what a redact rule does to a document it cannot redact "
                                                   "faithfully (PDF, Office, tar): block (default), warn or audit",
                                    "enum": ["block", "warn", "audit"]},
                "destinations": _names,
                "scope": {"description": "image: conditions must hold within one image; request: all images",
                          "enum": ["image", "request"]},
                "when": {"$ref": "#/$defs/condition"},
                "unless": {"$ref": "#/$defs/condition"},
                "enabled": {"type": "boolean"},
            },
        },
        "condition": {
            "description": "a condition: every key given must hold",
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {
                "entity": _names,
                "source": _names,
                "min_score": {"type": "number", "minimum": 0, "maximum": 1},
                "min_count": {"type": "integer", "minimum": 1},
                "destinations": _names,
                "hosts": _names,
                "paths": _names,
                "methods": _names,
                "users": _names,
                "groups": _names,
                "clients": _names,
                "headers": {"description": "request header name -> value or list of values (globs)",
                            "type": "object", "minProperties": 1, "additionalProperties": _names},
                "image_count": _range({"type": "integer", "minimum": 0}),
                "total_bytes": _range(_size),
                "image_bytes": _range(_size),
                "image_pixels": _range({"type": "integer", "minimum": 0}),
                "format": _names,
                "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
                "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
                "none": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(SCHEMA)
_TYPE_NAMES = {"object": "a mapping (key: value)", "array": "a list", "string": "text", "integer": "a whole number",
               "number": "a number", "boolean": "true or false"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def did_you_mean(word: str, options: list[str] | set[str] | frozenset[str]) -> str:
    """A 'did you mean' hint, or the list of options when nothing is close."""
    opts = sorted(options)
    upper = {o.upper(): o for o in opts}
    close = difflib.get_close_matches(str(word).upper(), list(upper), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{upper[close[0]]}'?"
    shown = ", ".join(opts[:12]) + (", ..." if len(opts) > 12 else "")
    return f"expected one of: {shown}"


def describe(path: tuple, data: Any) -> str:
    """Human location like "rule 'block-ids' > when" for a data path."""
    out: list[str] = []
    node = data
    for i, part in enumerate(path):
        parent = path[i - 1] if i else None
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            label = item.get("name") if isinstance(item, dict) else None
            noun = {"rules": "rule", "destinations": "destination", "recognizers": "recognizer"}.get(str(parent))
            if noun and isinstance(label, str):
                out[-1:] = [f"{noun} '{label}'"]
            else:
                out[-1:] = [f"{out[-1] if out else ''}[{part + 1}]"]
            node = item
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return " > ".join(out) or "the top level"


def validate_structure(doc: Document) -> list[PolicyIssue]:
    """Structure errors from the JSON Schema, translated into messages with line, column and hint."""
    issues: list[PolicyIssue] = []
    for err in sorted(_VALIDATOR.iter_errors(doc.data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(err.absolute_path)
        where = describe(path, doc.data)
        schema = err.schema if isinstance(err.schema, dict) else {}
        if err.validator == "additionalProperties":
            allowed = list(schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    issues.append(doc.issue(path + (key,), f"unknown key '{key}' "
                                            + ("at the top level" if not path else f"in {where}"),
                                            did_you_mean(key, allowed), key=True))
        elif err.validator == "required":
            missing = [k for k in err.validator_value if k not in err.instance]
            for key in missing:
                issues.append(doc.issue(path, f"{where} is missing the required key '{key}'"))
        elif err.validator == "enum":
            issues.append(doc.issue(path, f"'{err.instance}' is not allowed for {where}",
                                    did_you_mean(str(err.instance), err.validator_value)))
        elif err.validator == "const":
            issues.append(doc.issue(path, f"{where} must be {err.validator_value!r}, not {err.instance!r}"))
        elif err.validator == "type":
            expected = _TYPE_NAMES.get(err.validator_value, str(err.validator_value))
            hint = schema.get("description", "")
            if isinstance(err.instance, bool) and err.validator_value == "string":
                hint = "put it in quotes: YAML reads yes/no/on/off/true/false as true or false"
            issues.append(doc.issue(path, f"{where} must be {expected}, not {_kind(err.instance)}", hint))
        elif err.validator in ("anyOf", "oneOf"):
            issues.append(doc.issue(path, f"{where} has an invalid value {err.instance!r}",
                                    f"expected {schema.get('description', 'a different value')}"))
        elif err.validator == "minProperties":
            issues.append(doc.issue(path, f"{where} is empty", schema.get("description", "")))
        elif err.validator == "minItems":
            issues.append(doc.issue(path, f"{where} must not be an empty list"))
        elif err.validator == "pattern":
            issues.append(doc.issue(path, f"{where} has an invalid value {err.instance!r}",
                                    schema.get("description", f"must match {err.validator_value}")))
        else:
            issues.append(doc.issue(path, f"{where}: {err.message}", schema.get("description", "")))
    return issues
