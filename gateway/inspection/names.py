"""Which spaCy person names on OCR text are names: split per line, cleaned of labels and code tokens, dropped where
a pattern already explains the text."""

from __future__ import annotations

import functools
import gzip
import unicodedata
from pathlib import Path

import regex as re
from presidio_analyzer import RecognizerResult

_DATA = Path(__file__).with_name("data")
COMMON_WORDS = _DATA / "common_words.txt.gz"
GIVEN_NAMES = _DATA / "given_names.txt.gz"
SURNAMES = _DATA / "surnames.txt.gz"

_DATE_LIKE = re.compile(r"\d{1,4}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}|\d{1,2}:\d{2}|[A-Za-z]{3}")
_NER_RECOGNIZERS = frozenset({"SpacyRecognizer"})
# A token no person or place name contains: code punctuation, digits, camelCase, domains, "KEtsv"-style OCR noise.
_CODE_TOKEN = re.compile(
    r"[_=/\\@#$%^&*{}\[\]<>|~`()+\d]|^[a-z]+[A-Z]|[a-z][A-Z].*[a-z][A-Z]|[a-z]\.[a-z]|^[A-Z]{2,}[a-z]"
)
# Words spaCy's small model tags as names on screenshots: UI labels, code and shell words, letter phrases, lorem.
NOT_NAME_WORDS = frozenset("""
    dear hi hello hey thanks thank regards sincerely yours best cheers ok okay yes no sure please btw lgtm
    reporter contact author assignee owner status priority asset subject from to cc bcc date time name full
    email mail phone mobile tel fax address home work office department team employee manager
    bill ship invoice total subtotal due paid order ticket incident client server user admin guest host
    commit merge push pull branch main master origin git export import return def class self print true false
    null none await async const let var func function public private static void string int float bool
    settings config build deploy release bot docker kubectl npm pip python bash zsh sudo cat grep echo curl
    psql postgres redis http https api json yaml token key secret password login logout sign signup
    new open closed save cancel edit delete share send reply forward search filter menu home back next
    mode dark night theme view window display desktop screenshot toolbar sidebar dashboard overview preferences
    options tools help about profile account notifications privacy airplane bluetooth wifi battery volume
    brightness scan scanner feeder flatbed inbox outbox drafts sent spam junk trash archive starred snoozed
    lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore
    magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip
""".split())
# Last words of company names spaCy's small model tags as people ("Globex Analytics", "Tailspin Toys").
ORG_SUFFIXES = frozenset("""
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


@functools.cache
def _word_list(path: Path) -> frozenset[str]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return frozenset(f.read().split())
    except OSError as e:
        raise RuntimeError(f"word list {path} unreadable ({e}); reinstall the package") from e


def common_words() -> frozenset[str]:
    """English words never capitalised (data/README.md), read once; TextAnalyzer reads the lists at start-up, so a
    missing file fails there."""
    return _word_list(COMMON_WORDS)


@functools.cache
def given_names() -> frozenset[str]:
    """People's given names in Latin script, lower-case (data/README.md), also without their accents."""
    return _with_unaccented(_word_list(GIVEN_NAMES))


@functools.cache
def surnames() -> frozenset[str]:
    """People's surnames in Latin script, lower-case (data/README.md), also without their accents."""
    return _with_unaccented(_word_list(SURNAMES))


# Latin letters with no decomposition into a base letter and a mark.
_UNDECOMPOSED = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th",
                               "Ø": "O", "Ł": "L", "Đ": "D", "Æ": "AE", "Œ": "OE", "Þ": "TH"})


