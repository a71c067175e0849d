"""Names and birth dates where the layout puts them under or beside their label: a field's value on the row below
it (ID cards, forms), the cells of a column (a table's `First name` or `DOB` header), a value OCR read as a line
apart from its label. A value after its label in the same line of text is the recognisers' (LabelledName, DateOfBirth)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import regex as re
from presidio_analyzer import AnalysisExplanation, RecognizerResult

from gateway.inspection.recognizers.dates import DOB_LABEL, find_dates
from gateway.inspection.recognizers.person import (
    BARE_NAME_LABEL,
    BARE_NAME_VALUE,
    STRONG_NAME_LABEL,
    STRONG_NAME_VALUE,
    is_name_value,
)
from gateway.models import Box

SCORE = 0.85
# A label cell: one label or several in two languages ("Surname / Nom"), a colon or a field number allowed.
_PART = rf"(?:(?P<strong>{STRONG_NAME_LABEL})|{BARE_NAME_LABEL})"
_LABEL_CELL = re.compile(rf"(?i)(?:\d{{1,2}}[.)]?[ ]?)?{_PART}(?:[ ]?[/|][ ]?{_PART})*[ ]?[:.]?")
# A birth-date label cell, in one language or two ("Date of birth / Date de naissance").
_DOB_CELL = re.compile(rf"(?i)(?:\d{{1,2}}[.)]?[ ]?)?{DOB_LABEL}(?:[ ]?[/|][ ]?[^\W\d_][^\d/|]{{1,30}})?[ ]?[:.]?")
DOB_SCORE = 0.85
_STRONG_VALUE = re.compile(STRONG_NAME_VALUE)
_BARE_VALUE = re.compile(BARE_NAME_VALUE)
MAX_ROWS = 60  # rows of a table read under one header
ROW_GAP_HEIGHTS = 3.0  # a blank taller than this many text heights ends a column (or a field's value below it)
WORD_GAP_HEIGHTS = 1.2  # words of one value below a label are at most this far apart
CELL_GAP_HEIGHTS = 1.5  # a blank this wide between two words of a line parts two cells


class Placed(Protocol):
    """A word in the analysed text: its character span and pixel box (text._Placed)."""

    start: int
    end: int
    box: Box


@dataclass(frozen=True)
class _Cell:
    words: tuple[Placed, ...]
    strong: bool  # a label cell with a strong name label

    @property
    def x0(self) -> int:
        return self.words[0].box[0]

    @property
    def height(self) -> int:
        return max(w.box[3] - w.box[1] for w in self.words)

    @property
    def y0(self) -> int:
        return min(w.box[1] for w in self.words)

    @property
    def y1(self) -> int:
        return max(w.box[3] for w in self.words)

    @property
    def y_mid(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def x_mid(self) -> float:
        return (self.words[0].box[0] + self.words[-1].box[2]) / 2


def names_under_labels(text: str, lines: Sequence[Sequence[Placed]]) -> list[RecognizerResult]:
    """PERSON results (character spans of `text`) for the values of name labels that the text alone does not show:
    the cell beside a label, the aligned words on the row below a field label, every row's cell under a table
    header of three or more cells. OCR may read each cell of a row as a line of its own, so rows are found by
    position, not by line."""
    return [_result(v, label.strong) for v, label in _under_labels(text, lines, _label)
            if _is_value(text, v, label.strong)]


def dates_under_labels(text: str, lines: Sequence[Sequence[Placed]]) -> list[RecognizerResult]:
    """DATE_OF_BIRTH results for dates under or beside a birth-date label found the same way (an ID card's
    `DATE OF BIRTH` above its value in the second column, a table's `DOB` column): in the text, the label
    nearest the date may be another field's."""
    out = []
    for words, _ in _under_labels(text, lines, _dob_label):
        value = _text(text, words)
        dates = find_dates(value)
        if len(dates) == 1 and dates[0][1] - dates[0][0] >= len(value) - 2:
            start = text.index(value, words[0].start)
            out.append(RecognizerResult(
                "DATE_OF_BIRTH", start + dates[0][0], start + dates[0][1], DOB_SCORE,
                analysis_explanation=AnalysisExplanation("DateFieldLayout", DOB_SCORE,
                                                         textual_explanation="a date under a birth-date label"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "DateFieldLayout"}))
    return out


def _under_labels(text: str, lines: Sequence[Sequence[Placed]], label_of: Callable[[str, _Cell], _Cell | None]
                  ) -> list[tuple[tuple[Placed, ...], _Cell]]:
    """(value words, label) of every label cell `label_of` accepts: the cell beside it and the value below it, or
    its column when its row has three or more cells (a table header)."""
    cells = [c for line in lines for c in _cells(text, line)]
    out = []
    for cell in cells:
        label = label_of(text, cell)
        if label is None:
            continue
        row = sorted((c for c in cells if _same_row(c, label)), key=lambda c: c.x0)
        after = [c for c in row if c.x0 > label.x0]
        if len(row) >= 3:
            right = after[0].x0 - label.height / 2 if after else float("inf")
            values = _column(cells, label, right)
        else:
            values = [after[0].words] if after else []
            values += _below(text, cells, label)
        out += [(v, label) for v in values]
    return out


def _cells(text: str, line: Sequence[Placed]) -> list[_Cell]:
    """The line's words in cells: a tab between two words (text._column_gaps) or a blank wider than
    CELL_GAP_HEIGHTS text heights starts a new cell (a line of two cells has no gap to compare with)."""
    cells: list[list[Placed]] = []
    h = max((w.box[3] - w.box[1] for w in line), default=0)
    for w in line:
        prev = cells[-1][-1] if cells else None
        if prev is None or "\t" in text[prev.end : w.start] or w.box[0] - prev.box[2] > CELL_GAP_HEIGHTS * h:
            cells.append([w])
        else:
            cells[-1].append(w)
    return [_Cell(tuple(c), False) for c in cells]


def _label(text: str, cell: _Cell) -> _Cell | None:
    """The cell as a label (strong when one of its labels is), None when it is none."""
    m = _LABEL_CELL.fullmatch(_text(text, cell.words))
    return None if m is None else _Cell(cell.words, any(m.captures("strong")))


def _dob_label(text: str, cell: _Cell) -> _Cell | None:
    return cell if _DOB_CELL.fullmatch(_text(text, cell.words)) else None


def _same_row(a: _Cell, b: _Cell) -> bool:
    return b.y0 <= a.y_mid <= b.y1 or a.y0 <= b.y_mid <= a.y1


def _column(cells: Sequence[_Cell], label: _Cell, right: float) -> list[tuple[Placed, ...]]:
    """The cells below the label whose centre lies between its left edge and the next header cell's, row by row
    down to a blank taller than ROW_GAP_HEIGHTS text heights."""
    left = label.x0 - label.height

    def inside(w: Placed) -> bool:
        return left <= (w.box[0] + w.box[2]) / 2 < right

    # OCR may read a cell and its neighbour as one phrase: the words inside the column count, not whole cells.
    below = sorted((_Cell(tuple(w for w in c.words if inside(w)), False) for c in cells
                    if c.y0 > label.y_mid and any(inside(w) for w in c.words)), key=lambda c: c.y0)
    out, bottom = [], label.y1
    for c in below[:MAX_ROWS]:
        if c.y0 - bottom > ROW_GAP_HEIGHTS * label.height:
            break
        bottom = max(bottom, c.y1)
        out.append(c.words)
    return out


def _below(text: str, cells: Sequence[_Cell], label: _Cell) -> list[tuple[Placed, ...]]:
    """The nearest cell below the label that starts under its left edge: its words up to a wider gap."""
    h = label.height
    under = [c for c in cells if c.y0 > label.y_mid and abs(c.x0 - label.x0) <= 2 * h
             and c.y0 - label.y1 <= ROW_GAP_HEIGHTS * h]
    if not under:
        return []
    first = min(under, key=lambda c: c.y0)
    value = [first.words[0]]
    for w in first.words[1:]:
        if w.box[0] - value[-1].box[2] > WORD_GAP_HEIGHTS * h:
            break
        value.append(w)
    return [tuple(value)]


def _is_value(text: str, words: tuple[Placed, ...], strong: bool) -> bool:
    value = _text(text, words)
    shape = _STRONG_VALUE if strong else _BARE_VALUE
    return bool(shape.fullmatch(value)) and is_name_value(value)


def _text(text: str, words: Sequence[Placed]) -> str:
    return text[words[0].start : words[-1].end].replace("\t", " ").strip(" :\"'\u2019")


def _result(words: tuple[Placed, ...], strong: bool) -> RecognizerResult:
    why = "a value under a name label" if strong else "a two- or three-word value under a Name label"
    return RecognizerResult(
        "PERSON", words[0].start, words[-1].end, SCORE,
        analysis_explanation=AnalysisExplanation("NameFieldLayout", SCORE, textual_explanation=why),
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "NameFieldLayout"},
    )
