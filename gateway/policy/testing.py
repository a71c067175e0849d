"""`policy test`: run YAML test cases (image or fake findings + request -> expected action/rule) against a policy.

A test file looks like:

    policy: ../default.yaml
    cases:
      - name: email screenshot to ChatGPT is redacted
        image: {render_text: "mail me at a.b@corp-mail.com", width: 800}
        request: {host: chatgpt.com, path: /backend-api/files, method: POST, user: alice, groups: [eng]}
        expect: {action: redact, rule: redact-pii-public-chatbots, redacted: [EMAIL_ADDRESS]}

Images are a file path (relative to the test file), a generator (render_text, face_photo, qr_code, blank; any of
them + gps: [lat, lon]), `findings: [...]` (skips the inspector: pure policy logic) or `error: corrupt`. A file that
is a document or archive (PDF, DOCX, ZIP, ...) is inspected as one; `document: PDF` (+ `pages: 3`) makes a fake
finding set a document of that type, whose findings default to source text (`document: PROMPT`: source prompt).
`prompt: "text"` (or a list of texts) is the prompt typed beside the images, read by the real text analyzer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gateway.documents.sniff import sniff_document
from gateway.formats import DOCUMENT_TYPES, REDACTABLE_DOCUMENT_TYPES, sniff_format
from gateway.models import (
    Action,
    Decision,
    DocumentFacts,
    Finding,
    ImageReport,
    InspectionErrorKind,
    InspectOptions,
    RequestContext,
)
from gateway.policy.errors import PolicyError, PolicyIssue
from gateway.policy.loader import load_policy
from gateway.policy.model import Policy
from gateway.policy.schema import did_you_mean
from gateway.policy.yamlsrc import Document, parse_yaml

_FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
          "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"]
_CASE_KEYS = {"name", "image", "images", "prompt", "request", "expect"}
_REQUEST_KEYS = {"host", "path", "method", "user", "groups", "client_ip", "headers"}
_EXPECT_KEYS = {"action", "rule", "destination", "redacted"}


class InspectorLike(Protocol):
    def inspect(self, data: bytes) -> ImageReport: ...

    def inspect_document(self, data: bytes, kind: str | None = None) -> ImageReport: ...

    def inspect_prompt(self, texts: list[str]) -> list[ImageReport]: ...


InspectorFactory = Callable[[InspectOptions], InspectorLike]


@dataclass(frozen=True)
class _TestContext(RequestContext):
    """RequestContext plus request headers, for header conditions."""

    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class CaseResult:
    name: str
    passed: bool
    expected: str
    got: str
    detail: str = ""


class TestFileError(Exception):
    """A test file that cannot be run (not a failing case)."""


# image generators -----------------------------------------------------------------------------------------------
def _font(size: int):
    from PIL import ImageFont
    for path in _FONTS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def render_text(text: str, width: int = 800, font_size: int = 28, height: int | None = None):
    """Black text on white, wrapped to `width`, like a screenshot of a document."""
    from PIL import Image, ImageDraw
    font = _font(font_size)
    lines: list[str] = []
    for para in str(text).split("\n"):
        line = ""
        for word in para.split(" "):
            trial = f"{line} {word}".strip()
            if line and font.getlength(trial) > width - 2 * font_size:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    step = int(font_size * 1.6)
    img = Image.new("RGB", (width, height or step * len(lines) + 2 * font_size), "white")
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(lines):
        draw.text((font_size, font_size + n * step), line, fill="black", font=font)
    return img


def face_photo(name: str):
    """A real public-domain face photo shipped inside an installed package."""
    from PIL import Image
    where = {"astronaut": ("skimage", "data/astronaut.png"),
             "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")}
    if name not in where:
        raise TestFileError(f"unknown face_photo '{name}': {did_you_mean(name, set(where))}")
    package, rel = where[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise TestFileError(f"face_photo '{name}' needs the '{package}' package installed")
    path = Path(list(spec.submodule_search_locations)[0]) / rel
    if not path.exists():
        raise TestFileError(f"face_photo '{name}': {path} not found")
    return Image.open(path).convert("RGB")


def qr_code(text: str, scale: int = 6):
    import numpy as np
    import zxingcpp
    from PIL import Image
    code = zxingcpp.create_barcode(str(text), zxingcpp.BarcodeFormat.QRCode)
    arr = np.asarray(code.to_image(scale=scale))
    return Image.fromarray(np.pad(arr, 4 * scale, constant_values=255)).convert("RGB")


def _deg(value: float) -> tuple[float, float, float]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    return float(d), float(m), round((value - d - m / 60) * 3600, 2)


def generate_image(spec: dict[str, Any]) -> bytes:
    """Bytes of a generated image: PNG, or JPEG when `gps: [lat, lon]` asks for EXIF location."""
    from PIL import ExifTags, Image
    if "render_text" in spec:
        img = render_text(spec["render_text"], int(spec.get("width", 800)), int(spec.get("font_size", 28)),
                          spec.get("height"))
    elif "face_photo" in spec:
        img = face_photo(str(spec["face_photo"]))
    elif "qr_code" in spec:
        img = qr_code(spec["qr_code"])
    elif "blank" in spec:
        w, h = spec["blank"] if isinstance(spec["blank"], list) else (640, 480)
        img = Image.new("RGB", (int(w), int(h)), "white")
    else:
        raise TestFileError(f"unknown image spec {sorted(spec)}: use file, render_text, face_photo, qr_code, "
                            "blank, findings or error")
    out = io.BytesIO()
    if "gps" in spec:
        lat, lon = (float(x) for x in spec["gps"])
        exif = Image.Exif()
        exif[ExifTags.Base.GPSInfo] = {1: "N" if lat >= 0 else "S", 2: _deg(lat),
                                       3: "E" if lon >= 0 else "W", 4: _deg(lon)}
        img.save(out, "JPEG", quality=92, exif=exif)
    else:
        img.save(out, "PNG")
    return out.getvalue()


# running ----------------------------------------------------------------------------------------------------------
def _default_factory(options: InspectOptions) -> InspectorLike:
    from gateway.inspection import Inspector  # provided by the inspection layer; loads real models
    return Inspector(options)


def _fake_document(spec: dict) -> DocumentFacts | None:
    if "document" not in spec:
        return None
    kind = str(spec["document"]).upper()
    if kind not in DOCUMENT_TYPES:
        raise TestFileError(f"unknown document type '{spec['document']}': {did_you_mean(kind, set(DOCUMENT_TYPES))}")
    return DocumentFacts(kind, pages=int(spec.get("pages", 1)), redactable=kind in REDACTABLE_DOCUMENT_TYPES)


def _fake_report(index: int, spec: dict) -> ImageReport:
    document = _fake_document(spec)
    if "error" in spec:
        try:
            kind = InspectionErrorKind(spec["error"])
        except ValueError:
            raise TestFileError(f"unknown error kind '{spec['error']}': "
                                f"{did_you_mean(spec['error'], {k.value for k in InspectionErrorKind})}") from None
        return ImageReport(f"fake{index}", int(spec.get("size_bytes", 1000)), document and document.type, error=kind,
                           document=document)
    findings = []
    for f in spec.get("findings") or []:
        if not isinstance(f, dict) or "entity" not in f:
            raise TestFileError("each finding needs at least an entity, e.g. {entity: EMAIL_ADDRESS, score: 0.9}")
        source = f.get("source", ("prompt" if document.type == "PROMPT" else "text") if document else "ocr")
        boxed = source not in ("metadata", "text", "prompt")
        box = tuple(f["box"]) if f.get("box") is not None else ((0, 0, 10, 10) if boxed else None)
        findings.append(Finding(f["entity"], source, float(f.get("score", 1.0)), box))
    if document is not None:
        return ImageReport(f"fake{index}", int(spec.get("size_bytes", 1000)), document.type, findings=findings,
                           document=document)
    return ImageReport(f"fake{index}", int(spec.get("size_bytes", 1000)), spec.get("format", "PNG"),
                       int(spec.get("width", 800)), int(spec.get("height", 600)), findings)


class _Runner:
    def __init__(self, policy: Policy, base: Path, factory: InspectorFactory | None) -> None:
        self.policy = policy
        self.base = base
        self.factory = factory or _default_factory
        self.inspector: InspectorLike | None = None

    def report(self, index: int, spec: Any) -> ImageReport:
        if isinstance(spec, str):
            spec = {"file": spec}
        if not isinstance(spec, dict):
            raise TestFileError(f"image {index + 1}: expected a file name or a mapping")
        if "findings" in spec or "error" in spec or ("document" in spec and "file" not in spec):
            return _fake_report(index, spec)
        if "file" in spec:
            path = self.base / spec["file"]
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise TestFileError(f"image {index + 1}: cannot read {path}: {exc.strerror}") from None
        else:
            data = generate_image(spec)
        if self.inspector is None:
            self.inspector = self.factory(self.policy.inspect_options)
        kind = None if sniff_format(data) else sniff_document(data, text="file" in spec)
        try:
            return self.inspector.inspect(data) if kind is None else self.inspector.inspect_document(data, kind)
        except Exception as exc:  # the gateway treats a crashing inspector as an uninspectable image
            return ImageReport(hashlib.sha256(data).hexdigest(), len(data), error=InspectionErrorKind.INTERNAL,
                               error_detail=repr(exc))

    def prompt_report(self, spec: Any) -> ImageReport:
        """The prompt texts of a case through the real analyzer, as the gateway reports them (one PROMPT upload)."""
        from gateway.prompt import merged_report

        texts = [spec] if isinstance(spec, str) else spec
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise TestFileError("prompt: expected a text or a list of texts")
        if self.inspector is None:
            self.inspector = self.factory(self.policy.inspect_options)
        return merged_report(texts, self.inspector.inspect_prompt(texts))

    def run(self, case: dict) -> CaseResult:
        name = str(case.get("name", "?"))
        req = case.get("request") or {}
        expect = case.get("expect") or {}
        images = case.get("images", [case["image"]] if "image" in case else [])
        reports = [self.report(i, spec) for i, spec in enumerate(images)]
        if "prompt" in case:
            reports.append(self.prompt_report(case["prompt"]))
        host, path, method = req.get("host", ""), req.get("path", "/"), req.get("method", "POST")
        destination = self.policy.destination_for(host, path, method)
        user = req.get("user")
        groups = frozenset(req.get("groups", [])) | self.policy.groups_for(user)
        headers = {str(k): str(v) for k, v in (req.get("headers") or {}).items()}
        ctx = _TestContext(host, path, method, destination, req.get("client_ip", ""), user, groups,
                           len(reports), sum(r.size_bytes for r in reports), headers)
        if destination is None:
            decision = Decision(Action.ALLOW, None, "out of scope: not inspected")
        else:
            decision = self.policy.decide(ctx, reports)
        problems = []
        if "action" in expect and decision.action.value != expect["action"]:
            problems.append(f"action {decision.action.value} != {expect['action']}")
        if "rule" in expect and decision.rule != expect["rule"]:
            problems.append(f"rule {decision.rule} != {expect['rule']}")
        if "destination" in expect and destination != expect["destination"]:
            problems.append(f"destination {destination} != {expect['destination']}")
        if "redacted" in expect:
            got_ents = sorted({f.entity for fs in decision.redactions.values() for f in fs})
            if got_ents != sorted(set(expect["redacted"])):
                problems.append(f"redacted {got_ents} != {sorted(set(expect['redacted']))}")
        wanted = " ".join(f"{k}={_show(expect[k])}" for k in ("action", "rule", "destination") if k in expect)
        got = f"action={decision.action.value} rule={_show(decision.rule)}"
        errors = [f"image {i + 1}: {r.error.value} {r.error_detail}".strip() for i, r in enumerate(reports) if not r.ok]
        detail = "; ".join(problems + errors) + (f" | {decision.reason}" if problems else "")
        return CaseResult(name, not problems, wanted, got, detail)


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


def _check_keys(doc: Document, path: tuple, value: Any, allowed: set[str], what: str) -> None:
    if not isinstance(value, dict):
        raise PolicyError([doc.issue(path, f"{what} must be a mapping")])
    issues = [doc.issue(path + (k,), f"unknown key '{k}' in {what}", did_you_mean(k, allowed), key=True)
              for k in value if k not in allowed]
    if issues:
        raise PolicyError(issues)


def load_test_file(path: str | os.PathLike) -> tuple[Document, Path]:
    """Parse and check the shape of a test file; returns it and the policy path it names."""
    p = Path(path)
    doc, issues = parse_yaml(p.read_text(encoding="utf-8"), str(p))
    if doc is None or issues:
        raise PolicyError(issues)
    _check_keys(doc, (), doc.data, {"policy", "cases"}, "a test file")
    if "policy" not in doc.data or not isinstance(doc.data.get("cases"), list):
        raise PolicyError([doc.issue((), "a test file needs 'policy: <file>' and a list of 'cases'")])
    for i, case in enumerate(doc.data["cases"]):
        _check_keys(doc, ("cases", i), case, _CASE_KEYS, "a test case")
        if "expect" not in case or "action" not in (case["expect"] or {}):
            raise PolicyError([doc.issue(("cases", i), "a test case needs expect: {action: ...}")])
        _check_keys(doc, ("cases", i, "expect"), case["expect"], _EXPECT_KEYS, "expect")
        if "request" in case:
            _check_keys(doc, ("cases", i, "request"), case["request"], _REQUEST_KEYS, "request")
    return doc, (p.parent / doc.data["policy"]).resolve()


def find_test_files(path: str | os.PathLike) -> list[Path]:
    """A test file itself, or a policy's tests: <stem>.test.yaml / <stem>.*.test.yaml in tests/ or next to it."""
    p = Path(path)
    if p.name.endswith(".test.yaml") or p.name.endswith(".test.yml"):
        return [p]
    found: list[Path] = []
    for folder in (p.parent / "tests", p.parent):
        found += sorted(folder.glob(f"{p.stem}.test.yaml")) + sorted(folder.glob(f"{p.stem}.*.test.yaml"))
    return found


