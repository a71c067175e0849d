"""CRAFT text detection through ONNX Runtime: exported once per machine from EasyOCR's packaged weights.

ONNX Runtime runs the same network ~1.5x faster than torch on CPU, and its int8 version (static quantisation,
calibrated on rendered text) ~3x faster again. The .onnx files are written to a cache dir (EngineSettings.cache_dir,
else ~/.cache/dlp-gateway, else a temp dir), never next to the weights; their names carry a hash of the weights so new
weights mean a new export. The float export must give torch's score maps on a test image, the int8 model the same
boxes as the float one; if quantisation fails the float model is used, if export fails the torch network (slower,
same maps). `int8=False` (EngineSettings.int8, $DLP_OCR_INT8=0) turns quantisation off.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable

import cv2
import numpy as np

from gateway.cpus import cpu_signature
from gateway.inspection.onnx_cache import (
    cache_dir,
    calibration_reader,
    open_session,
    scratch_files,
)
from gateway.inspection.onnx_cache import file_digest as _file_digest
from gateway.inspection.onnx_cache import locked as _locked
from gateway.inspection.onnx_cache import prebuilt as _prebuilt

log = logging.getLogger(__name__)

OPSET = 17
MAX_ABS_DIFF = 1e-3  # score maps are in [0, 1]; measured diff is ~1e-6
# Name of the int8 model, versioned with _quantize's recipe: a changed recipe must not reuse an old cached model.
INT8 = "-int8r2"
# run(x, wide=False): (1, 3, H, W) float32, normalised -> (1, H/2, W/2, 2) float32 text/link scores. Calls run side
# by side on one thread each; a call that runs alone (wide=True) may use every core of the worker.
CraftFn = Callable[..., np.ndarray]


def torch_craft(weights_path: str):
    """EasyOCR's CRAFT network (torch, float, eval mode) from its packaged weights; RuntimeError if they are bad."""
    import torch
    from easyocr.craft import CRAFT
    from easyocr.detection import copyStateDict

    net = CRAFT()
    try:
        net.load_state_dict(copyStateDict(torch.load(weights_path, map_location="cpu", weights_only=True)))
    except Exception as e:  # torch raises RuntimeError/UnpicklingError/OSError on bad weights
        raise RuntimeError(f"cannot load the CRAFT detector from {weights_path}: {e}") from e
    return net.eval()


def torch_runner(net) -> CraftFn:
    import torch

    def run(x: np.ndarray, wide: bool = False) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(x))[0].numpy()

    return run


def onnx_runner(net, weights_path: str, threads: int, directory: str | None = None, *, int8: bool = True,
                providers: tuple[str, ...] = ()) -> CraftFn:
    """An ONNX Runtime CRAFT, exporting (and verifying) `net` first unless a cached export exists.

    Raises on any failure; `load_detector` turns that into the torch fallback."""

    name = _model_name(weights_path)
    path = _prebuilt(name + (INT8 + ".onnx" if int8 else ".onnx"), directory)
    if path is not None and int8 and not _accepted_here(path, _prebuilt(name + ".onnx", directory), directory):
        path = _prebuilt(name + ".onnx", directory)
    if path is None:
        path = _export_cached(net, os.path.join(cache_dir(directory), name), int8)
    return _session(path, threads, providers)


def _model_name(weights_path: str) -> str:
    """The exported model's base name: the weights' digest and the opset (the int8 model adds INT8)."""
    return f"craft-{_file_digest(weights_path)}-op{OPSET}"


def cached_detector(weights_path: str, threads: int, directory: str | None = None, *, int8: bool = True,
                    providers: tuple[str, ...] = ()) -> CraftFn | None:
    """The ONNX CRAFT exported earlier for these weights (prebuilt or in the cache dir), without loading the torch
    network; None when there is none yet or it does not load (then `load_detector` exports it again). An int8
    model is used only when it was accepted on this CPU (checked now if it never was); else the float one."""
    base = _model_name(weights_path)
    float_path = _cached(base + ".onnx", directory)
    path = None
    if int8:
        quantised = _cached(base + INT8 + ".onnx", directory)
        if quantised is None:
            return None
        path = quantised if _accepted_here(quantised, float_path, directory) else float_path
    else:
        path = float_path
    if path is None:
        return None
    try:
        return _session(path, threads, providers)
    except Exception as e:  # noqa: BLE001 - a corrupt file is deleted by open_session and exported again
        log.warning("cached CRAFT detector %s unusable (%s: %s)", path, type(e).__name__, e)
        return None


