"""What names a thing, not a person: identifiers of requests, objects and commits that look like personal data."""

from __future__ import annotations

import regex as re
from presidio_analyzer import RecognizerResult

# What names a thing, not a person, stays reported for a policy that asks for it, below the level a default policy
# acts on: a date or time on its own ("Lunch at 12:30", an invoice date; dates next to a birth-date label are
# DATE_OF_BIRTH at full score) and a UUID (a request's, a trace's), which Presidio scores 0.5, 0.85 after "ID".
THING_SCORES = {"DATE_TIME": 0.4, "UUID": 0.4}
# A token of three or more hex digit groups (a UUID, a MAC address, `525b04f5-2afa-...`; OCR may glue a label to it
# or misread a digit as a letter) is one identifier: a checksummed number inside it (an NHS number, a DEA licence) is
# a chance match.
_HEX_TOKEN = re.compile(r"[0-9A-Za-z]*[0-9a-fA-F]{4,}(?:[-:.][0-9A-Za-z]+){2,}")
_HEX_SHARE = 0.8  # of the token's letters and digits, at least this many are hex digits
# ... and at least this long, with this many digits and letters a-f: no SSN, date, IBAN or version is
_HEX_MIN_LENGTH, _HEX_MIN_DIGITS, _HEX_MIN_LETTERS = 16, 8, 4
_NOT_IN_HEX = frozenset({"SECRET", "IP_ADDRESS"})  # a key may be hex itself; an IPv6 address is hex groups


def about_people(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """`results` without chance matches inside a hex identifier, and things' entities capped at THING_SCORES."""
    kept = [r for r in results if r.entity_type in _NOT_IN_HEX or not _inside_hex_token(text, r)]
    for r in kept:
        if r.entity_type in THING_SCORES:
            r.score = min(r.score, THING_SCORES[r.entity_type])
    return kept


def _inside_hex_token(text: str, r: RecognizerResult) -> bool:
    """Whether `r` is a strict part of one whitespace-delimited token made of hex digit groups (see _HEX_TOKEN)."""
    a = max(text.rfind(c, 0, r.start) for c in " \n\t") + 1
    b = min((i for i in (text.find(c, r.end) for c in " \n\t") if i >= 0), default=len(text))
    token = text[a:b].rstrip(".,;:)")
    if (a, a + len(token)) == (r.start, r.end) or not _HEX_TOKEN.fullmatch(token):
        return False
    digits = sum(c.isdigit() for c in token)
    hex_letters = sum(c in "abcdefABCDEF" for c in token)
    alnum = sum(c.isalnum() for c in token)
    return (alnum >= _HEX_MIN_LENGTH and digits >= _HEX_MIN_DIGITS and hex_letters >= _HEX_MIN_LETTERS
            and digits + hex_letters >= _HEX_SHARE * alnum)
