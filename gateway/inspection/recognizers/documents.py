"""Identity document numbers printed in a document's visual zone: a number next to its label.

The MRZ recogniser finds the number a machine-readable zone states; driver's licences, many ID cards and residence
permits have no MRZ, and a cropped or unreadable MRZ leaves only the printed field. The label decides (a bare
alphanumeric token is anything); the token must look like a document number: 6 to 16 letters and digits, at least
two digits, upper case, not a date and not a placeholder.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from gateway.inspection.recognizers.common import is_placeholder
from gateway.inspection.recognizers.dates import find_dates

_NO = r"(?:n[o°º]\.?|nr|num(?:ber)?|#)"
_DOC_LABEL = re.compile(
    r"(?<![\w])(?:"
    rf"(?:passport|document|identity\s+card|id\s+card|identity|id|card\s+id|licen[cs]e|lic|permit|dl)\.?\s*{_NO}"
    r"|dln|driver'?s?\s+licen[cs]e(?:\s+number)?"
    # French, German, Dutch, Spanish, Italian, Portuguese, Polish
    r"|n[°º]\s*(?:du\s+|de\s+la\s+)?(?:document|passeport|carte|titre|permis)|num[ée]ro\s+(?:du\s+|de\s+)?(?:document|passeport|carte|permis)"
    r"|(?:ausweis|reisepass|pass|dokumenten|dokument|f[üu]hrerschein)[-\s]?(?:nummer|nr)\.?"
    r"|(?:document|paspoort|rijbewijs)nummer"
    r"|n[úu]mero\s+(?:de[l]?\s+|do\s+)?(?:documento|pasaporte|passaporte|carn[ée]|permiso)"
    r"|num(?:ero)?\.?\s+(?:documento|passaporto|patente)"
    r"|(?:nr|numer)\s+(?:dokumentu|paszportu)"
    r")(?![\w])",
    re.IGNORECASE,
)
# Letters and digits, hyphens inside; a space only between digit groups (printed as "123 456 789").
_TOKEN = re.compile(r"(?<![\w-])[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])|(?<=\d) (?=\d{3}))*(?![\w-])")
VALUE_CHARS = 40  # how far after its label the number may start (a bilingual label, a line break, a field code)
MIN_CHARS, MAX_CHARS, MIN_DIGITS = 6, 16, 2


def document_number(token: str) -> bool:
    """The token's shape is a document number's."""
    bare = token.replace("-", "").replace(" ", "")
    return (MIN_CHARS <= len(bare) <= MAX_CHARS and sum(c.isdigit() for c in bare) >= MIN_DIGITS
            and not is_placeholder(bare) and not find_dates(token))


class DocumentNumberRecognizer(EntityRecognizer):
    """ID_DOCUMENT_NUMBER: the first document-number-shaped token shortly after a document-number label."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["ID_DOCUMENT_NUMBER"], name="DocumentNumberRecognizer",
                         supported_language="en")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:  # noqa: D102
        results: dict[int, RecognizerResult] = {}  # by start: a bilingual label names one number twice
        for label in _DOC_LABEL.finditer(text):
            after = label.end()
            for token in _TOKEN.finditer(text, after, after + VALUE_CHARS):
                if document_number(token.group()):
                    results[token.start()] = RecognizerResult("ID_DOCUMENT_NUMBER", token.start(), token.end(), 0.8)
                    break
                if any(c.isdigit() for c in token.group()):
                    break  # another number (a date, a field code) comes first: not this label's
        return list(results.values())
