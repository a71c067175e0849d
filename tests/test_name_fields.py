"""Names where a field label says so: beside the label (forms, JSON, ID cards), below it (ID cards), in the column
under a table header; and a bare `Name` heading files, products or UI labels names no person."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from gateway.inspection.ocr import OcrEngine, OcrWord
from gateway.inspection.text import TextAnalyzer

pytestmark = pytest.mark.slow

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def acting_names(analyzer: TextAnalyzer, text: str) -> list[str]:
    """PERSON values the default policy acts on (score >= 0.5)."""
    return sorted(text[a:b] for f, a, b in analyzer.analyze_text_spans(text, "ocr")
                  if f.entity == "PERSON" and f.score >= 0.5)


@pytest.mark.parametrize("text, name", [
    ('  "name": "Leanne Graham",', "Leanne Graham"),  # JSON in a terminal
    ('name": "Leanne Graham"', "Leanne Graham"),  # the opening quote lost by OCR
    ("Surname / Nom: PETROVA", "PETROVA"),  # bilingual ID-card label, all-caps value
    ("Nachname\tSCHNEIDERHAN", "SCHNEIDERHAN"),  # label and value in two cells
    ("Patient: DOE^JANE", "DOE^JANE"),  # DICOM's name separator
    ("Last name: Kaplan-Moss", "Kaplan-Moss"),
    ("Given names: OMAR ALEXANDER", "OMAR ALEXANDER"),
    ("Apellidos: GARCIA LOPEZ", "GARCIA LOPEZ"),
])
def test_value_after_a_name_label_is_a_person(analyzer: TextAnalyzer, text: str, name: str) -> None:
    assert name in acting_names(analyzer, text)


@pytest.mark.parametrize("text", [
    "name: Build Docker Image",  # a CI step: UI and code words
    "username: Bret",  # a user name is no person's name
    "File name: Annual Report",  # a bare Name qualified by what it names
    "Name\tSize\tModified",  # a header row, no value
    "First name\tLast name",  # two labels
    "Name: Documents",  # one word under a bare label: a folder as often as a person
])
def test_no_person_from_a_label_that_names_something_else(analyzer: TextAnalyzer, text: str) -> None:
    assert acting_names(analyzer, text) == []


def cell(text: str, x: int, y: int, h: int = 14, char_w: int = 8) -> OcrWord:
    return OcrWord(text, (x, y, x + char_w * len(text), y + h), 0.9)


def words_of(text: str, x: int, y: int, char_w: int = 8) -> list[OcrWord]:
    out = []
    for t in text.split():
        out.append(cell(t, x, y, char_w=char_w))
        x += char_w * (len(t) + 1)
    return out


def table(header: list[tuple[str, int]], rows: list[list[str]], y: int = 100, pitch: int = 32) -> list[OcrWord]:
    """A table's words, one OCR word per printed word."""
    words = [w for t, x in header for w in words_of(t, x, y)]
    for r, row in enumerate(rows, 1):
        words += [w for t, (_, x) in zip(row, header) for w in words_of(t, x, y + r * pitch)]
    return words


def person_texts(analyzer: TextAnalyzer, words: list[OcrWord]) -> set[str]:
    boxes = [f.box for f in analyzer.analyze_words(words) if f.entity == "PERSON" and f.score >= 0.5]
    return {w.text for w in words if any(b[0] <= w.box[0] and w.box[2] <= b[2] and b[1] <= w.box[1] <= b[3]
                                         for b in boxes)}


def test_cells_under_name_headers_are_people(analyzer: TextAnalyzer) -> None:
    header = [("USERNAME", 40), ("EMAIL", 210), ("FIRST NAME", 420), ("LAST NAME", 540), ("STATUS", 680)]
    rows = [["adrian", "adrian@mail.example", "Adrian", "Holovaty", "active"],
            ["jacob", "jacob@mail.example", "Jacob", "Kaplan-Moss", "active"],
            ["simon", "simon@mail.example", "Simon", "Willison", "away"]]
    found = person_texts(analyzer, table(header, rows))
    assert {"Adrian", "Holovaty", "Jacob", "Kaplan-Moss", "Simon", "Willison"} <= found
    assert not found & {"adrian", "jacob", "simon", "active", "away"}


def test_a_name_column_of_files_is_not_people(analyzer: TextAnalyzer) -> None:
    header = [("Name", 40), ("Size", 300), ("Modified", 420)]
    rows = [["Documents", "4 items", "Yesterday"], ["Downloads", "12 items", "Today"], ["Music", "0 items", "May 3"]]
    assert person_texts(analyzer, table(header, rows)) == set()


