"""Names where the layout says they are names: after a salutation, before an address in angle brackets."""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer


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
