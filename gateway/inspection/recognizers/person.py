"""Names where the page says they are names: after a salutation, before an address in angle brackets, spelled by
the page's own e-mail addresses."""

from __future__ import annotations

import regex as re
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)


class NameCueRecognizer(PatternRecognizer):
    """Names the small spaCy model misses where the layout says it is a name: after a salutation ("Dear Lukas,",
    "Hi Ms Grace Becker!") and before an address in angle brackets ("Author: Sofia Okafor <sofia@...>")."""

    _NAME = r"[A-Z][a-z]{1,20}(?:[ -][A-Z][a-z]{1,20}){0,2}"

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="NameCueRecognizer",
            patterns=[
                Pattern("salutation", r"(?<=\b(?:Dear|Hi|Hello|Hey)[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+)?)"
                        + self._NAME + r"(?=[ \t]*[,!:])", 0.85),
                Pattern("name_before_address", self._NAME + r"(?=[ \t]*<[^<>\s]{1,64}@)", 0.8),
            ],
            global_regex_flags=re.MULTILINE,  # case-sensitive: names are capitalised
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        # "Dear Customer,", "Hi Team!", "Dear Sir or Madam": roles, not names
        return pattern_text.split()[0].lower() in _NOT_NAMES


_NOT_NAMES = frozenset("""
    customer customers team all everyone sir madam colleague colleagues friend friends there folks user users
    member members client clients partner partners applicant candidate support admin hiring manager recipient
    valued guest guests sales billing
""".split())


class EmailNameRecognizer(EntityRecognizer):
    """Capitalised names that the page's own e-mail addresses spell: `Anna Okafor` beside `anna_okafor@...` or
    `aokafor@...`. People's addresses are built from their names, so a word pair whose first or last word is a
    part of a local part (split at `.`, `_`, `-`, `+` and digits; or that part without its first letter, an
    initial) is a name, whatever its language. Role mailboxes (`support@`, `billing@`) name nobody."""

    _EMAIL = re.compile(r"([A-Za-z0-9._%+-]{1,64})@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
    _WORD = r"[A-Z][a-z]{1,20}(?:[-'][A-Z][a-z]{1,20})?"
    _CANDIDATE = re.compile(rf"(?<![\w@.]){_WORD}(?: {_WORD}){{1,2}}(?![\w@])")
    SCORE = 0.7

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="EmailNameRecognizer", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        parts = self._local_parts(text)
        if not parts:
            return []
        out = []
        for m in self._CANDIDATE.finditer(text):
            words = [w.lower() for w in m.group().split()]
            if words[0] in _NOT_NAMES or words[-1] in _NOT_NAMES:
                continue
            if words[0] in parts or words[-1] in parts:
                out.append(RecognizerResult("PERSON", m.start(), m.end(), self.SCORE,
                                            analysis_explanation=AnalysisExplanation(
                                                self.name, self.SCORE, textual_explanation="spelled by an e-mail")))
        return out

    def _local_parts(self, text: str) -> frozenset[str]:
        parts: set[str] = set()
        for m in self._EMAIL.finditer(text):
            for piece in re.split(r"[._%+\-\d]+", m.group(1).lower()):
                if len(piece) >= 3 and piece not in _ROLE_MAILBOXES:
                    parts.add(piece)
                    if len(piece) >= 5:
                        parts.add(piece[1:])  # "aokafor": an initial and the surname
        return frozenset(parts)


_ROLE_MAILBOXES = frozenset("""
    info admin support sales billing noreply reply hello contact office team help service services jobs careers hr
    news newsletter mail email marketing press media accounts accounting finance invoices invoice orders order shop
    security abuse postmaster webmaster root user users test demo dev ops devops it legal privacy compliance
    notifications notification alerts alert updates account payments payment booking bookings reservations work
""".split())
