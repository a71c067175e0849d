"""The text recogniser on ONNX Runtime (crnn_onnx) with the real english_g2 weights: same logits and strings as
EasyOCR's float torch network, cache files keyed by the weights, a corrupt cache file rebuilt, the int8 decision
remembered. Speed is measured by bench/recognizer_speed.py, not asserted here."""

from __future__ import annotations

import glob
import logging
import os

import numpy as np
import pytest
import torch

from gateway.inspection import crnn_onnx
from gateway.inspection.onnx_cache import file_digest

pytestmark = pytest.mark.slow


def weights() -> str:
    import easyocr_en_models

    return os.path.join(easyocr_en_models.model_dir(), "english_g2.pth")


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """EasyOCR's Reader as OcrEngine builds it (torch-dynamic-quantised recogniser), without the detector."""
    import easyocr
    import easyocr_en_models

    torch.set_num_threads(1)
    return easyocr.Reader(["en"], gpu=False, detector=False, download_enabled=False, verbose=False,
                          model_storage_directory=easyocr_en_models.model_dir(),
                          user_network_directory=str(tmp_path_factory.mktemp("easyocr")))


@pytest.fixture(scope="module")
def float_model(reader):
    return crnn_onnx.float_model(weights(), len(reader.converter.character))


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("crnn-cache"))


@pytest.fixture(scope="module")
def onnx_float(reader, cache):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLP_OCR_INT8", "0")
        rec, backend = crnn_onnx.load_recognizer(reader, weights(), 1, cache)
    assert backend == "onnxruntime"
    return rec


