"""Card numbers: Presidio's recogniser (Luhn-checked), and a number glued to the word before it (`card5225-6362-…`:
at small sizes OCR loses the space after a label, and `\\b` no longer starts the number)."""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

_BODY = CreditCardRecognizer.PATTERNS[0].regex.removeprefix(r"\b")
_GLUED = Pattern("card_glued_to_label", r"(?<=[A-Za-z])" + _BODY, CreditCardRecognizer.PATTERNS[0].score)


class GluedCardRecognizer(CreditCardRecognizer):
    """Presidio's CreditCardRecognizer plus a number right after a letter; both are Luhn-checked."""

    def __init__(self) -> None:
        super().__init__(patterns=[*CreditCardRecognizer.PATTERNS, _GLUED], name="CreditCardRecognizer")
