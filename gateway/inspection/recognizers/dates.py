"""Dates of birth: a date next to a birth-date label."""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

# ---------------------------------------------------------------------------------------------------------------
# Dates of birth: a date next to "DOB" / "date of birth" / "born", or the birth date a verified MRZ states

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# ICAO 9303 visual zones print the month in two languages: "12 MAR/MARS 85", "03 AUG /AOUT 1990"; either may
# come first
_MON_ALT = r"(?:[ \t]?/[ \t]?[^\W\d_]{3,5}\.?)?"
_MON_FIRST = r"(?:[^\W\d_]{3,5}\.?[ \t]?/[ \t]?)?"  # the English month second: "10 MAA/MAR 1965"
_SEP = r"[ \t]?[/.\-_,][ \t]?"
_DATE = re.compile(
    rf"(?<![\w/.-])(?:(?P<a>\d{{1,2}}){_SEP}(?P<b>\d{{1,2}}){_SEP}(?P<y1>\d{{4}}|\d{{2}})"
    rf"|(?P<y2>(?:19|20)\d{{2}}){_SEP}(?P<m2>\d{{1,2}}){_SEP}(?P<d2>\d{{1,2}})"
    rf"|(?P<mon3>{_MON})[ \t]+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<y3>\d{{4}})"
    rf"|(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?[ \t.-]*{_MON_FIRST}(?P<mon4>{_MON}){_MON_ALT}[ \t.,-]*(?P<y4>\d{{4}}|\d{{2}})"
    # day, month and a full year apart by spaces only (French and Belgian ID cards: "12 08 1983")
    rf"|(?P<a5>\d{{2}})[ \t](?P<b5>\d{{2}})[ \t](?P<y5>(?:19|20)\d{{2}}))(?![\w/-])",
    re.IGNORECASE,
)
DOB_LABEL = (
    r"(?:d\.?\s?[o0]\.?\s?[b8]\.?|date\s+of\s+birth|birth\s?date|birthday|born|geburtsdatum|geb\.|"
    r"date\s+de\s+naiss(?:ance|\.)|n[ée]e?\s+le|fecha\s+de\s+nac(?:imiento|\.)|data\s+di\s+nascita|"
    r"data\s+de\s+nascimento|geboortedatum|f[öo]delsedatum|f[øo]dselsdato|syntym[äa]aika|data\s+urodzenia|"
    r"datum\s+narozen[ií]|do[ğg]um\s+tarihi)"
)
_DOB_CONTEXT = re.compile(rf"\b{DOB_LABEL}(?!\w)", re.IGNORECASE)
DOB_CONTEXT_CHARS = 48  # how far before a date its label may be (the label may sit in the previous column/line)


def find_dates(text: str) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Calendar dates in text as (start, end, (year, month, day)); ambiguous d/m order gives the first valid
    reading (month/day when both fit); 2-digit years are 19xx/20xx. Impossible dates are skipped."""
    out = []
    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["a"] or g["a5"]:
            if g["a"]:
                a, b, y = g["a"], g["b"], g["y1"]
            else:  # space-separated dates are printed day first
                b, a, y = g["a5"], g["b5"], g["y5"]
            candidates = [(_year(y), int(a), int(b)), (_year(y), int(b), int(a))]
        elif g["y2"]:
            candidates = [(int(g["y2"]), int(g["m2"]), int(g["d2"]))]
        else:
            mon, d, y = (g["mon3"], g["d3"], g["y3"]) if g["mon3"] else (g["mon4"], g["d4"], g["y4"])
            month = _MONTHS.index(mon[:3].lower()) + 1
            candidates = [(_year(y), month, int(d))]
        for y, mo, d in candidates:
            if 1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
                out.append((m.start(), m.end(), (y, mo, d)))
                break
    return out


def _year(digits: str) -> int:
    """A 2-digit year is 19xx after 30, else 20xx."""
    y = int(digits)
    if len(digits) == 2:
        y += 1900 if y > 30 else 2000
    return y


class DateOfBirthRecognizer(EntityRecognizer):
    """DATE_OF_BIRTH: a date (numeric, ISO, or with a month name) shortly after a date-of-birth label."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["DATE_OF_BIRTH"], name="DateOfBirthRecognizer", supported_language="en")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:  # noqa: D102
        results = []
        for start, end, _ in find_dates(text):
            before = text[max(0, start - DOB_CONTEXT_CHARS) : start]
            labels = list(_DOB_CONTEXT.finditer(before))
            # The nearest label must belong to this date, not to another date in between.
            if labels and not find_dates(before[labels[-1].end() :]):
                results.append(RecognizerResult("DATE_OF_BIRTH", start, end, 0.85))
        return results
