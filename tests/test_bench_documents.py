"""The benchmark's document corpus (bench/documents.py) and its scoring in bench/detection.py."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from bench import corpus
from bench import documents as docgen
from bench.detection import benchmark, markdown, match_document
from bench.manifest import validate


@pytest.fixture(scope="module")
def dev_docs(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("docs-dev")
    return out, docgen.generate(out, "dev", count=12)


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def test_generator_is_deterministic_per_seed(dev_docs, tmp_path):
    root, manifest = dev_docs
    again = docgen.generate(tmp_path / "again", "dev", count=12)
    assert again == manifest
    assert _files(tmp_path / "again") == _files(root)  # byte for byte: no clock in PDFs, packages or ZIPs
    other = docgen.generate(tmp_path / "other", "dev", seed=8, count=12)
    values = lambda m: [it["text"] for e in m["images"] for it in e["items"]]  # noqa: E731
    assert values(other) != values(manifest)


def test_every_kind_and_clean_documents_early(dev_docs):
    _, manifest = dev_docs
    entries = manifest["images"]
    assert {e["kind"] for e in entries[:6]} == set(docgen.KINDS)
    assert any(e["clean"] for e in entries) and sum(not e["clean"] for e in entries) >= 8


@pytest.mark.parametrize("split", ["dev", "test"])
def test_manifest_is_valid(split, tmp_path):
    manifest = docgen.generate(tmp_path, split, count=10)
    assert validate(manifest, tmp_path) == []
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest


def test_validator_rejects_bad_document_entries(dev_docs):
    root, manifest = dev_docs
    bad = json.loads(json.dumps(manifest))
    first = next(e for e in bad["images"] if e["items"])
    first["items"][0]["page"] = first["pages"] + 1
    first["items"][0]["box"] = [0, 0, 5, 5]
    bad["images"][1]["kind"] = "rtf"
    errors = validate(bad, root)
    assert any("is not one of the document's" in e for e in errors)
    assert any("has no box" in e for e in errors)
    assert any("kind 'rtf'" in e for e in errors)


def _pdf_pages(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _package_text(data: bytes) -> str:
    """Every XML part's text (tags stripped, entities decoded): what a person can read in the package."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = [zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml")]
    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(parts)))


def _scan_items(scene: str, split: str) -> list[tuple[str, str | None]]:
    index = int(scene.split("_")[0])
    spec = next(s for s in corpus.build_specs(None, split) if s.index == index)
    return [(it.entity, it.text) for it in corpus.render_scene(spec).items if it.source in ("text", "face")]


def test_labels_are_in_the_document(dev_docs):
    """Every labelled value is in the text a reader extracts (on its page); a scan's labels are its scene's."""
    root, manifest = dev_docs
    for entry in manifest["images"]:
        data = (root / entry["file"]).read_bytes()
        items = [it for it in entry["items"] if it.get("member") != "scan.png"]
        if entry["kind"] == "pdf_scan":
            assert [t.strip() for t in _pdf_pages(data)] == [""]  # no text layer: only the image
            assert [(it["entity"], it["text"]) for it in entry["items"]] == _scan_items(entry["scene"], "dev")
            continue
        if entry["kind"] == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                assert sorted(zf.namelist()) == ["notes.pdf", "scan.png"]
                data = zf.read("notes.pdf")
            scanned = [(it["entity"], it["text"]) for it in entry["items"] if it.get("member") == "scan.png"]
            assert scanned == _scan_items(entry["scene"], "dev")
        if entry["kind"] in ("pdf_text", "zip"):
            pages = _pdf_pages(data)
            assert len(pages) == entry["pages"] - (entry["kind"] == "zip")
            for it in items:
                assert it["text"] in pages[it["page"] - 1], (entry["file"], it)
        else:
            text = _package_text(data)
            for it in items:
                assert it["text"] in text, (entry["file"], it)


def test_match_document_by_value_and_place():
    items = [{"entity": "EMAIL_ADDRESS", "text": "anna.roe@corp.io", "page": 1},
             {"entity": "PERSON", "text": "Anna Maria Roe", "page": 2},
             {"entity": "FACE", "text": None, "page": 1},
             {"entity": "US_SSN", "text": "234-56-7890", "page": 1, "member": "notes.pdf"}]
    findings = [{"entity": "EMAIL_ADDRESS", "page": 1, "texts": ["anna.roe@corp.io"]},
                {"entity": "PERSON", "page": 1, "texts": ["Anna Maria Roe"]},  # right value, wrong page
                {"entity": "PERSON", "page": 2, "texts": ["Anna"]},  # under half the name
                {"entity": "FACE", "page": 1, "texts": []},
                {"entity": "FACE", "page": 1, "texts": []},  # a second face finding finds no second face
                {"entity": "US_SSN", "page": 1, "member": "scan.png", "texts": ["234-56-7890"]}]
    found, tp = match_document(items, findings)
    assert found == [True, False, True, False]
    assert tp == [True, False, False, True, True, False]
    found, _ = match_document(items, [{"entity": "PERSON", "page": 2, "texts": ["Maria Roe"]},
                                      {"entity": "US_SSN", "page": 1, "member": "notes.pdf", "texts": ["234567890"]}])
    assert found == [False, True, False, True]


@pytest.mark.slow
def test_scores_a_small_document_set_with_the_real_inspector(dev_docs, tmp_path):
    """Three text documents through Inspector.inspect_document: a split column with Presidio n/a."""
    from gateway.inspection import Inspector

    root, manifest = dev_docs
    picked = [e for e in manifest["images"] if e["kind"] in ("pdf_text", "docx", "xlsx") and not e["clean"]][:3]
    assert {e["kind"] for e in picked} == {"pdf_text", "docx", "xlsx"}
    for e in picked:
        (tmp_path / e["file"]).write_bytes((root / e["file"]).read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "images": picked}))
    result = benchmark(tmp_path, Inspector(), baseline=object(), log=None, split="docs")
    summary = result["summary"]
    assert summary["tools"] == ["ours"] and summary["na_tools"] == ["presidio"]
    assert [r["pages"] for r in result["images"]] == [e["pages"] for e in picked]
    ours = [r["tools"]["ours"] for r in result["images"]]
    assert all(not run["error"] for run in ours)
    assert [len(run["found"]) for run in ours] == [len(e["items"]) for e in picked]
    emails = summary["entities"]["EMAIL_ADDRESS"]
    assert emails["gt"] >= 3 and emails["ours"]["recall"] >= 0.9  # plain e-mails in a text layer
    docs = summary["documents"]
    assert set(docs["kinds"]) == {"pdf_text", "docx", "xlsx"} and docs["all"]["page_p50"] > 0
    assert docs["all"]["gt"] == sum(len(e["items"]) for e in picked)
    assert summary["ours"]["policy"]["images"] == 3  # decided by the default policy, as the image splits
    table = markdown({"splits": {"docs": result}})
    assert "docs Presidio" in table and "n/a" in table and "s/page" in table