def _cached(name: str, directory: str | None) -> str | None:
    """A prebuilt model file, else one in the cache dir; None when neither exists."""
    path = _prebuilt(name, directory)
    if path is None:
        try:
            candidate = os.path.join(cache_dir(directory), name)
        except RuntimeError:
            return None
        path = candidate if os.path.isfile(candidate) else None
    return path


def _export_cached(net, base: str, want_int8: bool) -> str:
    path = base + ".onnx"
    with _locked(base + ".lock"):  # two workers starting at once export once
        if not os.path.isfile(path):
            _export(net, path)
        if want_int8:
            int8 = base + INT8 + ".onnx"
            try:
                if not os.path.isfile(int8):
                    _quantize(path, int8)
                if _accepted_here(int8, path):
                    path = int8
            except Exception as e:  # noqa: BLE001 - any quantiser problem: the float model is exact anyway
                log.warning("int8 CRAFT unavailable (%s: %s); using the float ONNX model", type(e).__name__, e)
    return path


def _session(path: str, threads: int, providers: tuple[str, ...] = ()) -> CraftFn:
    """A one-thread session for calls run side by side, and one on `threads` cores for a call that runs alone (a
    region with most of the image's pixels). Both give the same maps: int8 convolutions sum exactly."""
    narrow = open_session(path, 1, providers)
    wide_session = open_session(path, threads, providers) if threads > 1 else narrow

    def run(x: np.ndarray, wide: bool = False) -> np.ndarray:
        return (wide_session if wide else narrow).run(["y"], {"image": x})[0]

    return run


