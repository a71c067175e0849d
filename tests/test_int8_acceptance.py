"""An int8 model is used only on a CPU it was checked on: a record made on another CPU (a Docker image built on
Intel, run on AMD) makes the gateway check it again, here, and a rejection means the float model."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from gateway.cpus import cpu_signature
from gateway.inspection import craft_onnx
from gateway.inspection.ocr import OcrEngine

pytestmark = pytest.mark.slow


def weights() -> str:
    import easyocr_en_models

    return os.path.join(easyocr_en_models.model_dir(), "craft_mlt_25k.pth")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> str:
    """A cache dir holding the float and int8 CRAFT exports (made once for this module)."""
    cache = str(tmp_path_factory.mktemp("int8-cache"))
    OcrEngine(cache_dir=cache)
    return cache


@pytest.fixture
def cache(models: str, tmp_path) -> str:
    copy = str(tmp_path / "cache")
    shutil.copytree(models, copy)
    return copy


def paths(cache: str) -> tuple[str, str]:
    base = os.path.join(cache, craft_onnx._model_name(weights()))
    return base + ".onnx", base + craft_onnx.INT8 + ".onnx"


def used_model(cache: str, monkeypatch) -> str:
    seen = []
    real = craft_onnx._session
    monkeypatch.setattr(craft_onnx, "_session", lambda path, threads, providers=(): seen.append(path) or real(path, threads))
    assert craft_onnx.cached_detector(weights(), 1, cache) is not None
    return seen[-1]


def test_export_records_the_cpu_it_was_checked_on_and_the_verdict(models: str):
    """Whatever this CPU's int8 kernels make of the model, the record says so: accepted here or why not."""
    _, int8 = paths(models)
    record = json.load(open(int8 + ".accepted.json"))
    assert record == {"cpu": cpu_signature(), "problem": craft_onnx.int8_problem(*paths(models))}


def test_a_rejected_export_is_kept_so_the_next_start_does_not_quantise_again(tmp_path, monkeypatch):
    """On a CPU whose int8 kernels lose boxes, the first start quantises once, keeps the model and the rejection,
    and uses float; a later start finds both and neither quantises nor loads the torch network."""
    monkeypatch.setattr(craft_onnx, "int8_problem", lambda a, b: "int8 boxes differ (simulated)")
    cache = str(tmp_path / "cache")
    OcrEngine(cache_dir=cache)
    flt, int8 = paths(cache)
    assert os.path.isfile(int8)
    assert json.load(open(int8 + ".accepted.json")) == {"cpu": cpu_signature(),
                                                         "problem": "int8 boxes differ (simulated)"}
    monkeypatch.setattr(craft_onnx, "_quantize", lambda *a: pytest.fail("quantised again"))
    assert used_model(cache, monkeypatch) == flt  # cached_detector: no torch network, no export


def test_a_record_from_another_cpu_is_checked_again_here(cache: str, monkeypatch):
    flt, int8 = paths(cache)
    with open(int8 + ".accepted.json", "w") as f:
        json.dump({"cpu": "OtherVendor|Another CPU|avx2,avx512_vnni", "problem": ""}, f)
    accepted_here = craft_onnx.int8_problem(flt, int8) == ""
    checked = []
    real = craft_onnx.int8_problem
    monkeypatch.setattr(craft_onnx, "int8_problem", lambda a, b: checked.append(b) or real(a, b))
    assert used_model(cache, monkeypatch) == (int8 if accepted_here else flt)
    assert checked == [int8]
    checked.clear()
    assert json.load(open(int8 + ".accepted.json"))["cpu"] == cpu_signature()
    used_model(cache, monkeypatch)  # recorded: not checked a second time
    assert checked == []


def test_rejected_here_means_the_float_model(cache: str, monkeypatch):
    flt, int8 = paths(cache)
    os.unlink(int8 + ".accepted.json")
    monkeypatch.setattr(craft_onnx, "int8_problem", lambda a, b: "int8 boxes differ (simulated)")
    assert used_model(cache, monkeypatch) == flt
    assert json.load(open(int8 + ".accepted.json"))["problem"] == "int8 boxes differ (simulated)"


def test_unchecked_int8_without_its_float_model_is_not_used(cache: str):
    flt, int8 = paths(cache)
    os.unlink(int8 + ".accepted.json")
    os.unlink(flt)
    assert not craft_onnx._accepted_here(int8, None, cache)
