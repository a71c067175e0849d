"""EasyOCR's text recogniser (english_g2 CRNN: VGG + BiLSTM + Linear) through ONNX Runtime.

Exported once per machine like the CRAFT detector (craft_onnx): from the float weights (the Reader's own
recogniser is torch-dynamic-quantised and does not export), into the cache dir, under a name carrying a hash of the
weights. The float export must give torch's logits on rendered lines of several widths; it runs ~1.7x faster than
the Reader's recogniser (1 thread, corpus line crops). The int8 model (QDQ convolutions + int8 LSTM/MatMul weights,
~3x faster) is kept if it reads the float model's strings on rendered lines (emails, keys, IBANs, digits; light and
dark) as often as EasyOCR's own CPU recogniser (torch dynamic int8) does, within INT8_SLACK, or on
MIN_INT8_AGREEMENT of them. (The float network flips a few % of lines on one grey level of input change; both
quantised models differ from it on ~7% of lines and read the same labelled items on the benchmark corpus.) A
rejection is remembered next to the model with the measured agreements, so later starts do not quantise again.
Any failure falls back to the Reader's torch recogniser.
DLP_OCR_INT8=0 turns quantisation off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence

import cv2
import numpy as np

from gateway.inspection.onnx_cache import (
    cache_dir,
    calibration_reader,
    file_digest,
    locked,
    open_session,
    prebuilt,
    scratch_files,
    want_int8,
)

log = logging.getLogger(__name__)

OPSET = 17
MAX_ABS_DIFF = 1e-3  # logits reach ~20; measured diff is ~4e-5
MIN_INT8_AGREEMENT = 0.98  # share of verification lines read exactly as the float model: always enough
INT8_SLACK = 0.03  # ... or at most this much below EasyOCR's own quantised recogniser's share (3 of 96 lines)
HEIGHT = 64  # EasyOCR's recogniser input height
# Name of the int8 model, versioned with build_int8's recipe: a changed recipe must not reuse an old cached model.
INT8 = "-int8r2"
WIDTHS = (64, 200, 520, 1000)  # widths (and batch sizes 1 and 3) the float export is checked at


class OnnxRecognizer:
    """Drop-in for `Reader.recognizer` in easyocr.recognition.recognizer_predict: `.eval()`, then
    `model(image, text)` with image a (N, 1, 64, W) float tensor in [-1, 1] -> (N, W/4 - 1, classes) logits."""

    def __init__(self, path: str, threads: int) -> None:
        self.path = path
        self._session = open_session(path, threads)

    def eval(self) -> OnnxRecognizer:
        return self

    def __call__(self, image, text=None):
        import torch

        x = np.ascontiguousarray(image.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self._session.run(["preds"], {"image": x})[0])


def load_recognizer(reader, weights_path: str, threads: int, directory: str | None = None) -> tuple[object, str]:
    """The fastest working recogniser for `reader` (a drop-in for `reader.recognizer`) and its backend name
    ("onnxruntime" or "torch"; torch is the Reader's own recogniser, unchanged)."""
    try:
        return onnx_recognizer(reader, weights_path, threads, directory), "onnxruntime"
    except Exception as e:  # export or runtime problems must not stop OCR: torch reads the same text
        log.warning("ONNX text recogniser unavailable (%s: %s); using torch (slower)", type(e).__name__, e)
        return reader.recognizer, "torch"


def onnx_recognizer(reader, weights_path: str, threads: int, directory: str | None = None) -> OnnxRecognizer:
    """An ONNX Runtime recogniser, exporting (and verifying) it first unless a cached export exists.

    Raises on any failure; `load_recognizer` turns that into the torch fallback."""
    name = f"crnn-{file_digest(weights_path)}-op{OPSET}"
    int8 = want_int8()
    path = _prebuilt_model(name, directory, int8)
    if path is None:
        path = _export_cached(reader, weights_path, os.path.join(cache_dir(directory), name), int8)
    try:
        return OnnxRecognizer(path, threads)
    except Exception as e:  # noqa: BLE001 - a truncated / corrupt cache file (now deleted): build it again, once
        log.warning("cached text recogniser %s unusable (%s: %s); exporting it again", path, type(e).__name__, e)
        path = _export_cached(reader, weights_path, os.path.join(cache_dir(directory), name), int8)
        return OnnxRecognizer(path, threads)


def _prebuilt_model(name: str, directory: str | None, int8: bool) -> str | None:
    """A prebuilt model: the int8 one, or the float one when int8 is off or was rejected for this model."""
    if int8 and (path := prebuilt(name + INT8 + ".onnx", directory)):
        return path
    if not int8 or _rejected(prebuilt(name + INT8 + ".rejected", directory)):
        return prebuilt(name + ".onnx", directory)
    return None


def _export_cached(reader, weights_path: str, base: str, int8: bool) -> str:
    path = base + ".onnx"
    with locked(base + ".lock"):  # two workers starting at once export once
        if not os.path.isfile(path):
            _export(float_model(weights_path, len(reader.converter.character)), path)
        int8_path, rejected = base + INT8 + ".onnx", base + INT8 + ".rejected"
        if int8 and not _rejected(rejected):
            try:
                if not os.path.isfile(int8_path):
                    _quantize(reader, weights_path, path, int8_path)
                path = int8_path
            except Int8Rejected as e:
                log.warning("int8 text recogniser rejected (%s); using the float ONNX model", e)
                with open(rejected, "w") as f:
                    f.write(f"{e.agreement} {e.reference}\n")
            except Exception as e:  # noqa: BLE001 - any quantiser problem: the float model is exact anyway
                log.warning("int8 text recogniser unavailable (%s: %s); using the float ONNX model",
                            type(e).__name__, e)
    return path


def _rejected(marker: str | None) -> bool:
    """True when `marker` records an int8 agreement below today's threshold (a lowered threshold retries)."""
    if not marker:
        return False
    try:
        with open(marker) as f:
            values = [float(v) for v in f.read().split()]
    except (OSError, ValueError):
        return False
    if not values:
        return False
    return values[0] < required_agreement(values[1] if len(values) > 1 else None)


def required_agreement(reference: float | None) -> float:
    """The int8 model's required agreement with the float one, given EasyOCR's quantised recogniser's."""
    return MIN_INT8_AGREEMENT if reference is None else min(MIN_INT8_AGREEMENT, reference - INT8_SLACK)


class Int8Rejected(RuntimeError):
    """The int8 model reads the verification lines differently from the float one."""

    def __init__(self, agreement: float, reference: float | None = None) -> None:
        super().__init__(f"it reads {agreement:.1%} of the verification lines as the float model "
                         f"(required {required_agreement(reference):.1%})")
        self.agreement = agreement
        self.reference = reference


def float_model(weights_path: str, num_class: int):
    """EasyOCR's generation-2 recogniser (as easyocr.recognition.get_recognizer builds it, without quantize_dynamic)
    in eval mode; layer sizes come from the weights."""
    import torch
    from easyocr.model.vgg_model import Model

    state = torch.load(weights_path, map_location="cpu", weights_only=False)
    state = {k.removeprefix("module."): v for k, v in state.items()}  # saved from DataParallel
    conv0 = state["FeatureExtraction.ConvNet.0.weight"]
    model = Model(input_channel=int(conv0.shape[1]), output_channel=8 * int(conv0.shape[0]),
                  hidden_size=int(state["SequenceModeling.0.rnn.weight_hh_l0"].shape[1]), num_class=num_class)
    model.load_state_dict(state)
    return model.eval()


def easyocr_quantised(weights_path: str, num_class: int):
    """The recogniser EasyOCR runs on CPU: the float model with torch dynamic int8 quantisation (as get_recognizer
    does with quantize=True)."""
    import torch

    return torch.quantization.quantize_dynamic(float_model(weights_path, num_class), dtype=torch.qint8)


def _exportable(model):
    """`model.forward` with AdaptiveAvgPool2d((None, 1)) over the feature height written as a mean (the same
    numbers; the pool does not export with a dynamic width) and without the unused `text` argument."""
    import torch

    class Exportable(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, image):
            features = self.m.FeatureExtraction(image).mean(dim=2).permute(0, 2, 1)  # (N, W', C)
            return self.m.Prediction(self.m.SequenceModeling(features))

    return Exportable().eval()


def _export(model, path: str) -> None:
    import onnxruntime as ort
    import torch

    log.info("exporting the text recogniser to ONNX at %s (once per machine)", path)
    fd, tmp = tempfile.mkstemp(prefix=".crnn-", suffix=".onnx", dir=os.path.dirname(path))
    os.close(fd)
    try:
        x = torch.from_numpy(check_inputs()[1])
        # The tracer warns about the LSTM's batch size and shape checks; the checks below run batches of 1 and 3.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _exportable(model), x, tmp, opset_version=OPSET, dynamo=False,
                input_names=["image"], output_names=["preds"],
                dynamic_axes={"image": {0: "n", 3: "w"}, "preds": {0: "n", 1: "t"}},
            )
        session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        for x in check_inputs():
            with torch.no_grad():
                expected = model(torch.from_numpy(x), None).numpy()
            got = session.run(["preds"], {"image": x})[0]
            diff = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
            if not diff <= MAX_ABS_DIFF:
                raise RuntimeError(f"ONNX recogniser differs from torch at {x.shape} (max abs diff {diff:.2g})")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # atomic: readers never see a half-written file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _quantize(reader, weights_path: str, src: str, dst: str) -> None:
    """Int8 model, accepted only if it reads the verification lines as the float model does, as often as EasyOCR's
    own quantised recogniser (within INT8_SLACK)."""
    log.info("quantising the text recogniser to int8 at %s (once per machine)", dst)
    fd, tmp = tempfile.mkstemp(prefix=".crnn-int8-", suffix=".onnx", dir=os.path.dirname(dst))
    os.close(fd)
    try:
        build_int8(src, tmp)
        lines = verification_lines()
        exact = OnnxRecognizer(src, 1)
        agreement = agreement_rate(reader, exact, OnnxRecognizer(tmp, 1), lines)
        reference = agreement_rate(reader, exact, easyocr_quantised(weights_path, len(reader.converter.character)), lines)
        if agreement < required_agreement(reference):
            raise Int8Rejected(agreement, reference)
        log.info("int8 text recogniser reads %.1f%% of the verification lines as the float model (EasyOCR's "
                 "quantised recogniser: %.1f%%)", 100 * agreement, 100 * reference)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def build_int8(src: str, dst: str) -> None:
    """Int8 version of the float model `src`, unverified: static QDQ (per-channel weights, calibrated on rendered
    lines) for the convolutions, which take ~65% of the time, then dynamic per-channel int8 weights for the LSTMs
    and MatMuls (~30%)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    inputs = calibration_inputs()

    with scratch_files(os.path.dirname(dst), ".crnn-pre-", ".crnn-conv-") as (pre, convs):
        quant_pre_process(src, pre, skip_symbolic_shape=True)
        # Relu and MaxPool are quantised too: with Conv alone, every convolution's int8 output was dequantised and
        # quantised again around the float Relu, 25% of the run time; now it is 1.26x faster and agrees with the
        # float model on more verification lines (95.8% vs 90.6%).
        quantize_static(pre, convs, calibration_reader(inputs), quant_format=QuantFormat.QDQ, per_channel=True,
                        op_types_to_quantize=["Conv", "Relu", "MaxPool"], activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
        quantize_dynamic(convs, dst, op_types_to_quantize=["LSTM", "MatMul"], per_channel=True,
                         weight_type=QuantType.QInt8)


# ---------------------------------------------------------------------------------------------------------------
# rendered text lines: export checks, int8 verification, tests and benchmarks


def read_lines(reader, recognizer, crops: Sequence[np.ndarray]) -> list[str]:
    """What `recognizer` reads on grey line crops, one at a time through EasyOCR's get_text with OcrEngine's
    settings (crops resized to height 64, greedy decoding, the low-contrast second pass)."""
    from easyocr.recognition import get_text
    from easyocr.utils import get_image_list

    ignore = "".join(set(reader.character) - set(reader.lang_char))
    out = []
    for crop in crops:
        h, w = crop.shape
        items, _ = get_image_list([[0, w, 0, h]], [], crop, model_height=HEIGHT)
        result = get_text(reader.character, HEIGHT, items[0][1].shape[1], recognizer, reader.converter, items,
                          ignore, "greedy", 5, 1, 0.1, 0.5, 0.003, 0, "cpu")
        out.append(result[0][1])
    return out


def agreement_rate(reader, a, b, crops: Sequence[np.ndarray]) -> float:
    """Share of `crops` that recognisers `a` and `b` read as exactly the same string."""
    same = sum(x == y for x, y in zip(read_lines(reader, a, crops), read_lines(reader, b, crops), strict=True))
    return same / max(1, len(crops))


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_WORDS = ["Invoice", "total", "due", "March", "approved", "by", "Martin", "Settings", "Reference", "Contact", "Street",
          "Harbour", "Road", "Signed", "password", "export", "token", "Account", "Balance", "Dear", "Ms", "Nguyen"]
_STYLES = [((255, 255, 255), (20, 20, 20)), ((28, 30, 36), (215, 225, 215)), ((246, 247, 249), (90, 90, 100)),
           ((52, 110, 220), (255, 255, 255)), ((0, 0, 0), (40, 255, 60)), ((230, 230, 230), (60, 60, 60))]


def sample_texts(rng: np.random.Generator, n: int) -> list[str]:
    """Synthetic but realistic sensitive strings: emails, API keys, IBANs, card/phone/SSN digits, prose."""
    def chars(k: int, alphabet: str = _ALNUM) -> str:
        return "".join(alphabet[i] for i in rng.integers(len(alphabet), size=k))

    def word() -> str:
        return _WORDS[int(rng.integers(len(_WORDS)))]

    def digits(k: int) -> str:
        return chars(k, "0123456789")

    makers = [
        lambda: f"{word().lower()}.{word().lower()}@{chars(5).lower()}.{rng.choice(['io', 'com', 'org', 'de'])}",
        lambda: f"ghp_{chars(36)}",
        lambda: f"AKIA{chars(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}",
        lambda: f"sk_live_{chars(24)}",
        lambda: f"xoxb-{digits(11)}-{digits(12)}-{chars(20)}",
        lambda: f"DE{digits(2)} {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(2)}",
        lambda: f"GB{digits(2)} {chars(4, _ALNUM[:26])} {digits(4)} {digits(4)} {digits(4)} {digits(2)}",
        lambda: f"{digits(4)} {digits(4)} {digits(4)} {digits(4)}",
        lambda: f"+1 {digits(3)} {digits(3)} {digits(4)}",
        lambda: f"SSN {digits(3)}-{digits(2)}-{digits(4)}",
        lambda: f"{word()} {word().lower()} {digits(int(rng.integers(2, 6)))} {word()}",
        lambda: f"export {chars(6, _ALNUM[:26])}_KEY={chars(int(rng.integers(8, 30)))}",
        lambda: f"{digits(2)}/{digits(2)}/{digits(4)} {word()}",
        lambda: word(),
    ]
    return [makers[i % len(makers)]() for i in range(n)]


def render_line(text: str, size: int, font: int, style: int) -> np.ndarray:
    """`text` rendered as a grey line crop (with the margin CRAFT line boxes have), in one of several fonts
    (Pillow's built-in font and OpenCV's Hershey fonts: available on every machine) and colour styles."""
    from PIL import Image, ImageDraw, ImageFont

    bg, fg = _STYLES[style % len(_STYLES)]
    pad = max(2, size // 4)
    if font % 3 == 0:
        f = ImageFont.load_default(size)
        x0, y0, x1, y1 = f.getbbox(text)
        img = Image.new("RGB", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), bg)
        ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=f, fill=fg)
        rgb = np.asarray(img)
    else:
        face = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX)[font % 3 - 1]
        scale = size / 30.0
        thick = max(1, round(size / 18))
        (w, h), base = cv2.getTextSize(text, face, scale, thick)
        rgb = np.empty((h + base + 2 * pad, w + 2 * pad, 3), np.uint8)
        rgb[:] = bg
        cv2.putText(rgb, text, (pad, pad + h), face, scale, fg, thick, cv2.LINE_AA)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def verification_lines(n: int = 96, seed: int = 11) -> list[np.ndarray]:
    """Rendered text lines (10-32 px text, three fonts, six colour styles) the int8 model must read like float."""
    rng = np.random.default_rng(seed)
    return [render_line(t, int(rng.integers(10, 33)), i, i // 3) for i, t in enumerate(sample_texts(rng, n))]


def model_input(crops: Sequence[np.ndarray], width: int | None = None) -> np.ndarray:
    """(N, 1, 64, W) float32 recogniser input, as EasyOCR's AlignCollate makes it: grey crops resized to height 64
    (aspect kept, at most `width` wide), scaled to [-1, 1], right-padded with their last column."""
    resized = []
    for crop in crops:
        h, w = crop.shape
        rw = max(1, round(w * HEIGHT / h))
        rw = rw if width is None else min(width, rw)
        resized.append(cv2.resize(crop, (rw, HEIGHT), interpolation=cv2.INTER_CUBIC))
    width = width or max(r.shape[1] for r in resized)
    out = np.empty((len(resized), 1, HEIGHT, width), np.float32)
    for x, r in zip(out, resized):
        x[0, :, : r.shape[1]] = r
        x[0, :, r.shape[1] :] = r[:, -1:]
    return out / 127.5 - 1.0


def check_inputs() -> list[np.ndarray]:
    """Recogniser inputs of several widths and batch sizes 1 and 3, from rendered lines."""
    lines = verification_lines(6, seed=5)
    return [model_input(lines[i : i + 1 + (i % 2) * 2], w) for i, w in enumerate(WIDTHS)]


def calibration_inputs() -> list[np.ndarray]:
    """One input per rendered line (not the verification lines), at its own width, for int8 calibration."""
    return [model_input([line]) for line in verification_lines(48, seed=23)]
