"""Text recognition time and text agreement: EasyOCR's torch recogniser vs the ONNX Runtime exports (crnn_onnx).

    python -m bench.recognizer_speed [--corpus bench/out/corpus] [--images 10] [--repeats 2]

`OcrEngine.read` runs once per corpus image (text categories: letters, forms, chats, terminals, code, IDs) with
the Reader's own recogniser (torch, dynamically quantised, as EasyOCR builds it) and records every `_recognize`
call (grey image + line boxes). Each call is then replayed with each recogniser swapped into
`engine._reader.recognizer`, interleaved call by call so that load from other jobs hits all alike; the fastest of
`--repeats` runs counts. Recognisers: torch (the Reader's), torch float (unquantised: the export's reference),
ONNX float, ONNX int8 (`crnn_onnx.build_int8`, built here even when the runtime verification rejects it).
Prints time ratios against torch and, per recogniser, how many of the images' labelled items (emails, keys,
IBANs, names, ...) appear verbatim (spaces ignored) in the lines it read, and the share of lines and of words read
exactly as torch reads them (and as the float model reads them). One thread for torch and ONNX Runtime; run it
under `nice -n 5`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from gateway.inspection import crnn_onnx
from gateway.inspection.ocr import WEIGHT_FILES, OcrEngine

TEXT_CATEGORIES = {"letter", "invoice", "hr_form", "it_ticket", "directory", "chat_light", "chat_dark", "code_editor",
                   "terminal", "passport", "id_card"}


def corpus_images(corpus: Path, count: int) -> list[tuple[Path, list[str]]]:
    """The first `count` text images of the corpus (its manifest interleaves categories), each with the texts of
    its labelled items."""
    manifest = corpus / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(f"no corpus in {corpus}: run `python -m bench.corpus --out {corpus}` first")
    entries = [e for e in json.loads(manifest.read_text())["images"] if e["category"] in TEXT_CATEGORIES]
    return [(corpus / e["file"], [i["text"] for i in e["items"] if i["source"] == "text" and i["text"]])
            for e in entries[:count]]


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def record_calls(engine: OcrEngine, images: list[Path]) -> list[tuple[int, np.ndarray, list]]:
    """(image index, grey, boxes) of every `_recognize` call `engine.read` makes on `images`."""
    calls: list[tuple[int, np.ndarray, list]] = []
    original = engine._recognize
    index = 0

    def spy(grey, boxes):
        calls.append((index, grey, list(boxes)))
        return original(grey, boxes)

    engine._recognize = spy
    try:
        for index, path in enumerate(images):
            engine.read(load_rgb(path))
    finally:
        del engine._recognize  # the instance attribute shadowed the method
    return calls


def word_agreement(a: list[str], b: list[str]) -> tuple[int, int]:
    """Words of line texts `b` matching `a` in order (difflib blocks), and the word count (the larger side)."""
    same = total = 0
    for x, y in zip(a, b, strict=True):
        wx, wy = x.split(), y.split()
        same += sum(m.size for m in difflib.SequenceMatcher(None, wx, wy, autojunk=False).get_matching_blocks())
        total += max(len(wx), len(wy))
    return same, total


def items_read(texts: list[tuple[int, str]], items: list[list[str]]) -> tuple[int, int]:
    """Labelled item texts found (spaces ignored) in the lines read from their image, and the item count."""
    squeeze = str.maketrans("", "", " ")
    found = total = 0
    for i, wanted in enumerate(items):
        read = "".join(t for j, t in texts if j == i).translate(squeeze)
        found += sum(w.translate(squeeze) in read for w in wanted)
        total += len(wanted)
    return found, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parent / "out" / "corpus")
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(1)
    engine = OcrEngine(threads=1)  # the default cache: the CRAFT export is reused
    with tempfile.TemporaryDirectory(prefix="recognizer-speed-") as cache:  # a fresh recogniser export (~2 s)
        run(engine, args, cache)


def readers_torch_recognizer(weights: str, num_class: int) -> torch.nn.Module:
    """The recogniser easyocr.Reader builds on CPU: the float network with torch dynamic int8 LSTM/Linear."""
    model = crnn_onnx.float_model(weights, num_class)
    torch.quantization.quantize_dynamic(model, dtype=torch.qint8, inplace=True)
    return model


def run(engine: OcrEngine, args: argparse.Namespace, cache: str) -> None:
    import easyocr_en_models

    reader = engine._reader
    weights = os.path.join(easyocr_en_models.model_dir(), WEIGHT_FILES[1])
    if not isinstance(reader.recognizer, torch.nn.Module):  # OcrEngine already swapped in the ONNX recogniser
        reader.recognizer = readers_torch_recognizer(weights, len(reader.converter.character))
    os.environ["DLP_OCR_INT8"] = "0"  # the float export; int8 is built below without the runtime verification
    float_onnx, backend = crnn_onnx.load_recognizer(reader, weights, 1, cache)
    assert backend == "onnxruntime", "ONNX export failed (see the log)"
    int8_path = os.path.join(cache, "crnn-int8-unverified.onnx")
    t0 = time.perf_counter()
    crnn_onnx.build_int8(float_onnx.path, int8_path)
    print(f"int8 build: {time.perf_counter() - t0:.1f} s")
    int8 = crnn_onnx.OnnxRecognizer(int8_path, 1)
    lines = crnn_onnx.verification_lines()
    agreement = crnn_onnx.agreement_rate(reader, float_onnx, int8, lines)
    reference = crnn_onnx.agreement_rate(
        reader, float_onnx, crnn_onnx.easyocr_quantised(weights, len(reader.converter.character)), lines)
    required = crnn_onnx.required_agreement(reference)
    verdict = "kept" if agreement >= required else "rejected: the gateway runs the float model"
    print(f"int8 reads {agreement:.1%} of the verification lines as float; EasyOCR's quantised recogniser "
          f"{reference:.1%} (needs {required:.1%}): {verdict}")
    recognizers = {
        "torch": reader.recognizer,
        "torch float": crnn_onnx.float_model(weights, len(reader.converter.character)),
        "onnx float": float_onnx,
        "onnx int8": int8,
    }

    images = corpus_images(args.corpus, args.images)
    calls = record_calls(engine, [path for path, _ in images])
    print(f"{len(images)} images, {len(calls)} _recognize calls, {sum(len(b) for _, _, b in calls)} line crops")

    times = {name: [0.0] * args.repeats for name in recognizers}
    lines_read: dict[str, list[tuple[int, str]]] = {name: [] for name in recognizers}
    torch_recognizer = reader.recognizer
    try:
        for rep in range(args.repeats):
            for image, grey, boxes in calls:
                for name, rec in recognizers.items():
                    reader.recognizer = rec
                    t = time.perf_counter()
                    out = engine._recognize(grey, boxes)
                    times[name][rep] += time.perf_counter() - t
                    if rep == 0:
                        lines_read[name] += [(image, text) for _, text, _ in out]
    finally:
        reader.recognizer = torch_recognizer

    texts = {name: [t for _, t in lines] for name, lines in lines_read.items()}
    base = min(times["torch"])
    print(f"\n{'recogniser':12s} {'time s':>8s} {'torch/this':>10s}  {'items read':>10s}  {'lines = torch':>13s}"
          f" {'words = torch':>13s}  {'lines = float':>13s} {'words = float':>13s}")
    for name in recognizers:
        t = min(times[name])
        found, total = items_read(lines_read[name], [wanted for _, wanted in images])
        row = [f"{name:12s} {t:8.2f} {base / t:10.2f}", f"{found:4d}/{total:<5d}"]
        for ref in ("torch", "torch float"):
            lines = sum(a == b for a, b in zip(texts[ref], texts[name], strict=True)) / max(1, len(texts[ref]))
            same, total = word_agreement(texts[ref], texts[name])
            row.append(f"{lines:13.1%} {same / max(1, total):13.1%}")
        print("  ".join(row))
    examples = [(a, b) for a, b in zip(texts["torch"], texts["onnx int8"], strict=True) if a != b][:8]
    if examples:
        print("\nlines torch and int8 read differently (first 8):")
        for a, b in examples:
            print(f"  torch {a!r}\n  int8  {b!r}")


if __name__ == "__main__":
    main()
