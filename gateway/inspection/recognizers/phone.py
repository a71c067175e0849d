"""Phone numbers: international format anywhere, and Presidio's numbers matched line by line with a cache."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import phonenumbers
from presidio_analyzer import (
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.predefined_recognizers import PhoneRecognizer


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


class InternationalPhoneRecognizer(PatternRecognizer):
    """A number in international format (+CC and 8-15 digits in groups) that phonenumbers rejects, typically because
    OCR lost a digit ("+33 6 66 93 50 27" read as "+33 66 93 50 27"): still a phone number to redact, lower score."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            name="InternationalPhoneRecognizer",
            patterns=[Pattern("international_phone", r"(?<![\w+])\+\d{1,3}(?:[ \t.-]?\(?\d{1,5}\)?){1,6}(?![\w])", 0.6)],
        )

    def validate_result(self, pattern_text: str) -> bool:
        return 8 <= sum(c.isdigit() for c in pattern_text) <= 15


class LinePhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer, same regions, same leniency, same results, run line by line with a cache.

    python-phonenumbers' matcher never matches across a line break, and a line with fewer than 4 digits holds no
    valid number (the shortest in its regions, German, has 4). OCR text repeats lines: the digit-normalised and the
    repaired passes re-read most lines of the page, and phonenumbers parses every candidate once per region (it was
    ~40% of the analyze stage)."""

    MIN_DIGITS = 4
    MAX_DIGITS = 15  # E.164: country code and number together
    CACHE_LINES = 4096

    def __init__(self) -> None:
        super().__init__(name="PhoneRecognizer")
        self._lines: OrderedDict[str, tuple[tuple[int, int, str], ...]] = OrderedDict()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        results = []
        offset = 0
        for line in text.split("\n"):
            if sum(c.isdecimal() for c in line) >= self.MIN_DIGITS:
                for start, end, region in self._numbers(line):
                    results.append(self._get_recognizer_result(_Span(offset + start, offset + end), text, region,
                                                               nlp_artifacts))
            offset += len(line) + 1
        return EntityRecognizer.remove_duplicates(results)

    def _numbers(self, line: str) -> tuple[tuple[int, int, str], ...]:
        """(start, end, region) of the phone numbers in one line, as PhoneRecognizer.analyze finds them."""
        if line in self._lines:
            self._lines.move_to_end(line)
            return self._lines[line]
        found = []
        for region in self.supported_regions:
            for match in phonenumbers.PhoneNumberMatcher(line, region, leniency=self.leniency):
                if sum(c.isdecimal() for c in match.raw_string) > self.MAX_DIGITS:
                    continue  # "4963-0431-7301-4737": a card's groups, longer than any phone number
                try:
                    number = phonenumbers.parse(line[match.start : match.end])
                    found.append((match.start, match.end, phonenumbers.region_code_for_number(number)))
                except phonenumbers.NumberParseException:
                    found.append((match.start, match.end, region))
        self._lines[line] = numbers = tuple(found)
        if len(self._lines) > self.CACHE_LINES:
            self._lines.popitem(last=False)
        return numbers
