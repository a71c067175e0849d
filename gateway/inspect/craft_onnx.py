"""CRAFT text detection through ONNX Runtime: exported once per machine from EasyOCR's packaged weights.

ONNX Runtime runs the same network about 2x faster than torch on CPU. The .onnx file is written to a cache dir
($DLP_GATEWAY_CACHE, else ~/.cache/dlp-gateway, else a temp dir), never next to the weights; its name carries a hash
of the weights so new weights mean a new export. Export is checked against torch on a test image; if anything fails
the torch network is used instead (slower, same maps).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator

import cv2
import numpy as np

log = logging.getLogger(__name__)

OPSET = 17
MAX_ABS_DIFF = 1e-3  # score maps are in [0, 1]; measured diff is ~1e-6
# (1, 3, H, W) float32, normalised -> (1, H/2, W/2, 2) float32 text/link scores
CraftFn = Callable[[np.ndarray], np.ndarray]


def cache_dir(preferred: str | None = None) -> str:
    """A writable directory for derived model files."""
    candidates = [preferred, os.environ.get("DLP_GATEWAY_CACHE"), os.path.join(os.path.expanduser("~"), ".cache", "dlp-gateway"),
                  os.path.join(tempfile.gettempdir(), f"dlp-gateway-{os.getuid()}")]
    for d in candidates:
        if not d:
            continue
        try:
            os.makedirs(d, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    raise RuntimeError("no writable cache directory for the ONNX detector")


def torch_runner(net) -> CraftFn:
    import torch

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(x))[0].numpy()

    return run


def onnx_runner(net, weights_path: str, threads: int, directory: str | None = None) -> CraftFn:
    """An ONNX Runtime CRAFT, exporting (and verifying) `net` first unless a cached export exists.

    Raises on any failure; `load_detector` turns that into the torch fallback."""
    import onnxruntime as ort

    path = os.path.join(cache_dir(directory), f"craft-{_file_digest(weights_path)}-op{OPSET}.onnx")
    with _locked(path + ".lock"):  # two workers starting at once export once
        if not os.path.isfile(path):
            _export(net, path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Spinning threads burn the other core's time on a busy box; shapes change per image, so no memory pattern.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.enable_mem_pattern = False
    try:
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    except Exception:
        os.unlink(path)  # a truncated / corrupt cache file: export again next time
        raise

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(["y"], {"image": x})[0]

    return run


def load_detector(net, weights_path: str, threads: int, directory: str | None = None) -> tuple[CraftFn, str]:
    """The fastest working CRAFT forward function and its backend name ("onnxruntime" or "torch")."""
    try:
        return onnx_runner(net, weights_path, threads, directory), "onnxruntime"
    except Exception as e:  # export or runtime problems must not stop OCR: torch gives the same maps
        log.warning("ONNX CRAFT detector unavailable (%s: %s); using torch (slower)", type(e).__name__, e)
        return torch_runner(net), "torch"


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """EasyOCR's CRAFT input: RGB padded to multiples of 32, ImageNet-normalised, (1, 3, H, W) float32."""
    h, w = rgb.shape[:2]
    ph, pw = -h % 32, -w % 32
    if ph or pw:
        rgb = cv2.copyMakeBorder(rgb, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    x = rgb.astype(np.float32)
    x -= np.array([0.485 * 255, 0.456 * 255, 0.406 * 255], dtype=np.float32)
    x /= np.array([0.229 * 255, 0.224 * 255, 0.225 * 255], dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


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
        os.replace(tmp, path)  # atomic: readers never see a half-written file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]
