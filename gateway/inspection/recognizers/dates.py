"""Dates of birth: a date next to a birth-date label."""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

# ---------------------------------------------------------------------------------------------------------------
# Dates of birth: a date next to "DOB" / "date of birth" / "born", or the birth date a verified MRZ states

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_SEP = r"[ \t]?[/.\-_,][ \t]?"
_DATE = re.compile(
    rf"(?<![\w/.-])(?:(?P<a>\d{{1,2}}){_SEP}(?P<b>\d{{1,2}}){_SEP}(?P<y1>\d{{4}}|\d{{2}})"
    rf"|(?P<y2>(?:19|20)\d{{2}}){_SEP}(?P<m2>\d{{1,2}}){_SEP}(?P<d2>\d{{1,2}})"
    rf"|(?P<mon3>{_MON})[ \t]+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<y3>\d{{4}})"
    rf"|(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?[ \t.-]*(?P<mon4>{_MON})[ \t.,-]*(?P<y4>\d{{4}}))(?![\w/-])",
    re.IGNORECASE,
)
_DOB_CONTEXT = re.compile(
    r"\b(?:d\.?\s?o\.?\s?b|date\s+of\s+birth|birth\s?date|birthday|born|geburtsdatum|date\s+de\s+naissance|"
    r"fecha\s+de\s+nacimiento|data\s+di\s+nascita)\b",
    re.IGNORECASE,
)
DOB_CONTEXT_CHARS = 48  # how far before a date its label may be (the label may sit in the previous column/line)


def find_dates(text: str) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Calendar dates in text as (start, end, (year, month, day)); ambiguous d/m order gives the first valid
    reading (month/day when both fit); 2-digit years are 19xx/20xx. Impossible dates are skipped."""
    out = []
    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["a"]:
            a, b, y = int(g["a"]), int(g["b"]), int(g["y1"])
            if len(g["y1"]) == 2:
                y += 1900 if y > 30 else 2000
            candidates = [(y, a, b), (y, b, a)]
        elif g["y2"]:
            candidates = [(int(g["y2"]), int(g["m2"]), int(g["d2"]))]
        else:
            mon, d, y = (g["mon3"], g["d3"], g["y3"]) if g["mon3"] else (g["mon4"], g["d4"], g["y4"])
            month = _MONTHS.index(mon[:3].lower()) + 1
            candidates = [(int(y), month, int(d))]
        for y, mo, d in candidates:
            if 1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
                out.append((m.start(), m.end(), (y, mo, d)))
                break
    return out


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
