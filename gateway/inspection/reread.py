"""A second reading for words that look like PII but fail its validation: an e-mail without a domain, a digit run
off a card's Luhn digit or an SSN's grouping, an IBAN off mod 97.

Small condensed print leaves the recogniser about one CTC frame per glyph, and the narrow characters PII lives on
(`-` `.` `_`) are dropped first ("158-38-6159" read "158-386159" within its table row). The second reading reads the
word alone, as it is and stretched 1.5x horizontally (more frames per glyph). It replaces the first only when it
holds more validated values: the validators decide, never the second reading alone.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
)

STRETCH = 1.5

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_AT_TOKEN = re.compile(r"\S*@\S*")
_DIGIT_RUN = re.compile(r"\d[\d -]{7,}\d")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


_CARD_CHECK = CreditCardRecognizer()  # the analyzer's own validators: a reading passes exactly what it would find
_IBAN_CHECK = IbanRecognizer()


def _luhn(digits: str) -> bool:
    return bool(_CARD_CHECK.validate_result(digits))


def _mod97(iban: str) -> bool:
    return bool(_IBAN_CHECK.validate_result(iban))


def _card_spans(text: str) -> list[list[str]]:
    """Per run of digit groups (separated by spaces or dashes), the digit strings of every stretch of consecutive
    groups that is card-long (13-19 digits): a run may hold an SSN and a card side by side."""
    out = []
    for m in _DIGIT_RUN.finditer(text):
        groups = re.split(r"[ -]+", m.group())
        spans = []
        for i in range(len(groups)):
            for j in range(i + 1, len(groups) + 1):
                digits = "".join(groups[i:j])
                if 13 <= len(digits) <= 19:
                    spans.append(digits)
        if spans:
            out.append(spans)
    return out


def _cards(text: str) -> int:
    return sum(any(_luhn(d) for d in spans) for spans in _card_spans(text))


def validated(text: str) -> int:
    """How many values on the line pass their validation (e-mails, Luhn-valid cards, SSN-grouped numbers, IBANs)."""
    return (len(_EMAIL.findall(text)) + _cards(text) + len(_SSN.findall(text))
            + sum(_mod97(m.group()) for m in _IBAN.finditer(text)))


def near_miss(text: str) -> bool:
    """The line holds something PII-shaped that fails validation: worth a second reading."""
    if any(not _EMAIL.search(t) for t in _AT_TOKEN.findall(text)):
        return True
    for token in text.split():
        token = token.strip(".,;:()[]")
        if "-" in token and re.fullmatch(r"\d[\d-]*\d", token) and len(token.replace("-", "")) == 9 \
                and not _SSN.fullmatch(token):
            return True
    ibans = list(_IBAN.finditer(text))
    if any(not _mod97(m.group()) for m in ibans):
        return True
    for m in reversed(ibans):  # a valid IBAN's digits are not a card
        text = text[: m.start()] + " " + text[m.end() :]
    return any(not any(_luhn(d) for d in spans) for spans in _card_spans(text))


def word_extent(box: tuple[int, int, int, int], word_boxes: list, width: int, height: int) -> tuple[int, int, int, int]:
    """The word's own pixels: its box grown to the CRAFT word boxes it overlaps (a word's box from its line is placed
    by character positions, the CRAFT boxes by ink), plus a quarter line-height of margin, inside the image."""
    x0, y0, x1, y1 = box
    for b in word_boxes:
        if min(x1, b[2]) - max(x0, b[0]) > 0.5 * (b[2] - b[0]) and min(y1, b[3]) - max(y0, b[1]) > 0:
            x0, y0, x1, y1 = min(x0, b[0]), min(y0, b[1]), max(x1, b[2]), max(y1, b[3])
    pad = max(1, (y1 - y0) // 4)
    return max(0, x0 - pad), max(0, y0 - pad), min(width, x1 + pad), min(height, y1 + pad)


def stretched(crop: np.ndarray) -> np.ndarray:
    """The line crop made STRETCH times wider (same height): more recogniser frames per glyph."""
    return cv2.resize(crop, (max(1, round(crop.shape[1] * STRETCH)), crop.shape[0]), interpolation=cv2.INTER_CUBIC)


def better(first: str, second: str) -> bool:
    """The second reading wins when it validates more values than the first."""
    return validated(second) > validated(first)


# -- machine-readable zones --------------------------------------------------------------------------------------

_MRZ_CHARS = re.compile(r"[A-Z0-9<]")


def mrz_like(text: str) -> bool:
    """A line that reads like a line of an ICAO 9303 zone: 20 or more characters, nearly all of A-Z, 0-9 and '<',
    with a '<<' among them."""
    t = text.replace(" ", "")
    return len(t) >= 20 and "<<" in t and _zone_chars(t)


def short_zone_lines(lines: list[tuple[tuple[int, int, int, int], str]]) -> list[tuple[int, tuple[int, int]]]:
    """(index, the zone's x span) of zone lines that stop short of the zone's widest line: CRAFT can miss the
    start or the end of a line of OCR-B ("10066F2907170<<<<<<<0" of a 36-character line). All lines of a zone are
    equally long and start at one margin, so the short line is read again over the widest line's span."""
    zone = [(i, box) for i, (box, text) in enumerate(lines) if mrz_like(text)]
    if not zone:
        return []
    x0 = min(b[0] for _, b in zone)
    x1 = max(b[2] for _, b in zone)
    height = float(np.median([b[3] - b[1] for _, b in zone]))
    # A zone line read in pieces ("I<FRAYGW4Z55355<<<" and a "K" for the rest of its filler; the digits of a
    # second line without its filler) does not look like one: a piece of zone characters within a line's height
    # of the zone belongs to it.
    top, bottom = min(b[1] for _, b in zone) - 1.6 * height, max(b[3] for _, b in zone) + 1.6 * height
    zone += [(i, box) for i, (box, text) in enumerate(lines) if not mrz_like(text) and _zone_piece(text)
             and box[1] >= top and box[3] <= bottom and box[0] < x1 and box[2] > x0]
    if len(zone) < 2:
        return []  # one zone line: nothing to measure it by
    return [(i, (x0, x1)) for i, b in zone if b[0] - x0 > height or x1 - b[2] > height]


def _zone_piece(text: str) -> bool:
    t = text.replace(" ", "")
    return len(t) >= 8 and ("<" in t or len(t) >= 16) and _zone_chars(t)


def _zone_chars(t: str) -> bool:
    """Nearly all of `t` (spaces removed) is A-Z, 0-9 and '<'."""
    return len(_MRZ_CHARS.findall(t)) >= 0.9 * len(t)


def pieces_inside(span: tuple[int, int, int, int], lines: list[tuple[tuple[int, int, int, int], str]],
                  exclude: int) -> list[int]:
    """Indexes of the short lines of zone characters that a zone line read again over `span` holds: on its row
    (most of their height inside it) and inside its x span, give or take a line's height."""
    x0, y0, x1, y1 = span
    out = []
    for j, (b, text) in enumerate(lines):
        t = text.replace(" ", "")
        if j == exclude or not t or not _zone_chars(t) or mrz_like(text):
            continue
        slack = y1 - y0  # a line's height: CRAFT's box of the last glyphs can reach past the zone's widest line
        if b[0] >= x0 - slack and b[2] <= x1 + slack and min(b[3], y1) - max(b[1], y0) > 0.5 * (b[3] - b[1]):
            out.append(j)
    return out


def more_zone(old: str, new: str) -> bool:
    """The new reading of a zone line holds more of a zone than the old one (and is still a zone line)."""
    return mrz_like(new) and len(_MRZ_CHARS.findall(new)) > len(_MRZ_CHARS.findall(old))
