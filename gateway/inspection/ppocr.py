"""PaddleOCR's PP-OCRv6 text-line recogniser (shipped in the `rapidocr` wheel) on ONNX Runtime, printable ASCII only.

Why this recogniser: on rendered lines of e-mails, IPv4/IPv6, keys, IBANs, cards and addresses in six fonts at
11-34 px, light, dark and low-contrast (the same ground-truth line crops for both), EasyOCR's english_g2 CRNN read
6.4% of characters wrong and 146 of 480 lines exactly; PP-OCRv6 read 0.4% wrong and 413 of 480 exactly. EasyOCR
loses exactly the characters PII lives on: `.` `_` `=` `:` `/` (bench/SPEED.md, "Session 8").

The model knows 18,710 classes (Chinese and Latin). Its last MatMul is cut to the blank, the 95 printable ASCII
characters and the space before the session is built, so the softmax and the argmax only ever see those: the
output cannot contain a character the analyzers do not expect, and the layer costs 1/195 of its work.
Float only: an int8 model reads differently on CPUs with other int8 kernels (AVX-512 VNNI vs AMX).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import cv2
import numpy as np

MODEL_FILE = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48  # the model's input height
OUTPUT_WEIGHTS, OUTPUT_BIAS = "linear_8.w_0", "linear_8.b_0"  # the classifier layer in front of the softmax


@dataclass(frozen=True)
class LineReading:
    """The text of one line crop, its mean character confidence, and each character's x in the crop's pixels."""

    text: str
    confidence: float
    char_x: tuple[float, ...]  # centre of the CTC frames of each character of `text`


def model_path() -> str:
    """The PP-OCRv6 recogniser shipped in the rapidocr wheel (found without importing rapidocr, which would pull in
    its whole pipeline); RuntimeError (at start-up) when it is missing."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the rapidocr package (PP-OCRv6 recogniser) is not installed")
    path = os.path.join(list(spec.submodule_search_locations)[0], "models", MODEL_FILE)
    if not os.path.isfile(path):
        raise RuntimeError(f"PP-OCRv6 recogniser missing: {path} (reinstall rapidocr)")
    return path


def ascii_model(path: str) -> tuple[bytes, list[str]]:
    """The model with its classifier cut to blank + printable ASCII + space, and those classes' characters."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    meta = {p.key: p.value for p in model.metadata_props}
    classes = ["", *meta["character"].splitlines(), " "]  # CTC blank first; PaddleOCR appends the space
    keep = [i for i, c in enumerate(classes) if i == 0 or (len(c) == 1 and 32 <= ord(c) < 127)]
    inits = {t.name: t for t in model.graph.initializer}
    for name, axis in ((OUTPUT_WEIGHTS, 1), (OUTPUT_BIAS, 0)):
        full = numpy_helper.to_array(inits[name])
        if full.shape[axis] != len(classes):
            raise RuntimeError(f"{path}: {name} has {full.shape[axis]} classes, its dictionary {len(classes)}")
        inits[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(np.take(full, keep, axis=axis)), name))
    del model.graph.value_info[:]  # shapes inferred for 18,710 classes no longer hold
    for out in model.graph.output:
        out.type.tensor_type.ClearField("shape")
    return model.SerializeToString(), [classes[i] for i in keep]


class PpOcrRecognizer:
    """Reads grey line crops (dark text on light, any height) in batches; one ONNX Runtime session."""

    def __init__(self, threads: int = 1, providers: list[str] | None = None) -> None:
        import onnxruntime as ort

        from gateway.inspection.onnx_cache import session_options

        data, self._chars = ascii_model(model_path())
        self._session = ort.InferenceSession(data, session_options(threads),
                                             providers=providers or ["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def read(self, crops: list[np.ndarray]) -> list[LineReading]:
        """One reading per crop, in order. Crops are read together (right-padded to the widest), so callers
        batch lines of similar width: the padding must not depend on anything but the crops themselves."""
        if not crops:
            return []
        widths = [max(1, math.ceil(HEIGHT * c.shape[1] / max(1, c.shape[0]))) for c in crops]
        batch = np.zeros((len(crops), 3, HEIGHT, max(widths)), np.float32)  # 0 = mid-grey after normalisation
        for row, crop, w in zip(batch, crops, widths):
            line = cv2.resize(crop, (w, HEIGHT), interpolation=cv2.INTER_LINEAR).astype(np.float32)
            row[:, :, :w] = (line / np.float32(127.5) - np.float32(1.0))[None]
        probs = self._session.run(None, {self._input: batch})[0]
        frame_px = max(widths) / probs.shape[1]
        return [self._decode(p, frame_px * c.shape[1] / w) for p, c, w in zip(probs, crops, widths)]

    def _decode(self, probs: np.ndarray, frame_px: float) -> LineReading:
        """Greedy CTC: repeated classes collapse, blanks drop; x of each character = middle of its frames."""
        best = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        text, confs, xs = [], [], []
        start = 0
        for t in range(1, len(best) + 1):
            if t == len(best) or best[t] != best[start]:
                if best[start] != 0:
                    text.append(self._chars[best[start]])
                    confs.append(float(conf[start:t].max()))
                    xs.append((start + t) / 2 * frame_px)
                start = t
        return LineReading("".join(text), float(np.mean(confs)) if confs else 0.0, tuple(xs))


# Lines per recogniser call, at most, and their padded width summed: a page of long lines makes several calls
# that the lanes run side by side.
RECOG_BATCH = 32
RECOG_BATCH_PX = 8192


def recog_width(crop: np.ndarray) -> int:
    """A crop's width on the recogniser's input (height HEIGHT, aspect kept)."""
    return max(1, math.ceil(HEIGHT * crop.shape[1] / max(1, crop.shape[0])))


def line_batches(crops: list) -> list[list]:
    """(box, crop) pairs sorted by recogniser width and cut into recogniser calls: lines of similar width (the
    padding to the widest changes a read), at most RECOG_BATCH lines and RECOG_BATCH_PX of padded width per call.
    The cut depends on the crops only, never on the cores, so that a line reads the same on every machine."""
    crops = sorted(crops, key=lambda c: recog_width(c[1]))
    batches = []
    i = 0
    while i < len(crops):
        j = i + 1
        first = recog_width(crops[i][1])
        while (j < len(crops) and j - i < RECOG_BATCH and recog_width(crops[j][1]) <= 1.4 * first + 8
               and (j - i + 1) * recog_width(crops[j][1]) <= RECOG_BATCH_PX):
            j += 1
        batches.append(crops[i:j])
        i = j
    return batches
