"""Which OCR model a first start on this machine must still export to ONNX (the CRAFT detector, craft_onnx), and
the announcement of that preparation on stderr: it takes about a minute on 2 cores, and the operator should know
why /readyz waits. (The PP-OCRv6 recogniser ships as ONNX in its wheel: nothing to prepare.)"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from typing import TextIO

from gateway.inspection import craft_onnx
from gateway.inspection.onnx_cache import cache_dir

PREPARING = "dlp-gateway: preparing OCR models for this machine (first start, ~1 min)..."


def missing_ocr_models(craft_weights: str, directory: str | None = None, int8: bool = True) -> list[str]:
    """File names of the ONNX models an OcrEngine built now would first export (empty: all are there).

    Follows `craft_onnx.cached_detector`: the int8 detector (the float one without `int8`), prebuilt or in the
    cache dir. Without the weights there is nothing to export from: [] (the engine fails loudly on them)."""
    if not os.path.isfile(craft_weights):
        return []
    base = craft_onnx._model_name(craft_weights)
    wanted = base + (craft_onnx.INT8 if int8 else "") + ".onnx"
    return [] if craft_onnx._cached(wanted, directory) else [wanted]


class ModelPreparation:
    """Started before the OCR engine loads its detector, `done()` after: when a model must be exported first, says so
    on stderr, then says when it is ready. With several workers starting at once only one speaks (an advisory lock
    in the cache dir: the others wait for the same export, silently)."""

    def __init__(self, craft_weights: str, directory: str | None = None, out: TextIO | None = None, *,
                 int8: bool = True) -> None:
        self.craft_weights, self.directory, self.out, self.int8 = craft_weights, directory, out or sys.stderr, int8
        self.missing = missing_ocr_models(craft_weights, directory, int8)
        self.started = time.monotonic()
        self._lock: TextIO | None = None
        if self.missing and self._take_lock():
            print(PREPARING, file=self.out, flush=True)

    def _take_lock(self) -> bool:
        try:
            lock = open(os.path.join(cache_dir(self.directory), "prepare.announce.lock"), "a")
        except (OSError, RuntimeError):  # no cache dir: the engine reports that
            return False
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another worker is announcing this export
            lock.close()
            return False
        self._lock = lock
        return True

    def done(self) -> None:
        if self._lock is None:
            return
        left = missing_ocr_models(self.craft_weights, self.directory, self.int8)
        state = "ready" if not left else f"not all exported ({', '.join(left)}; see the warnings above)"
        print(f"dlp-gateway: OCR models {state} after {time.monotonic() - self.started:.1f} s "
              f"(cached in {cache_dir(self.directory)}; later starts skip this)", file=self.out, flush=True)
        self._lock.close()  # releases the lock
        self._lock = None