def unaccented(word: str) -> str:
    """`word` in plain ASCII letters where it has accented Latin ones (szabó -> szabo, søren -> soren)."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _with_unaccented(words: frozenset[str]) -> frozenset[str]:
    """The names and their forms without accents (ID cards, MRZs, keyboards and OCR drop them), unless a form is
    a common English word."""
    plain = {unaccented(w) for w in words if not w.isascii()}
    return words | {w for w in plain if w.isascii() and not is_common_word(w)}


def is_common_word(word: str) -> bool:
    """Whether `word` (any case) is an English word that is never a name (data/README.md). Not inflected forms:
    Banks, Fields, Harding are surnames."""
    return word.lower() in common_words()


def from_ner(r: RecognizerResult) -> bool:
    return (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) in _NER_RECOGNIZERS


def filter_ner(results: list[RecognizerResult], text: str) -> list[RecognizerResult]:
    """spaCy's small model tags digit runs (card groups, phone tails) as DATE and code, UI labels and lorem ipsum
    as PERSON/LOCATION: drop NER results overlapping a pattern finding, digit-only DATE_TIME that isn't
    date-shaped, and names that are code identifiers, lower-case, all-caps or UI words; a lone name word without a
    cue ("Dear", "Mr", "Author:") keeps a low score."""
    patterns = [r for r in results if not from_ner(r)]

    def overlaps_pattern(r: RecognizerResult) -> bool:
        return any(p.start < r.end and r.start < p.end and p.entity_type != r.entity_type for p in patterns)

    kept = []
    for r in results:
        if from_ner(r):
            if r.entity_type in ("PERSON", "LOCATION", "NRP"):
                # A name does not run across OCR lines: "Sven Jensen\nwhere" is a name and a word, and "Laura Larsen"
                # stays a name when spaCy ran it into the street line below.
                for line_part in _split_lines(r, text):
                    for part in _outside(line_part, patterns):
                        part = _clean_name(part, text)
                        if part is not None:
                            kept.append(part)
                continue
            if overlaps_pattern(r):
                continue
            if r.entity_type == "DATE_TIME" and not _DATE_LIKE.search(text[r.start : r.end]):
                continue
        kept.append(r)
    return kept


def _outside(r: RecognizerResult, patterns: list[RecognizerResult]) -> list[RecognizerResult]:
    """The stretches of a name result that no pattern finding of another entity covers: in a table row spaCy runs
    the name into the cell after it ("Chidi Eze 319-40-2281"), and the SSN's part is no name."""
    cuts = sorted((max(r.start, p.start), min(r.end, p.end)) for p in patterns
                  if p.entity_type != r.entity_type and p.start < r.end and r.start < p.end)
    out, start = [], r.start
    for a, b in cuts + [(r.end, r.end)]:
        if a > start:
            out.append(RecognizerResult(r.entity_type, start, a, r.score, r.analysis_explanation,
                                        r.recognition_metadata))
        start = max(start, b)
    return out


def _split_lines(r: RecognizerResult, text: str) -> list[RecognizerResult]:
    out, start = [], r.start
    for chunk in text[r.start : r.end].split("\n"):
        if chunk.strip():
            out.append(RecognizerResult(r.entity_type, start, start + len(chunk), r.score, r.analysis_explanation,
                                        r.recognition_metadata))
        start += len(chunk) + 1
    return out


def _title_words_off(tokens: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A person's name opens with a given name and ends with a surname; no given name is a common word, and a
    surname that is one is listed. Unless the first word is a known given name, common words at either end are a
    title's ("Onboarding Checklist", "Cloud Mgrotion" misread): they are taken off, and a lone word left is a lone
    name (LONE_NAME_SCORE)."""
    def word(t: tuple[int, int, str]) -> str:
        return t[2].strip(".,:;!?'\"-").lower()

    if len(tokens) < 2 or word(tokens[0]) in given_names():
        return tokens
    while len(tokens) > 1 and is_common_word(word(tokens[0])):
        tokens = tokens[1:]
    while len(tokens) > 1 and is_common_word(word(tokens[-1])) and word(tokens[-1]) not in surnames():
        tokens = tokens[:-1]
    return tokens


def _clean_name(r: RecognizerResult, text: str) -> RecognizerResult | None:
    """The name result trimmed of UI/code words at its ends, or None when it does not look like a name."""
    tokens = [(m.start() + r.start, m.end() + r.start, m.group()) for m in re.finditer(r"\S+", text[r.start : r.end])]
    while tokens and tokens[0][2].strip(".,:;!?'\"").lower() in NOT_NAME_WORDS:
        tokens.pop(0)
    while tokens and tokens[-1][2].strip(".,:;!?'\"").lower() in NOT_NAME_WORDS:
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
    if r.entity_type == "PERSON" and words[-1].lower() in ORG_SUFFIXES:
        return None  # a company, not a person
    if all(is_common_word(w) for w in words):
        return None  # "Customer Success", "Cloud Migration": a title, not a name
    if r.entity_type == "PERSON":
        tokens = _title_words_off(tokens)
    start, end = tokens[0][0], tokens[-1][1]
    if _URL_BEFORE.search(text[max(0, start - 12) : start]):
        return None  # "https Ilexample comldocs": a URL whose '://' and dots OCR lost
    score = r.score
    if r.entity_type == "PERSON" and len(tokens) == 1 and not _NAME_CONTEXT.search(
        text[max(0, start - NAME_CONTEXT_CHARS) : start]
    ):
        score = min(score, LONE_NAME_SCORE)
    return RecognizerResult(r.entity_type, start, end, score, r.analysis_explanation, r.recognition_metadata)


