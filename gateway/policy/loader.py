"""Read a policy file: YAML with positions -> JSON Schema structure check -> semantic checks -> Policy."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from pathlib import Path as FsPath
from typing import Any

from gateway.formats import DOCUMENT_TYPES, MIME_TYPES, REDACTABLE_DOCUMENT_TYPES
from gateway.models import Action, CustomRecognizer, InspectOptions, Limits
from gateway.policy.entities import BUILTIN_ENTITIES, SOURCES
from gateway.policy.errors import PolicyError, PolicyIssue
from gateway.policy.hosts import check_host_glob, is_shared_host, normalize_path
from gateway.policy.model import DEFAULT_METHODS, Condition, Destination, FindingFilter, Identity, Policy, Range, Rule
from gateway.policy.schema import SIZE_PATTERN, did_you_mean, validate_structure
from gateway.policy.yamlsrc import Document, Path, parse_yaml

DEFAULT_POLICY_PATH: str = str(FsPath(__file__).resolve().parents[2] / "policies" / "default.yaml")

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# entities only a given detector can produce: a rule on them with that detector off never matches
_DETECTOR_ENTITIES = {"faces": {"FACE"}, "metadata": {"EXIF_GPS", "DEVICE_SERIAL", "CAMERA_OWNER"}}
_SOURCE_DETECTOR = {"ocr": "ocr", "face": "faces", "metadata": "metadata", "barcode": "barcodes", "prompt": "prompt"}
_FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "HEIC": "HEIF", "TXT": "TEXT", "GZ": "GZIP"}
FORMATS = frozenset(MIME_TYPES) | frozenset(DOCUMENT_TYPES)
# What `redact` can rewrite: every image format, and the documents in REDACTABLE_DOCUMENT_TYPES.
REDACTABLE_FORMATS = frozenset(MIME_TYPES) | REDACTABLE_DOCUMENT_TYPES


def parse_size(value: int | str) -> int:
    """25MiB -> 26214400; 10 MB -> 10000000; plain numbers are bytes."""
    if isinstance(value, int):
        return value
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$", value)
    if not m or not re.match(SIZE_PATTERN, value) or m.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {value!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


class _Builder:
    """Semantic checks and conversion of a structurally valid document. Collects every issue."""

    def __init__(self, doc: Document, base_dir: FsPath) -> None:
        self.doc = doc
        self.base_dir = base_dir
        self.issues: list[PolicyIssue] = []
        self.extra_files: list[tuple[str, bytes]] = []
        self.entities: set[str] = set(BUILTIN_ENTITIES)
        self.dest_names: set[str] = set()
        self.dest_tags: dict[str, set[str]] = {}
        self.detectors = {"ocr": True, "faces": True, "barcodes": True, "metadata": True, "prompt": True}
        self.min_score = 0.5

    def err(self, path: Path, message: str, hint: str = "", key: bool = False) -> None:
        self.issues.append(self.doc.issue(path, message, hint, key))

    def warn(self, path: Path, message: str, hint: str = "") -> None:
        self.issues.append(self.doc.issue(path, message, hint, level="warning"))

    # settings ---------------------------------------------------------------------------------------------
    def limits(self, raw: dict) -> Limits:
        kwargs: dict[str, Any] = {}
        for key, value in raw.items():
            if key in ("max_body_bytes", "max_image_bytes", "max_expanded_bytes"):
                kwargs[key] = parse_size(value)  # the schema already checked the shape
            elif key == "inspect_timeout_seconds":
                kwargs[key] = float(value)
            else:
                kwargs[key] = int(value)
        limits = Limits(**kwargs)
        if limits.max_image_bytes > limits.max_body_bytes:
            self.err(("settings", "limits", "max_image_bytes"), "max_image_bytes is larger than max_body_bytes",
                     "an image can never be bigger than the body it arrives in")
        return limits

    # destinations -----------------------------------------------------------------------------------------
    def destinations(self, raw: list[dict]) -> tuple[Destination, ...]:
        out = []
        seen_hosts: dict[tuple[str, tuple[str, ...]], str] = {}
        for i, d in enumerate(raw):
            p: Path = ("destinations", i)
            name = d["name"]
            if name in self.dest_names:
                self.err(p + ("name",), f"duplicate destination name '{name}'", "names must be unique")
            self.dest_names.add(name)
            for t in d.get("tags", []):
                self.dest_tags.setdefault(t, set()).add(name)
            paths = []
            for j, path in enumerate(d.get("paths", [])):
                if not path.startswith("/"):
                    self.err(p + ("paths", j), f"path prefix '{path}' must start with '/'",
                             f"write '/{path}' (prefixes are matched against the URL path)")
                elif "*" in path or "?" in path:
                    self.err(p + ("paths", j), f"path prefix '{path}' contains '*' or '?'",
                             "paths are plain prefixes: '/bucket/' already matches everything below it")
                else:
                    paths.append(normalize_path(path))
            hosts = []
            for j, host in enumerate(d["hosts"]):
                problem = check_host_glob(host)
                if problem:
                    self.err(p + ("hosts", j), f"bad host '{host}': {problem}",
                             "use a host name like api.example.com or *.example.com")
                    continue
                if is_shared_host(host) and not paths:
                    self.err(p + ("hosts", j), f"'{host}' is a shared storage/CDN host and destination '{name}' "
                             "has no paths", "add paths with the bucket, e.g. paths: [/my-bucket/], or it would "
                             "inspect every tenant's uploads")
                key = (host.lower(), tuple(paths))
                if key in seen_hosts:
                    self.warn(p + ("hosts", j), f"host '{host}' is already in destination '{seen_hosts[key]}'",
                              "the first destination in the file wins; this entry never matches")
                seen_hosts.setdefault(key, name)
                hosts.append(host.lower())
            methods = self.methods(d["methods"], p + ("methods",)) if "methods" in d else DEFAULT_METHODS
            out.append(Destination(name, tuple(hosts), tuple(paths), methods, frozenset(d.get("tags", []))))
        for tag in self.dest_tags:
            if tag in self.dest_names:
                self.err(("destinations",), f"'{tag}' is both a destination name and a tag",
                         "rules could not tell which one you mean; rename one")
        return tuple(out)

    def methods(self, raw: Any, p: Path) -> frozenset[str]:
        out = set()
        for j, m in enumerate(_as_list(raw)):
            if m.upper() not in HTTP_METHODS:
                self.err(p + (j,) if isinstance(raw, list) else p, f"unknown HTTP method '{m}'",
                         did_you_mean(m.upper(), HTTP_METHODS))
            out.add(m.upper())
        return frozenset(out)

    def resolve_destinations(self, raw: Any, p: Path) -> frozenset[str]:
        out: set[str] = set()
        for j, item in enumerate(_as_list(raw)):
            if item in self.dest_names:
                out.add(item)
            elif item in self.dest_tags:
                out |= self.dest_tags[item]
            else:
                self.err(p + (j,) if isinstance(raw, list) else p, f"unknown destination '{item}'",
                         did_you_mean(item, self.dest_names | set(self.dest_tags)) + " Destination names and tags "
                         "are defined under 'destinations:'.")
        return frozenset(out)

    # recognizers ------------------------------------------------------------------------------------------
    def recognizers(self, raw: list[dict]) -> tuple[CustomRecognizer, ...]:
        out = []
        names: set[str] = set()
        for i, r in enumerate(raw):
            p: Path = ("recognizers", i)
            if r["name"] in names:
                self.err(p + ("name",), f"duplicate recognizer name '{r['name']}'")
            names.add(r["name"])
            if not r.get("patterns") and not r.get("deny_list"):
                self.err(p, f"recognizer '{r['name']}' has neither patterns nor deny_list",
                         "add patterns: [{regex: '...', score: 0.8}] or deny_list: [WORD, ...]")
            patterns = []
            for j, pat in enumerate(r.get("patterns", [])):
                try:
                    re.compile(pat["regex"])
                except re.error as exc:
                    self.err(p + ("patterns", j, "regex"), f"bad regex {pat['regex']!r}: {exc}",
                             "quote regexes with single quotes in YAML so backslashes stay as written")
                patterns.append((pat["regex"], float(pat.get("score", 0.6))))
            self.entities.add(r["entity"])
            out.append(CustomRecognizer(r["name"], r["entity"], tuple(patterns), tuple(r.get("context", [])),
                                        tuple(r.get("deny_list", [])), float(r.get("deny_list_score", 0.9))))
        return tuple(out)

    # identity ---------------------------------------------------------------------------------------------
    def identity(self, raw: dict) -> Identity:
        for key in ("user_header", "groups_header"):
            if key in raw and not _HEADER.match(raw[key]):
                self.err(("identity", key), f"'{raw[key]}' is not a valid HTTP header name")
        members: dict[str, set[str]] = {}
        for group, users in raw.get("groups", {}).items():
            for u in users:
                members.setdefault(u.lower(), set()).add(group)
        if "groups_file" in raw:
            for user, group in self.groups_file(raw["groups_file"]):
                members.setdefault(user.lower(), set()).add(group)
        return Identity(raw.get("user_header"), raw.get("groups_header"),
                        {u: frozenset(g) for u, g in members.items()})

    def groups_file(self, name: str) -> list[tuple[str, str]]:
        path = (self.base_dir / name).resolve()
        p: Path = ("identity", "groups_file")
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.err(p, f"cannot read groups file {str(path)!r}: {exc.strerror or exc}",
                     "the path is relative to the policy file")
            return []
        self.extra_files.append((str(path), data))
        gdoc, issues = parse_yaml(data.decode("utf-8", "replace"), str(path))
        self.issues += issues
        if gdoc is None or issues:
            return []
        out = []
        if not isinstance(gdoc.data, dict):
            self.issues.append(gdoc.issue((), "a groups file must map each group to a list of users",
                                          "e.g.  finance: [alice@corp.example, bob@corp.example]"))
            return []
        for group, users in gdoc.data.items():
            if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
                self.issues.append(gdoc.issue((group,), f"group '{group}' must be a list of user names"))
                continue
            out += [(u, group) for u in users]
        return out

    # conditions -------------------------------------------------------------------------------------------
    def condition(self, raw: dict, p: Path) -> Condition:
        kw: dict[str, Any] = {}
        if any(k in raw for k in ("entity", "source", "min_score", "min_count")):
            kw["findings"] = self.finding_filter(raw, p)
        if "destinations" in raw:
            kw["destinations"] = self.resolve_destinations(raw["destinations"], p + ("destinations",))
        if "hosts" in raw:
            for j, h in enumerate(_as_list(raw["hosts"])):
                problem = check_host_glob(h)
                if problem:
                    self.err(self._item(raw, "hosts", p, j), f"bad host '{h}': {problem}",
                             "use a host name like api.example.com or *.example.com")
            kw["hosts"] = tuple(h.lower() for h in _as_list(raw["hosts"]))
        if "paths" in raw:
            for j, path in enumerate(_as_list(raw["paths"])):
                if not path.startswith("/"):
                    self.err(self._item(raw, "paths", p, j), f"path prefix '{path}' must start with '/'")
            kw["paths"] = tuple(normalize_path(x) for x in _as_list(raw["paths"]))
        if "methods" in raw:
            kw["methods"] = self.methods(raw["methods"], p + ("methods",))
        if "headers" in raw:
            for name in raw["headers"]:
                if not _HEADER.match(name):
                    self.err(p + ("headers", name), f"'{name}' is not a valid HTTP header name", key=True)
            kw["headers"] = tuple((n.lower(), tuple(str(v) for v in _as_list(vals)))
                                  for n, vals in raw["headers"].items())
        if "users" in raw:
            kw["users"] = tuple(u.lower() for u in _as_list(raw["users"]))
        if "groups" in raw:
            kw["groups"] = frozenset(_as_list(raw["groups"]))
        if "clients" in raw:
            nets = []
            for j, c in enumerate(_as_list(raw["clients"])):
                try:
                    nets.append(ipaddress.ip_network(c, strict=False))
                except ValueError:
                    self.err(self._item(raw, "clients", p, j), f"bad client network '{c}'",
                             "use an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32")
            kw["clients"] = tuple(nets)
        for key in ("image_count", "image_pixels", "total_bytes", "image_bytes"):
            if key in raw:
                kw[key] = self.range(raw[key], p + (key,), sizes=key.endswith("bytes"))
        if "format" in raw:
            fmts = []
            for j, f in enumerate(_as_list(raw["format"])):
                name = _FORMAT_ALIASES.get(f.upper(), f.upper())
                if name not in FORMATS:
                    self.err(self._item(raw, "format", p, j), f"unknown image or document format '{f}'",
                             did_you_mean(f.upper(), set(FORMATS)))
                fmts.append(name)
            kw["formats"] = frozenset(fmts)
        for key in ("all", "any", "none"):
            if key in raw:
                kw[key] = tuple(self.condition(c, p + (key, j)) for j, c in enumerate(raw[key]))
        return Condition(**kw)

    @staticmethod
    def _item(raw: dict, key: str, p: Path, j: int) -> Path:
        return p + (key, j) if isinstance(raw[key], list) else p + (key,)

    def finding_filter(self, raw: dict, p: Path) -> FindingFilter:
        entities = None
        if "entity" in raw:
            entities = frozenset(e for e in _as_list(raw["entity"]))
            for j, e in enumerate(_as_list(raw["entity"])):
                if e not in self.entities:
                    self.err(self._item(raw, "entity", p, j), f"unknown entity '{e}'",
                             did_you_mean(e, self.entities) + " Custom entities are defined under 'recognizers:'.")
                for det, ents in _DETECTOR_ENTITIES.items():
                    if e in ents and not self.detectors[det]:
                        self.warn(self._item(raw, "entity", p, j),
                                  f"entity '{e}' needs the '{det}' detector, which is disabled",
                                  f"set settings.detectors.{det}: true or this condition never matches")
        sources = None
        if "source" in raw:
            sources = frozenset(_as_list(raw["source"]))
            for j, s in enumerate(_as_list(raw["source"])):
                if s not in SOURCES:
                    self.err(self._item(raw, "source", p, j), f"unknown source '{s}'", did_you_mean(s, SOURCES))
                elif s in _SOURCE_DETECTOR and not self.detectors[_SOURCE_DETECTOR[s]]:
                    self.warn(self._item(raw, "source", p, j),
                              f"source '{s}' needs the '{_SOURCE_DETECTOR[s]}' detector, which is disabled")
        return FindingFilter(entities, sources, float(raw.get("min_score", self.min_score)),
                             int(raw.get("min_count", 1)))

    def range(self, raw: dict, p: Path, sizes: bool) -> Range:
        lo, hi = raw.get("min"), raw.get("max")
        if sizes:
            lo = parse_size(lo) if lo is not None else None
            hi = parse_size(hi) if hi is not None else None
        if lo is not None and hi is not None and lo > hi:
            self.err(p, f"min ({raw['min']}) is larger than max ({raw['max']})", "the range is inclusive: min <= max")
        return Range(lo, hi)

    # rules ------------------------------------------------------------------------------------------------
    def rules(self, raw: list[dict]) -> tuple[Rule, ...]:
        out: list[Rule] = []
        names: dict[str, int] = {}
        for i, r in enumerate(raw):
            p: Path = ("rules", i)
            name = r["name"]
            if name in names:
                self.err(p + ("name",), f"duplicate rule name '{name}'",
                         f"rule names appear in audit logs and metrics; the first is on line {names[name]}")
            line = self.doc.where(p)[0]
            names.setdefault(name, line)
            dests = self.resolve_destinations(r["destinations"], p + ("destinations",)) \
                if "destinations" in r else None
            when = self.condition(r["when"], p + ("when",)) if "when" in r else None
            unless = self.condition(r["unless"], p + ("unless",)) if "unless" in r else None
            action = Action(r["action"])
            if action is Action.REDACT and not (when and when.uses_findings()):
                self.err(p + ("action",), f"rule '{name}' redacts but its 'when' names no entity or source",
                         "redact paints over the findings the rule's conditions match, e.g. when: {entity: FACE}")
            fallback = self.redact_fallback(r, action, when, p)
            rule = Rule(name, action, dests, when, unless, r.get("scope", "image"), r.get("description", ""), line,
                        fallback)
            if r.get("enabled", True) is False:
                continue
            for earlier in out:
                if earlier.unconditional and (earlier.destinations is None or
                                              (dests is not None and dests <= earlier.destinations)):
                    where = "every request" if earlier.destinations is None else \
                        "every request to " + ", ".join(sorted(earlier.destinations))
                    self.err(p, f"rule '{name}' can never match: rule '{earlier.name}' (line {earlier.line}) "
                             f"matches {where} first", "rules are checked top to bottom and the first match wins; "
                             "move this rule up or give the earlier rule a 'when'")
                    break
            out.append(rule)
        return tuple(out)

    def redact_fallback(self, r: dict, action: Action, when: Condition | None, p: Path) -> Action:
        """A redact rule's action for documents it cannot rewrite; say so when the rule leaves it implicit."""
        if "redact_fallback" in r:
            if action is not Action.REDACT:
                self.warn(p + ("redact_fallback",), f"rule '{r['name']}' does not redact: redact_fallback is ignored")
            return Action(r["redact_fallback"])
        if action is Action.REDACT:
            unredactable = sorted((_formats_bound(when) or FORMATS) - REDACTABLE_FORMATS - {"OLE"})
            if unredactable:
                self.warn(p + ("action",), f"rule '{r['name']}' redacts, but {', '.join(unredactable)} uploads cannot "
                          "be redacted faithfully: they are blocked (redact_fallback: block)",
                          "set redact_fallback: block, warn or audit on the rule to say what happens to them, or "
                          "limit the rule with format: [...] to images, TEXT, ZIP, DOCX and PPTX")
        return Action.BLOCK

    # whole policy -----------------------------------------------------------------------------------------
    def build(self, path: str | None, version_id_parts: list[bytes]) -> Policy:
        data = self.doc.data
        settings = data.get("settings", {})
        self.detectors.update(settings.get("detectors", {}))
        self.min_score = float(settings.get("min_score", 0.5))
        limits = self.limits(settings.get("limits", {}))
        destinations = self.destinations(data.get("destinations", []))
        recognizers = self.recognizers(data.get("recognizers", []))
        identity = self.identity(data.get("identity", {}))
        rules = self.rules(data.get("rules", []))
        if not destinations:
            self.warn(("destinations",) if "destinations" in data else (),
                      "no destinations: nothing will be intercepted or inspected")
        options = InspectOptions(limits, recognizers, tuple(data.get("allow_list", [])), **self.detectors)
        digest = hashlib.sha256()
        for part in version_id_parts + [d for _, d in self.extra_files]:
            digest.update(hashlib.sha256(part).digest())
        name = data.get("name") or (FsPath(path).stem if path else "policy")
        return Policy(name=name, path=path, version_id=digest.hexdigest()[:16], limits=limits,
                      on_error=Action(settings.get("on_error", "block")),
                      default_action=Action(settings.get("default_action", "allow")), min_score=self.min_score,
                      inspect_options=options, destinations=destinations, rules=rules, identity=identity,
                      source_files=tuple([path] if path else []) + tuple(f for f, _ in self.extra_files),
                      warnings=tuple(i for i in self.issues if i.level == "warning"))