def test_onnx_logits_equal_torch_float_at_any_width_and_batch(float_model, onnx_float):
    rng = np.random.default_rng(0)
    lines = crnn_onnx.verification_lines(8, seed=3)
    inputs = [crnn_onnx.model_input(lines[:1], 48), crnn_onnx.model_input(lines[1:4]),
              crnn_onnx.model_input(lines[4:8], 1400), rng.uniform(-1, 1, (2, 1, 64, 333)).astype(np.float32)]
    for x in inputs:
        with torch.no_grad():
            want = float_model(torch.from_numpy(x), None)
        got = onnx_float.eval()(torch.from_numpy(x), torch.zeros((len(x), 10), dtype=torch.long))
        assert isinstance(got, torch.Tensor) and got.shape == want.shape == (len(x), x.shape[3] // 4 - 1, 97)
        assert float((got - want).abs().max()) < crnn_onnx.MAX_ABS_DIFF, x.shape


def test_onnx_reads_the_same_strings_as_torch_float(reader, float_model, onnx_float):
    lines = crnn_onnx.verification_lines(28, seed=7)  # emails, keys, IBANs, digits, prose; light and dark
    want = crnn_onnx.read_lines(reader, float_model, lines)
    got = crnn_onnx.read_lines(reader, onnx_float, lines)
    assert got == want
    texts = crnn_onnx.sample_texts(np.random.default_rng(7), 28)
    assert sum(a == b for a, b in zip(texts, got)) >= 8, got  # and it really reads them (hard, random keys)
    assert any(t.startswith("DE") and t.replace(" ", "").isalnum() for t in got), got


def test_cache_file_name_follows_the_weights_digest(reader, cache, onnx_float, tmp_path, monkeypatch):
    assert os.path.basename(onnx_float.path) == f"crnn-{file_digest(weights())}-op{crnn_onnx.OPSET}.onnx"
    state = torch.load(weights(), map_location="cpu", weights_only=False)
    state["module.Prediction.bias"] += 0.5  # other weights: another model, another cache file
    other = str(tmp_path / "english_g2.pth")
    torch.save(state, other)
    monkeypatch.setenv("DLP_OCR_INT8", "0")
    rec, backend = crnn_onnx.load_recognizer(reader, other, 1, cache)
    assert backend == "onnxruntime"
    assert os.path.basename(rec.path) == f"crnn-{file_digest(other)}-op{crnn_onnx.OPSET}.onnx" != \
        os.path.basename(onnx_float.path)
    assert len(glob.glob(os.path.join(cache, "crnn-*.onnx"))) == 2
    x = torch.from_numpy(crnn_onnx.check_inputs()[1])
    assert float((rec(x, None) - onnx_float(x, None)).abs().max()) == pytest.approx(0.5, abs=1e-3)


def test_cached_export_is_reused(reader, cache, onnx_float, monkeypatch):
    def no_export(*a, **k):
        raise AssertionError("exported again")

    monkeypatch.setattr(crnn_onnx, "_export", no_export)
    monkeypatch.setenv("DLP_OCR_INT8", "0")
    mtime = os.path.getmtime(onnx_float.path)
    rec, backend = crnn_onnx.load_recognizer(reader, weights(), 1, cache)
    assert backend == "onnxruntime" and rec.path == onnx_float.path and os.path.getmtime(rec.path) == mtime


def test_corrupt_cache_file_is_exported_again(reader, onnx_float, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("DLP_OCR_INT8", "0")
    path = tmp_path / os.path.basename(onnx_float.path)
    path.write_bytes(open(onnx_float.path, "rb").read()[:5000])  # truncated
    with caplog.at_level(logging.WARNING, logger="gateway.inspection.crnn_onnx"):
        rec, backend = crnn_onnx.load_recognizer(reader, weights(), 1, str(tmp_path))
    assert backend == "onnxruntime" and "exporting it again" in caplog.text
    assert rec.path == str(path) and path.stat().st_size > 1_000_000
    x = torch.from_numpy(crnn_onnx.check_inputs()[0])
    assert float((rec(x, None) - onnx_float(x, None)).abs().max()) < crnn_onnx.MAX_ABS_DIFF


def test_export_failure_falls_back_to_the_readers_torch_recogniser(reader, tmp_path, monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(crnn_onnx, "_export", broken)
    with caplog.at_level(logging.WARNING, logger="gateway.inspection.crnn_onnx"):
        rec, backend = crnn_onnx.load_recognizer(reader, weights(), 1, str(tmp_path))
    assert backend == "torch" and rec is reader.recognizer and "exporter broke" in caplog.text
    assert not glob.glob(str(tmp_path / "*.onnx"))


def test_int8_rejection_is_remembered(reader, cache, onnx_float, monkeypatch):
    """A rejected int8 model is not built again at every start (the float model is used), unless the threshold
    drops below the agreement it measured."""
    base = onnx_float.path.removesuffix(".onnx")
    marker = base + crnn_onnx.INT8 + ".rejected"
    with open(marker, "w") as f:
        f.write("0.9\n")
    calls = []

    def quantize(reader, weights_path, src, dst):
        calls.append(dst)
        raise crnn_onnx.Int8Rejected(0.91, 0.95)

    monkeypatch.setattr(crnn_onnx, "_quantize", quantize)
    monkeypatch.setenv("DLP_OCR_INT8", "1")
    try:
        rec, backend = crnn_onnx.load_recognizer(reader, weights(), 1, cache)
        assert backend == "onnxruntime" and rec.path == onnx_float.path and not calls
        monkeypatch.setattr(crnn_onnx, "MIN_INT8_AGREEMENT", 0.85)
        rec, backend = crnn_onnx.load_recognizer(reader, weights(), 1, cache)
        assert calls == [base + crnn_onnx.INT8 + ".onnx"] and rec.path == onnx_float.path
        assert open(marker).read().strip() == "0.91 0.95"
    finally:
        os.unlink(marker)


def test_int8_model_runs_and_mostly_reads_like_float(reader, onnx_float, tmp_path):
    """The int8 recipe builds and reads (near) the float model's strings; whether it is good enough to replace the
    float model is `_quantize`'s call (MIN_INT8_AGREEMENT on the full verification set)."""
    int8 = str(tmp_path / "int8.onnx")
    crnn_onnx.build_int8(onnx_float.path, int8)
    lines = crnn_onnx.verification_lines(24, seed=9)
    assert crnn_onnx.agreement_rate(reader, onnx_float, crnn_onnx.OnnxRecognizer(int8, 1), lines) >= 0.75


def test_int8_convolutions_feed_the_next_layer_in_int8(onnx_float, tmp_path):
    """After ONNX Runtime's graph fusions no int8 tensor is dequantised only to be quantised again (that requant
    around a float Relu took a quarter of the recogniser's time)."""
    import onnx
    import onnxruntime as ort

    int8, optimised = str(tmp_path / "int8.onnx"), str(tmp_path / "optimised.onnx")
    crnn_onnx.build_int8(onnx_float.path, int8)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = optimised
    ort.InferenceSession(int8, options, providers=["CPUExecutionProvider"])
    nodes = onnx.load(optimised).graph.node
    dequantised = {out for n in nodes if n.op_type == "DequantizeLinear" for out in n.output}
    requant = [n.name for n in nodes if n.op_type == "QuantizeLinear" and n.input[0] in dequantised]
    assert not requant, requant
    assert sum(n.op_type == "QLinearConv" for n in nodes) >= 7


def test_onnx_providers_setting(monkeypatch):
    """DLP_ONNX_PROVIDERS picks ONNX Runtime providers (GPU builds); one that is not installed fails loudly, at
    start-up, naming what is installed."""
    from gateway.inspection.ocr import OcrEngine
    from gateway.inspection.onnx_cache import providers

    monkeypatch.delenv("DLP_ONNX_PROVIDERS", raising=False)
    assert providers() == ["CPUExecutionProvider"]
    monkeypatch.setenv("DLP_ONNX_PROVIDERS", " CPUExecutionProvider ")
    assert providers() == ["CPUExecutionProvider"]
    monkeypatch.setenv("DLP_ONNX_PROVIDERS", "NoSuchExecutionProvider,CPUExecutionProvider")
    with pytest.raises(RuntimeError, match="NoSuchExecutionProvider not available.*CPUExecutionProvider"):
        OcrEngine()


def test_sessions_spin_within_a_run_only():
    """Threads spin between the operators of a run (sleeping and waking per operator cost ~9% of inspection time)
    and stop when the run ends, leaving the core to the face detector, the proxy and other workers."""
    from gateway.inspection.onnx_cache import session_options

    opts = session_options(2)
    assert opts.intra_op_num_threads == 2 and opts.inter_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert opts.get_session_config_entry("session.force_spinning_stop") == "1"
