"""The real-image benchmark set (bench/real): its manifest holds, and the checker catches what it must."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.real import check

REAL = Path(__file__).resolve().parent.parent / "bench" / "real"


def test_shipped_set_passes_the_checker():
    errors, _ = check.check(REAL)
    assert errors == {}


def test_every_image_has_source_licence_and_readable_labels():
    manifest = json.loads((REAL / "manifest.json").read_text())
    assert manifest["version"] == 2 and manifest["split"] == "real"
    entries = manifest["images"]
    assert len(entries) >= 25
    assert sum(e["clean"] for e in entries) >= 16
    for e in entries:
        assert e["license"].strip() and e["source"].strip() and e["notes"].strip()
        assert all(it["text"] for it in e["items"] if it["source"] == "text")


def test_readme_lists_every_image():
    readme = (REAL / "README.md").read_text()
    for e in json.loads((REAL / "manifest.json").read_text())["images"]:
        assert f"`{e['file'].removeprefix('images/')}`" in readme


@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / "real"
    shutil.copytree(REAL, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _edit(root: Path, fn) -> None:
    path = root / "manifest.json"
    manifest = json.loads(path.read_text())
    fn(manifest)
    path.write_text(json.dumps(manifest))


def _labelled(manifest: dict) -> dict:
    return next(e for e in manifest["images"] if e["items"])


def test_checker_catches_a_changed_file(copy):
    first = json.loads((copy / "manifest.json").read_text())["images"][0]["file"]
    path = copy / first
    path.write_bytes(path.read_bytes() + b"\0")
    errors, _ = check.check(copy)
    assert "sha256 does not match the file" in errors[first]


def test_checker_catches_a_box_outside_the_image(copy):
    _edit(copy, lambda m: _labelled(m)["items"][0].update(box=[0, 0, 10**6, 10]))
    errors, _ = check.check(copy)
    assert any("outside" in msg for msgs in errors.values() for msg in msgs)


def test_checker_catches_a_missing_licence_and_a_clean_flag_that_lies(copy):
    def edit(m):
        m["images"][0]["license"] = " "
        _labelled(m)["clean"] = True
    _edit(copy, edit)
    errors, _ = check.check(copy)
    msgs = [msg for msgs in errors.values() for msg in msgs]
    assert "empty license" in msgs
    assert "clean must be true exactly when there are no items" in msgs


def test_checker_rejects_a_card_number_that_fails_luhn(copy):
    _edit(copy, lambda m: _labelled(m)["items"].append(
        {"entity": "CREDIT_CARD", "box": [0, 0, 5, 5], "text": "4111 1111 1111 1112", "source": "text"}))
    errors, _ = check.check(copy)
    assert any("CREDIT_CARD" in msg and "checksum" in msg for msgs in errors.values() for msg in msgs)


def test_checksums():
    assert check.luhn_ok("4111 1111 1111 1111") and not check.luhn_ok("4111 1111 1111 1112")
    assert check.iban_ok("GB82 WEST 1234 5698 7654 32") and not check.iban_ok("GB82 WEST 1234 5698 7654 33")
    assert check.ssn_ok("536-22-8726") and not check.ssn_ok("666-22-8726") and not check.ssn_ok("536-00-8726")


def test_mrz_check_digits_of_the_icao_specimen():
    td3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    assert check.mrz_problems(td3) == []
    broken = [td3[0], td3[1][:9] + "7" + td3[1][10:]]
    assert any("document number" in p for p in check.mrz_problems(broken))
    td1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
    assert check.mrz_problems(td1) == []
