"""Names no label or cue announces, known by their words: `Approved by Siobhan Moreau`, `PRIYA NAIR`, `Moreau,
Siobhan` in a sentence, a table cell or a caption, where the small spaCy model sees capitalised words."""

from __future__ import annotations

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from spacy.lang.en.stop_words import STOP_WORDS

from gateway.inspection.names import NOT_NAME_WORDS, ORG_SUFFIXES, given_names, is_common_word, surnames
from gateway.inspection.recognizers.address import STREET_WORDS

_TITLE = r"[A-Z\xC0-\xDE](?:[a-z]{0,2}['’]?[A-Z])?[a-z\xDF-\xFF'’]{1,20}(?:-[A-Z\xC0-\xDE][a-z\xDF-\xFF]{1,20})?"
_CAPS = r"[A-Z\xC0-\xDE][A-Z\xC0-\xDE'’]{1,20}(?:-[A-Z\xC0-\xDE]{2,20})?"
_INITIAL = r"(?:[A-Z]\.?[ ])?"
# Two or three words of one case, a middle initial allowed, "Last, First", or a surname in capitals first; not
# inside a code token (the look-arounds).
_EDGE_L, _EDGE_R = r"(?<![\w@.'’-])", r"(?![\w@'’-]|\.\w)"
_CANDIDATES = tuple(
    re.compile(_EDGE_L + form + _EDGE_R)
    for word in (_TITLE, _CAPS)
    for form in (rf"(?P<given>{word})[ ]{_INITIAL}(?P<last>{word})",
                 rf"(?P<given>{word})[ ]{_INITIAL}(?P<middle>{word})[ ](?P<last>{word})",
                 rf"(?P<last>{word}),[ ](?P<given>{word})")
) + (re.compile(rf"{_EDGE_L}(?P<last>{_CAPS})[ ](?P<given>{_TITLE}){_EDGE_R}"),)  # "GRABOWSKI Chidi"
_NEXT_WORD = re.compile(r"[ ]*([\w'’.]+)")
_WORD_BEFORE = re.compile(r"([\w'’.]+)[ ]*,?[ ]*\Z")
# First words of place names that are also given names somewhere ("San Francisco", "Santa Clara").
_PLACE_PREFIXES = frozenset("san santa santo sao são saint st fort port mount lake cape".split())
_NOT_NAMES = NOT_NAME_WORDS | ORG_SUFFIXES
_NOT_AFTER_A_NAME = ORG_SUFFIXES | STREET_WORDS  # "Lena Fischer Labs", "Victor Hugo Street"


class KnownNameRecognizer(EntityRecognizer):
    """Two or three capitalised words that open with a known given name (or, `Last, First` and `LAST First`, end
    with one) and whose surname is no common English word: people's names without a label or cue. A surname of
    the list scores KNOWN_SCORE; one it lacks (names of every language cannot all be listed) scores
    SURNAME_SHAPED_SCORE; both act under the default policy. The lists: gateway/inspection/data/README.md."""

    # Above spaCy's 0.85: of two results on one span Presidio keeps the higher, and an all-caps NER name is
    # dropped later (names.filter_ner), so at 0.75 "JOAQUIM MOREAU" was lost to spaCy's own result.
    KNOWN_SCORE = 0.86
    SURNAME_SHAPED_SCORE = 0.6

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="KnownNameRecognizer", supported_language="en")

    def load(self) -> None:
        given_names(), surnames()  # read now: a missing list fails at start-up

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        spans: dict[tuple[int, int], float] = {}
        for pattern in _CANDIDATES:
            for m in pattern.finditer(text, overlapped=True):
                score = self._score(m)
                if score:
                    spans[m.span()] = max(score, spans.get(m.span(), 0.0))
        return [RecognizerResult("PERSON", a, b, score, analysis_explanation=AnalysisExplanation(
                    self.name, score, textual_explanation="a known given name and a surname"))
                for (a, b), score in self._longest(spans).items()]

    def _score(self, m: re.Match) -> float:
        given, last = m.group("given").lower(), m.group("last").lower()
        middle = (m.groupdict().get("middle") or "").lower()
        first, *more = given.split("-")  # "Jean-Luc", "Radu-Chidi"
        if first not in given_names() or first in _PLACE_PREFIXES or given == last or len(last) < 2:
            return 0.0
        if any(is_common_word(w) for w in more) or m.group("given").isupper() and first in STOP_WORDS:
            return 0.0  # "IN NO EVENT WILL NVIDIA BE LIABLE": a word in capitals, not a name
        if any(w in _NOT_NAMES or is_common_word(w.strip("'’")) for w in (middle, last) if w):
            return 0.0
        surname_first = m.start("last") < m.start("given")
        if last in STREET_WORDS and last not in surnames() or not self._alone(m, surname_first):
            return 0.0
        if surname_first and "," in m.group() and last not in surnames():  # "Atlanta, Georgia": a place
            return 0.0
        if last in surnames():
            return self.KNOWN_SCORE
        # "LINN UR": an unknown two-letter "surname" is an abbreviation, and so is "CTO Maria"'s
        return self.SURNAME_SHAPED_SCORE if len(last) >= (4 if surname_first else 3) else 0.0

    @staticmethod
    def _alone(m: re.Match, surname_first: bool) -> bool:
        """No company suffix or street word after the name, no street word before it ("avenue Jean Jaures"), no
        house number before a street-type surname ("3963 Washington Lane"); "Last, First" and "LAST First" not after
        a capitalised word ("Oak Lane, Columbus")."""
        after = _NEXT_WORD.match(m.string, m.end())
        if after and after.group(1).lower().strip(".") in _NOT_AFTER_A_NAME:
            return False
        line_start = m.string.rfind("\n", 0, m.start()) + 1
        before = _WORD_BEFORE.search(m.string, line_start, m.start())
        if before is None:
            return True
        word = before.group(1).strip(".")
        return not (word.lower() in STREET_WORDS or surname_first and word[:1].isupper()
                    or word[:1].isdigit() and m.group("last").lower() in STREET_WORDS)

    @staticmethod
    def _longest(spans: dict[tuple[int, int], float]) -> dict[tuple[int, int], float]:
        """The spans no other span contains ("Anna Maria Rossi", not also "Anna Maria")."""
        return {s: v for s, v in spans.items()
                if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)}
