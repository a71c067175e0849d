"""Shared plumbing for the models exported to ONNX once per machine (CRAFT detector, CRNN recogniser): the cache
directory, prebuilt-model lookup, an export lock, weight digests and ONNX Runtime session options."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator


def cache_dir(preferred: str | None = None) -> str:
    """A writable directory for derived model files."""
    candidates = [preferred, os.path.join(os.path.expanduser("~"), ".cache", "dlp-gateway"),
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
    raise RuntimeError("no writable cache directory for the ONNX models")


def prebuilt(filename: str, directory: str | None) -> str | None:
    """A model already built (e.g. at image build time into a read-only cache dir): use it as it is."""
    d = directory or os.path.join(os.path.expanduser("~"), ".cache", "dlp-gateway")
    path = os.path.join(d, filename)
    return path if os.path.isfile(path) else None


@contextlib.contextmanager
def scratch_files(directory: str, *prefixes: str) -> Iterator[list[str]]:
    """Empty temporary .onnx files in `directory` (next to the model, so os.replace into place is atomic), one per
    prefix; whatever is still there at exit is deleted."""
    paths = []
    try:
        for prefix in prefixes:
            fd, path = tempfile.mkstemp(prefix=prefix, suffix=".onnx", dir=directory)
            os.close(fd)
            paths.append(path)
        yield paths
    finally:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """An exclusive file lock (two workers starting at once export once)."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def file_digest(path: str) -> str:
    """First 16 hex digits of the file's SHA-256: new weights give new cache file names."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def session_options(threads: int):
    """ONNX Runtime options for a busy CPU box running one worker per core."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Threads spin between the operators of one run (waking a sleeping thread for each of CRAFT's ~80 operators cost
    # ~9% of inspection time, measured) and stop spinning when the run ends: between runs the other core belongs
    # to the face detector, the proxy and other workers. Shapes change per image, so no memory pattern.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1")
    opts.add_session_config_entry("session.force_spinning_stop", "1")
    opts.enable_mem_pattern = False
    return opts


def providers(wanted: tuple[str, ...] = ()) -> list[str]:
    """ONNX Runtime execution providers for the OCR models: `wanted` (EngineSettings.providers, in order of
    preference, e.g. "CUDAExecutionProvider", "CPUExecutionProvider" with the onnxruntime-gpu package), else the CPU.
    Raises RuntimeError naming the available ones when a requested provider is not installed (fail at start-up)."""
    import onnxruntime as ort

    wanted = list(wanted)
    if not wanted:
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    missing = [p for p in wanted if p not in available]
    if missing:
        raise RuntimeError(f"DLP_ONNX_PROVIDERS: {', '.join(missing)} not available (installed: {', '.join(available)})")
    return wanted


def open_session(path: str, threads: int, wanted: tuple[str, ...] = ()):
    """An ONNX Runtime session for `path` on the `wanted` providers (see providers); a file it cannot load
    (truncated, corrupt) is deleted so that the next start exports it again, and the error is raised."""
    import onnxruntime as ort

    chosen = providers(wanted)  # outside the try: a bad setting must not delete the model
    try:
        return ort.InferenceSession(path, session_options(threads), providers=chosen)
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def calibration_reader(inputs: list, name: str = "image"):
    """An onnxruntime CalibrationDataReader over `inputs` (arrays fed as the model input `name`)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{name: x} for x in inputs])

        def get_next(self):
            return next(self._it, None)

    return Reader()