def run_test_file(path: str | os.PathLike, inspector_factory: InspectorFactory | None = None,
                  policy: Policy | None = None) -> list[CaseResult]:
    """Run every case of one test file. Raises PolicyError for a broken policy or test file."""
    doc, policy_path = load_test_file(path)
    policy = policy or load_policy(policy_path)
    runner = _Runner(policy, Path(path).parent, inspector_factory)
    results = []
    for i, case in enumerate(doc.data["cases"]):
        try:
            results.append(runner.run(case))
        except TestFileError as exc:
            line, col = doc.where(("cases", i))
            raise PolicyError([PolicyIssue(doc.file, line, col, str(exc))]) from None
    return results


def format_results(results: list[CaseResult]) -> str:
    """A plain-text pass/fail table."""
    rows = [("RESULT", "CASE", "EXPECTED", "GOT")] + [
        ("PASS" if r.passed else "FAIL", r.name, r.expected, r.got) for r in results]
    widths = [min(max(len(row[c]) for row in rows), 60) for c in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell if len(cell) <= w else cell[:w - 3] + "..." for cell, w in zip(row, widths)]
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip())
        if n and not results[n - 1].passed and results[n - 1].detail:
            lines.append(f"      -> {results[n - 1].detail}")
        elif n and results[n - 1].detail:
            lines.append(f"      note: {results[n - 1].detail}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed}/{len(results)} passed")
    return "\n".join(lines)