def load_detector(net, weights_path: str, threads: int, directory: str | None = None, *, int8: bool = True,
                  providers: tuple[str, ...] = ()) -> tuple[CraftFn, str]:
    """The fastest working CRAFT forward function and its backend name ("onnxruntime" or "torch")."""
    try:
        return onnx_runner(net, weights_path, threads, directory, int8=int8, providers=providers), "onnxruntime"
    except Exception as e:  # export or runtime problems must not stop OCR: torch gives the same maps
        log.warning("ONNX CRAFT detector unavailable (%s: %s); using torch (slower)", type(e).__name__, e)
        return torch_runner(net), "torch"


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """EasyOCR's CRAFT input: RGB padded to multiples of 32, ImageNet-normalised, (1, 3, H, W) float32."""
    h, w = rgb.shape[:2]
    ph, pw = -h % 32, -w % 32
    if ph or pw:
        rgb = cv2.copyMakeBorder(rgb, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    x = np.empty((1, 3, h + ph, w + pw), np.float32)
    for c in range(3):  # one table lookup per channel, straight into its plane: 3x faster than float maths
        x[0, c] = _NORMALISED[c][rgb[:, :, c]]
    return x


# Every byte value of each channel, normalised as EasyOCR does it (float32: (v - mean) / std, both scaled by 255).
_NORMALISED = (np.arange(256, dtype=np.float32)[None, :] - np.array([[0.485 * 255], [0.456 * 255], [0.406 * 255]],
               dtype=np.float32)) / np.array([[0.229 * 255], [0.224 * 255], [0.225 * 255]], dtype=np.float32)


def test_image() -> np.ndarray:
    """A small rendered text image for verifying an export."""
    img = np.full((160, 320, 3), 255, np.uint8)
    cv2.putText(img, "Verify 0123", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (20, 20, 20), 2)
    cv2.putText(img, "name@host.io", (10, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (40, 40, 40), 2)
    return img


def _export(net, path: str) -> None:
    import onnxruntime as ort
    import torch

    log.info("exporting the CRAFT detector to ONNX at %s (once per machine)", path)
    fd, tmp = tempfile.mkstemp(prefix=".craft-", suffix=".onnx", dir=os.path.dirname(path))
    os.close(fd)
    try:
        x = preprocess(test_image())
        with torch.no_grad():
            torch.onnx.export(
                net, torch.from_numpy(x), tmp, opset_version=OPSET, dynamo=False,
                input_names=["image"], output_names=["y", "feature"],
                dynamic_axes={"image": {2: "h", 3: "w"}, "y": {1: "h2", 2: "w2"}, "feature": {2: "h2", 3: "w2"}},
            )
        expected = torch_runner(net)(x)
        got = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"]).run(["y"], {"image": x})[0]
        diff = float(np.abs(got - expected).max())
        if got.shape != expected.shape or not diff <= MAX_ABS_DIFF:
            raise RuntimeError(f"ONNX CRAFT differs from torch (max abs diff {diff:.2g})")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # atomic: readers never see a half-written file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def calibration_images() -> list[np.ndarray]:
    """Rendered text of several sizes and polarities (dark mode, coloured UI), for int8 calibration."""
    rng = np.random.default_rng(3)
    words = ["Invoice", "total", "4111 1111", "name@example.io", "Settings", "SSN 536-22", "export KEY=ab12", "Q3"]
    out = []
    for bg, fg in (((255, 255, 255), (20, 20, 20)), ((28, 30, 36), (215, 225, 215)), ((52, 110, 220), (255, 255, 255)),
                   ((246, 247, 249), (90, 90, 100))):
        img = np.empty((384, 640, 3), np.uint8)
        img[:] = bg
        y = 24
        while y < 370:
            scale = float(rng.uniform(0.35, 1.3))
            x = int(rng.integers(4, 60))
            for _ in range(3):
                text = words[int(rng.integers(len(words)))]
                cv2.putText(img, text, (x, y), int(rng.choice([0, 1, 2, 3])), scale, fg, 1 + int(scale > 0.9), cv2.LINE_AA)
                x += int(24 * scale * len(text)) + 20
            y += int(30 * scale) + 14
        cv2.rectangle(img, (400, 300), (620, 360), fg, 1)
        out.append(img)
    return out


def _quantize(src: str, dst: str) -> None:
    """Static int8 quantisation (QDQ, per-channel weights), accepted only if it finds the float model's boxes
    (RuntimeError when it does not here; the model and the verdict are kept either way)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    log.info("quantising the CRAFT detector to int8 at %s (once per machine)", dst)
    inputs = [preprocess(img) for img in calibration_images()]

    with scratch_files(os.path.dirname(dst), ".craft-pre-", ".craft-int8-") as (pre, tmp):
        quant_pre_process(src, pre, skip_symbolic_shape=True)
        # Every convolution is int8 (~2.5x faster than float): the model the detection benchmark measures. A float
        # decoder tail and score head was no faster (bench/SPEED.md).
        quantize_static(pre, tmp, calibration_reader(inputs), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        _skip_unused_dequantising(tmp)
        problem = int8_problem(src, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    # Kept and recorded even when rejected: else every start on this CPU quantised it again (~30 s, with the torch
    # network loaded), and on another CPU the same file may pass.
    _record_acceptance(dst, problem)
    if problem:
        raise RuntimeError(problem)


def int8_problem(float_path: str, int8_path: str) -> str:
    """Why the int8 model may not replace the float one on this CPU ("" when it may): it must find the float
    model's boxes on the verification and calibration images, run here, with this CPU's int8 kernels."""
    import onnxruntime as ort

    exact = ort.InferenceSession(float_path, providers=["CPUExecutionProvider"])
    quant = ort.InferenceSession(int8_path, providers=["CPUExecutionProvider"])
    for x in [preprocess(test_image()), *[preprocess(img) for img in calibration_images()[:2]]]:
        want = score_boxes(exact.run(["y"], {"image": x})[0][0])
        got = score_boxes(quant.run(["y"], {"image": x})[0][0])
        if not boxes_match(want, got):
            return f"int8 boxes differ on {cpu_signature()} ({len(got)} vs {len(want)})"
    return ""


def _acceptance_file(int8_path: str) -> str:
    return int8_path + ".accepted.json"


def _record_acceptance(int8_path: str, problem: str, directory: str | None = None) -> None:
    """Remember, next to the int8 model (or in the cache dir when that is read-only), on which CPU it was checked
    and what the check said."""
    record = json.dumps({"cpu": cpu_signature(), "problem": problem})
    for target in (_acceptance_file(int8_path),
                   os.path.join(cache_dir(directory), os.path.basename(_acceptance_file(int8_path)))):
        with contextlib.suppress(OSError):
            with open(target, "w") as f:
                f.write(record)
            return


def _accepted_here(int8_path: str, float_path: str | None, directory: str | None = None) -> bool:
    """True when the int8 model was accepted on a CPU like this one; checked again (and recorded) when the
    record names another CPU or none. Without the float model to compare with, the int8 one is not used."""
    here = cpu_signature()
    for candidate in (_acceptance_file(int8_path),
                      os.path.join(cache_dir(directory), os.path.basename(_acceptance_file(int8_path)))):
        with contextlib.suppress(OSError, ValueError):
            with open(candidate) as f:
                record = json.load(f)
            if record.get("cpu") == here:
                return not record.get("problem")
    if float_path is None or not os.path.isfile(float_path):
        log.warning("int8 CRAFT %s was never checked on this CPU and no float model is there to check it against; "
                    "using float", int8_path)
        return False
    log.info("checking the int8 CRAFT detector on this CPU (%s)", here)
    problem = int8_problem(float_path, int8_path)
    if problem:
        log.warning("int8 CRAFT rejected on this CPU: %s; using the float model", problem)
    _record_acceptance(int8_path, problem, directory)
    return not problem


def _skip_unused_dequantising(path: str) -> None:
    """Drop work the int8 graph does for nothing (4% of its run time): the decoder's Resize nodes take their target
    size from a Shape of a skip connection, which made ONNX Runtime dequantise that whole tensor just to read its
    shape (Shape now reads the int8 tensor, same shape); and the unused `feature` output is no longer computed."""
    import onnx

    model = onnx.load(path)
    graph = model.graph
    dequantised = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    for node in graph.node:
        if node.op_type == "Shape" and node.input[0] in dequantised:
            node.input[0] = dequantised[node.input[0]]
    for output in [o for o in graph.output if o.name != "y"]:
        graph.output.remove(output)
    onnx.save(model, path)


TEXT_THRESHOLD, LINK_THRESHOLD, LOW_TEXT = 0.7, 0.4, 0.4  # EasyOCR's defaults


def detect_boxes(textmap: np.ndarray, linkmap: np.ndarray) -> list[np.ndarray]:
    """CRAFT's word boxes (4x2 float32 corners, clockwise from top-left, in map pixels) from its text and link score
    maps: EasyOCR's getDetBoxes with its default thresholds, the same boxes in the same order. EasyOCR scans the
    whole map four times per word; this looks only around each word (~2% of OCR time saved on pages)."""
    h, w = textmap.shape
    _, text_score = cv2.threshold(textmap, LOW_TEXT, 1, 0)
    _, link_score = cv2.threshold(linkmap, LINK_THRESHOLD, 1, 0)
    combined = np.clip(text_score + link_score, 0, 1).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(combined, connectivity=4)
    link_only = (link_score == 1) & (text_score == 0)
    boxes = []
    for k in range(1, n):
        x, y, bw, bh, size = (int(v) for v in stats[k])
        if size < 10:
            continue
        mine = labels[y : y + bh, x : x + bw] == k
        if textmap[y : y + bh, x : x + bw][mine].max() < TEXT_THRESHOLD:
            continue
        grow = int(math.sqrt(size * min(bw, bh) / (bw * bh)) * 2)
        sx, sy = max(0, x - grow), max(0, y - grow)
        ex, ey = min(w, x + bw + grow + 1), min(h, y + bh + grow + 1)
        seg = np.zeros((ey - sy, ex - sx), np.uint8)
        seg[y - sy : y - sy + bh, x - sx : x - sx + bw][mine] = 255
        seg[link_only[sy:ey, sx:ex]] = 0  # the link area between words is not the word
        seg = cv2.dilate(seg, cv2.getStructuringElement(cv2.MORPH_RECT, (1 + grow, 1 + grow)))
        ys, xs = np.nonzero(seg)
        points = np.stack([xs + sx, ys + sy], axis=1)
        box = cv2.boxPoints(cv2.minAreaRect(points))
        side_a, side_b = np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[1] - box[2])
        if abs(1 - max(side_a, side_b) / (min(side_a, side_b) + 1e-5)) <= 0.1:  # a diamond: its upright rectangle
            l, r, t, b = points[:, 0].min(), points[:, 0].max(), points[:, 1].min(), points[:, 1].max()
            box = np.array([[l, t], [r, t], [r, b], [l, b]], dtype=np.float32)
        boxes.append(np.roll(box, 4 - box.sum(axis=1).argmin(), 0))
    return boxes


def score_boxes(maps: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding rectangles of CRAFT boxes (EasyOCR thresholds) from (H/2, W/2, 2) score maps, in map pixels."""
    boxes = detect_boxes(maps[:, :, 0], maps[:, :, 1])
    return [(int(b[:, 0].min()), int(b[:, 1].min()), int(b[:, 0].max()), int(b[:, 1].max())) for b in boxes]


def boxes_match(want: list, got: list, iou: float = 0.7, share: float = 0.9) -> bool:
    """At least `share` of the boxes of each list have a counterpart with IoU >= iou in the other (a broken
    quantisation finds next to nothing; a good one may split or merge a box now and then)."""
    def matched(boxes, others) -> float:
        return sum(max((_iou(b, o) for o in others), default=0.0) >= iou for b in boxes) / max(1, len(boxes))

    return bool(want) and matched(want, got) >= share and matched(got, want) >= share


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
