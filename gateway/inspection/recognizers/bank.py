"""IBANs wherever they stand: at a line's end, mid-sentence, or before the next field of a table row.

Presidio's IbanRecognizer runs case-insensitively here (the registry's flags) and then takes up to six 4-character
groups greedily, so in `... to CZ52 5001 3518 2278 4310 6300 before Friday` it reads `befo` as the sixth group; its
fallbacks (three fixed group ends) never reach the IBAN's own end and the IBAN is lost. Here every chunk boundary
after the country code and check digits is tried, longest first, and the first that passes the checksum and the
country's format wins: a trailing word (`before`, `BIC`) is simply not part of it.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import IbanRecognizer

# A country code and check digits, then up to 9 chunks of capitals and digits, each after one space or hyphen
# (printed groups of four, or the IBAN's whole rest in one run). Lower case is no IBAN's: a word OCR glued to the
# IBAN's end (`...3280before`) ends it.
_HEAD = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}")
_CHUNK = re.compile(r"[ -]?[A-Z0-9]{1,30}")
MAX_CHUNKS = 9
IBAN_MIN, IBAN_MAX = 15, 34  # ISO 13616: Norway's 15 to Saint Lucia's 32 (34 allowed)


class SentenceIbanRecognizer(IbanRecognizer):
    """Presidio's IBAN checks (mod 97 and the country's BBAN format), with the IBAN's end found by trying every
    chunk boundary instead of three fixed groups."""

    def __init__(self) -> None:
        super().__init__(name="IbanRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results = []
        for head in _HEAD.finditer(text):
            if results and head.start() < results[-1].end:
                continue  # inside the IBAN just found
            end = _iban_end(text, head.end(), self.validate_result)
            if end is not None:
                explanation = self.build_regex_explanation(self.name, "IBAN chunks", _HEAD.pattern, 1.0, True, 0)
                results.append(RecognizerResult(self.supported_entities[0], head.start(), end,
                                                EntityRecognizer.MAX_SCORE, explanation,
                                                {RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                 RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results


def _iban_end(text: str, pos: int, valid) -> int | None:
    """The end of the longest run of chunks from `pos` that makes a valid IBAN with the head before it."""
    start, ends, length = pos - 4, [], 4
    while len(ends) < MAX_CHUNKS:
        chunk = _CHUNK.match(text, pos)
        if not chunk:
            break
        length += len(chunk.group().lstrip(" -"))
        if length > IBAN_MAX:
            break
        pos = chunk.end()
        ends.append((pos, length))
    for end, length in reversed(ends):
        if length >= IBAN_MIN and valid(text[start:end]):
            return end
    return None
