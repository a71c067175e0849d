"""`policy validate|schema|test` through main(argv) and one real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.models import Finding, ImageReport
from gateway.policy.cli import main
from gateway.policy.testing import find_test_files, generate_image, run_test_file

REPO = Path(__file__).resolve().parents[1]


def test_validate_ok(capsys):
    assert main(["validate", str(REPO / "policies" / "default.yaml")]) == 0
    assert "OK (policy 'default'" in capsys.readouterr().out


def test_validate_prints_every_issue_and_fails(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - {name: a, action: block, when: {entity: FAEC}}\n"
                   "  - {name: b, action: audit, when: {clients: [1.2.3.4/40]}}\n")
    good = REPO / "policies" / "default.yaml"
    assert main(["policy", "validate", str(good), str(bad)]) == 1
    out = capsys.readouterr()
    assert f"{bad}:3:45: error: unknown entity 'FAEC' (did you mean 'FACE'?" in out.err
    assert f"{bad}:4:47: error: bad client network '1.2.3.4/40'" in out.err
    assert f"{bad}: INVALID (2 errors)" in out.err
    assert "default.yaml: OK" in out.out


def test_validate_strict_fails_on_warnings(tmp_path, capsys):
    p = tmp_path / "w.yaml"
    p.write_text("version: 1\nsettings: {detectors: {faces: false}}\nrules: [{name: r, action: block, "
                 "when: {entity: FACE}}]\n")
    assert main(["validate", str(p)]) == 0
    assert main(["validate", "--strict", str(p)]) == 1
    assert "warning: entity 'FACE' needs the 'faces' detector" in capsys.readouterr().err


def test_schema_prints_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema") and "rules" in schema["properties"]


def test_shipped_logic_tests_pass(capsys):
    """Every shipped findings-only test file passes (the image ones need the real inspector)."""
    paths = [str(REPO / "policies" / "tests" / "default.test.yaml")] + \
        [str(p) for p in sorted((REPO / "policies" / "examples").glob("*.yaml"))]
    assert main(["test", *paths]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.count("passed") == 7


class FakeInspector:
    """Pretends to read text: reports EMAIL_ADDRESS for images whose bytes differ from a blank page."""

    def __init__(self, options):
        self.options = options
        self.seen: list[bytes] = []

    def inspect(self, data: bytes) -> ImageReport:
        self.seen.append(data)
        if data.startswith(b"\xff\xd8"):  # the JPEG one carries GPS
            return ImageReport("j", len(data), "JPEG", 64, 48, [Finding("EXIF_GPS", "metadata", 1.0)])
        if b"boom" in data:
            raise RuntimeError("inspector crashed")
        return ImageReport("p", len(data), "PNG", 800, 100, [Finding("EMAIL_ADDRESS", "ocr", 0.99, (1, 2, 3, 4))])


def test_policy_test_with_injected_inspector(tmp_path, capsys):
    (tmp_path / "raw.bin").write_bytes(b"\x00boom")  # binary: a text file would be read as a document
    t = tmp_path / "p.test.yaml"
    t.write_text(f"""policy: {REPO / 'policies' / 'default.yaml'}
cases:
  - name: generated text image
    image: {{render_text: "mail me at a.b@corp-mail.com", width: 800}}
    request: {{host: chatgpt.com, path: /backend-api/files}}
    expect: {{action: redact, rule: redact-pii-public-chatbots, redacted: [EMAIL_ADDRESS]}}
  - name: gps photo
    image: {{blank: [64, 48], gps: [48.85, 2.29]}}
    request: {{host: www.midjourney.com, path: /api/upload}}
    expect: {{action: redact, rule: strip-location-metadata}}
  - name: crashing inspector is on_error
    images: [raw.bin]
    request: {{host: claude.ai, path: /upload}}
    expect: {{action: block, rule: on_error}}
  - name: deliberately wrong expectation
    image: {{render_text: "x"}}
    request: {{host: claude.ai, path: /upload}}
    expect: {{action: allow}}
""")
    made: list[FakeInspector] = []

    def factory(options):
        made.append(FakeInspector(options))
        return made[-1]

    assert main(["test", str(t)], inspector_factory=factory) == 1
    out = capsys.readouterr().out
    assert len(made) == 1 and made[0].options.faces is True  # built once, with the policy's InspectOptions
    assert len(made[0].seen) == 4 and made[0].seen[0].startswith(b"\x89PNG")
    lines = [ln for ln in out.splitlines() if ln.startswith(("PASS", "FAIL"))]
    assert [ln[:4] for ln in lines] == ["PASS", "PASS", "PASS", "FAIL"]
    assert "action redact != allow" in out and "3/4 passed" in out


def test_policy_test_reports_bad_test_file(tmp_path, capsys):
    t = tmp_path / "x.test.yaml"
    t.write_text(f"policy: {REPO / 'policies' / 'default.yaml'}\ncases:\n  - name: a\n    expct: {{action: block}}\n")
    assert main(["test", str(t)]) == 1
    assert "unknown key 'expct' in a test case (did you mean 'expect'?)" in capsys.readouterr().err


def test_find_test_files_for_a_policy():
    found = find_test_files(REPO / "policies" / "default.yaml")
    assert [p.name for p in found] == ["default.test.yaml", "default.images.test.yaml"]


def test_generators_make_real_images():
    from PIL import Image
    import io
    for spec in ({"render_text": "hello", "width": 400}, {"qr_code": "https://x.example"},
                 {"blank": [10, 10], "gps": [-33.9, 151.2]}):
        Image.open(io.BytesIO(generate_image(spec))).verify()
    pytest.importorskip("skimage")
    assert Image.open(io.BytesIO(generate_image({"face_photo": "astronaut"}))).size == (512, 512)


def test_run_test_file_returns_results():
    results = run_test_file(REPO / "policies" / "examples" / "tests" / "chatgpt-enterprise.test.yaml")
    assert len(results) == 5 and all(r.passed for r in results)


def test_subprocess_entry_point():
    proc = subprocess.run([sys.executable, "-m", "gateway.policy", "validate", str(REPO / "policies" / "default.yaml")],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gateway.policy", "validate", "/nonexistent.yaml"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1 and "cannot read policy" in proc.stderr