def test_a_table_ends_at_a_wide_blank(analyzer: TextAnalyzer) -> None:
    header = [("First name", 40), ("Last name", 200), ("Team", 360)]
    words = table(header, [["Ingrid", "Solberg", "Ops"]])
    words.append(cell("Crowther", 200, 400))  # far below the table: a word of another part of the page
    found = person_texts(analyzer, words)
    assert {"Ingrid", "Solberg"} <= found and "Crowther" not in found


def test_value_below_its_label_on_an_id_card(analyzer: TextAnalyzer) -> None:
    words = [cell("Surname", 300, 80, h=10, char_w=6), cell("ABERNATHY", 300, 94, h=16, char_w=11),
             cell("Given", 300, 124, h=10, char_w=6), cell("names", 336, 124, h=10, char_w=6),
             cell("MARGIT", 300, 138, h=16, char_w=11), cell("ELOISE", 378, 138, h=16, char_w=11)]
    found = person_texts(analyzer, words)
    assert {"ABERNATHY", "MARGIT", "ELOISE"} <= found


@pytest.fixture(scope="module")
def ocr() -> OcrEngine:
    return OcrEngine()


def test_real_ocr_name_table(ocr: OcrEngine, analyzer: TextAnalyzer) -> None:
    """A rendered user table read by the real OCR: the first- and last-name cells are people."""
    if not os.path.exists(FONT):
        pytest.skip("DejaVu fonts not installed")
    f, small = ImageFont.truetype(FONT, 15), ImageFont.truetype(FONT, 12)
    img = Image.new("RGB", (760, 170), "white")
    d = ImageDraw.Draw(img)
    cols = [30, 200, 420, 560]
    for x, t in zip(cols, ["USERNAME", "EMAIL ADDRESS", "FIRST NAME", "LAST NAME"]):
        d.text((x, 20), t, font=small, fill=(60, 60, 60))
    people = [("tbaptiste", "Thierry", "Baptiste"), ("onwachukwu", "Obiageli", "Nwachukwu")]
    boxes = {}
    for r, (user, first, last) in enumerate(people):
        y = 60 + 40 * r
        for x, t in zip(cols, [user, f"{user}@mail.example", first, last]):
            d.text((x, y), t, font=f, fill=(20, 20, 20))
            boxes[t] = d.textbbox((x, y), t, font=f)
    findings = analyzer.analyze_words(ocr.read(np.asarray(img)))
    people_boxes = [b.box for b in findings if b.entity == "PERSON" and b.score >= 0.5]
    for name in ["Thierry", "Baptiste", "Obiageli", "Nwachukwu"]:
        t = boxes[name]
        assert any(b[0] <= t[0] + 3 and t[2] - 3 <= b[2] and b[1] <= t[3] and t[1] <= b[3] for b in people_boxes), name


def dob_texts(analyzer: TextAnalyzer, words: list[OcrWord]) -> set[str]:
    boxes = [f.box for f in analyzer.analyze_words(words) if f.entity == "DATE_OF_BIRTH" and f.score >= 0.5]
    return {w.text for w in words if any(b[0] <= w.box[0] and w.box[2] <= b[2] and b[1] <= w.box[1] <= b[3]
                                         for b in boxes)}


def test_birth_date_below_its_label_in_the_second_column(analyzer: TextAnalyzer) -> None:
    """Two columns of fields: in the text the right date's nearest label is the left one's, with a date between."""
    words = [cell("ISSUED", 40, 80, h=10, char_w=6), cell("DOB", 300, 80, h=10, char_w=6),
             cell("1996/03/13", 40, 94, h=16, char_w=11), cell("09", 300, 94, h=16, char_w=11),
             cell("04", 330, 94, h=16, char_w=11), cell("1955", 360, 94, h=16, char_w=11)]
    assert {"09", "04", "1955"} <= dob_texts(analyzer, words)


def test_dates_under_a_dob_header_are_birth_dates_and_others_are_not(analyzer: TextAnalyzer) -> None:
    header = [("Name", 40), ("Date of birth", 220), ("Joined", 420)]
    rows = [["Ingrid Solberg", "12.03.1985", "01.02.2020"], ["Tomas Berg", "30.11.1979", "15.06.2021"]]
    found = dob_texts(analyzer, table(header, rows))
    assert {"12.03.1985", "30.11.1979"} <= found and not found & {"01.02.2020", "15.06.2021"}