def _formats_bound(cond: Condition | None) -> frozenset[str] | None:
    """The formats a condition can ever match (None: any), from the `format` keys (and `source: prompt`) it requires."""
    if cond is None:
        return None
    bounds = [cond.formats] if cond.formats is not None else []
    if cond.findings is not None and cond.findings.sources == frozenset({"prompt"}):
        bounds.append(frozenset({"PROMPT"}))  # only the prompt has findings of source prompt
    bounds += [b for b in map(_formats_bound, cond.all or ()) if b is not None]
    if cond.any:
        branches = [_formats_bound(c) for c in cond.any]
        if all(b is not None for b in branches):
            bounds.append(frozenset().union(*branches))
    return frozenset.intersection(*bounds) if bounds else None


def _sorted(issues: list[PolicyIssue]) -> list[PolicyIssue]:
    return sorted(issues, key=lambda i: (i.file, i.line, i.column))


def load_policy_text(text: str, file: str = "<policy>", base_dir: str | os.PathLike | None = None,
                     path: str | None = None) -> Policy:
    """Load a policy from YAML text. Raises PolicyError listing every error (and warning)."""
    doc, issues = parse_yaml(text, file)
    if doc is not None and doc.data is None:
        issues.append(PolicyIssue(file, 1, 1, "the policy file is empty", "start with 'version: 1' and 'rules:'"))
    elif doc is not None and not isinstance(doc.data, dict):
        issues.append(doc.issue((), "a policy must be a mapping (key: value) at the top level"))
    elif doc is not None:
        issues += validate_structure(doc)
    if doc is None or any(i.level == "error" for i in issues):
        raise PolicyError(_sorted(issues))
    builder = _Builder(doc, FsPath(base_dir) if base_dir else FsPath.cwd())
    try:
        policy = builder.build(path, [text.encode()])
    except Exception as exc:  # a bug here must still point at the file, not crash start-up with a traceback
        builder.issues.append(PolicyIssue(file, 1, 1, f"internal error while loading the policy: {exc!r}"))
        raise PolicyError(_sorted(builder.issues)) from exc
    if any(i.level == "error" for i in builder.issues + issues):
        raise PolicyError(_sorted(builder.issues + issues))
    return policy


def load_policy(path: str | os.PathLike) -> Policy:
    """Load and validate a policy file. Raises PolicyError (with file:line:col for every issue)."""
    p = FsPath(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as exc:
        raise PolicyError([PolicyIssue(str(path), 0, 0, f"cannot read policy: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise PolicyError([PolicyIssue(str(path), 0, 0, "policy is not UTF-8 text")]) from exc
    return load_policy_text(text, str(path), p.resolve().parent, str(p.resolve()))


def load_default_policy() -> Policy:
    return load_policy(DEFAULT_POLICY_PATH)
