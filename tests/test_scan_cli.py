"""`dlp-gateway scan`: the stable --json contract, --out-dir, --explain and --annotate, with real models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.images import gps_exif, photo_like, text_image

pytestmark = pytest.mark.slow
EXE = str(Path(sys.executable).with_name("dlp-gateway"))
POLICY = str(Path(__file__).parent / "policies" / "e2e.yaml")


def scan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "scan", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scan")
    files = {
        "card": text_image(["Card number 4539 1488 0343 6467"]),
        "email": text_image(["Write to jane.doe@corpmail.com"], fmt="JPEG", exif=gps_exif()),
        "clean": photo_like(fmt="PNG"),
        "corrupt": b"\xff\xd8\xff\xe0" + b"\x00" * 64,
    }
    paths = {}
    for name, data in files.items():
        paths[name] = d / f"{name}.{'jpg' if name in ('email', 'corrupt') else 'png'}"
        paths[name].write_bytes(data)
    return paths


def test_json_contract_out_dir_and_missing_file(images, tmp_path):
    out = tmp_path / "redacted"
    missing = str(tmp_path / "nope.png")
    proc = scan("--json", "--policy", POLICY, "--host", "claude.ai", "--out-dir", str(out),
                str(images["card"]), missing, str(images["email"]), str(images["clean"]), str(images["corrupt"]))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(images["card"]), missing, str(images["email"]), str(images["clean"]),
                                         str(images["corrupt"])]
    for r in rows:
        assert set(r) >= {"path", "action", "rule", "findings", "elapsed_ms"}
        for f in r["findings"]:
            assert set(f) == {"entity", "source", "score", "box"}
            assert f["source"] in {"ocr", "face", "metadata", "barcode"}
    card, miss, email, clean, corrupt = rows
    assert card["action"] == "redact" and card["rule"] == "redact-pii-anthropic"  # claude.ai is an anthropic host
    assert any(f["entity"] == "CREDIT_CARD" and len(f["box"]) == 4 for f in card["findings"])
    assert miss["error"].startswith("cannot read file")
    assert email["action"] == "redact" and {"EMAIL_ADDRESS", "EXIF_GPS"} <= {f["entity"] for f in email["findings"]}
    assert clean["action"] == "allow" and clean["rule"] is None
    assert corrupt["action"] == "block" and corrupt["rule"] == "on_error" and corrupt["error"] == "corrupt"
    # --out-dir holds exactly the redacted images, same names, same formats, no GPS
    assert sorted(p.name for p in out.iterdir()) == ["card.png", "email.jpg"]
    assert Image.open(out / "email.jpg").format == "JPEG"
    assert not Image.open(out / "email.jpg").getexif().get(0x8825)
    blocked = scan("--json", "--policy", POLICY, "--host", "chatgpt.com", str(images["card"]))
    assert json.loads(blocked.stdout)["action"] == "block" and blocked.returncode == 0


def test_explain_and_annotate(images, tmp_path):
    preview = tmp_path / "preview.png"
    proc = scan("--explain", "--policy", POLICY, "--host", "chatgpt.com", "--annotate", str(preview),
                str(images["card"]))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "BLOCK" in text and "block-pii" in text and "CREDIT_CARD" in text and "openai" in text
    assert "4539" not in text  # the explanation names entities, never the detected text
    annotated = Image.open(preview)
    assert annotated.size == Image.open(images["card"]).size
    assert any(annotated.getpixel((x, y))[0] > 150 and annotated.getpixel((x, y))[1] < 80
               for x in range(0, annotated.width, 3) for y in range(0, annotated.height, 3))  # red boxes drawn


def test_bad_policy_is_a_clear_error(tmp_path, images):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - name: x\n    action: blok\n")
    proc = scan("--policy", str(bad), str(images["clean"]))
    assert proc.returncode == 2
    assert "bad.yaml:4" in proc.stderr and "blok" in proc.stderr


def test_every_shipped_policy_test_file_passes_with_the_real_inspector():
    root = Path(__file__).resolve().parents[1] / "policies"
    files = sorted(str(p) for p in root.rglob("*.test.yaml"))
    assert len(files) >= 8
    proc = subprocess.run([EXE, "policy", "test", *files], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "FAIL" not in proc.stdout
