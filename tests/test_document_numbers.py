"""Printed identity document numbers and birth dates as ID documents print them, through the real analyzer."""

from __future__ import annotations

import pytest

from gateway.inspection.ocr import OcrWord
from gateway.inspection.recognizers import DocumentNumberRecognizer, find_dates
from gateway.inspection.text import TextAnalyzer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def line(tokens: list[str], y: int = 100, x: int = 20) -> list[OcrWord]:
    words = []
    for t in tokens:
        words.append(OcrWord(t, (x, y, x + 10 * len(t), y + 20), 0.9))
        x += 10 * len(t) + 10
    return words


def found(analyzer: TextAnalyzer, words: list[OcrWord], entity: str) -> list[str]:
    """The words (joined) under each finding of `entity`."""
    out = []
    for f in analyzer.analyze_words(words):
        if f.entity == entity and f.box is not None:
            under = [w.text for w in words if w.box[0] >= f.box[0] - 6 and w.box[2] <= f.box[2] + 6
                     and w.box[1] >= f.box[1] - 6 and w.box[3] <= f.box[3] + 6]
            out.append(" ".join(under))
    return out


@pytest.mark.parametrize("label,value", [
    (["Passport", "No."], ["X4829173"]),
    (["Document", "number"], ["C01X00T47"]),
    (["DL", "No:"], ["D4207-5531-8890"]),
    (["4d", "DLN"], ["S530-4172-8810"]),
    (["Licence", "No."], ["MORGA753116SM9IJ"]),
    (["ID", "No."], ["T22000129"]),
    (["N°", "du", "document"], ["18CD12345"]),
    (["Ausweisnummer"], ["L01X00T47"]),
    (["Número", "de", "documento"], ["BAA000589"]),
    (["Permit", "No"], ["ZR1234567"]),
    (["Passport", "No./N°", "du", "passeport"], ["GK482917"]),  # a bilingual label
    (["Licence", "number"], ["123", "456", "789"]),  # digit groups
])
def test_document_number_after_its_label(analyzer: TextAnalyzer, label: list[str], value: list[str]):
    words = line(label + value)
    assert " ".join(value) in found(analyzer, words, "ID_DOCUMENT_NUMBER")


def test_document_number_on_the_line_below_its_label(analyzer: TextAnalyzer):
    words = line(["Document", "No."], y=100) + line(["Y7305518"], y=130)
    assert found(analyzer, words, "ID_DOCUMENT_NUMBER") == ["Y7305518"]


@pytest.mark.parametrize("tokens", [
    ["Invoice", "No.", "INV-2024-0012"],  # not a document label
    ["Order", "number", "A1234567"],
    ["Passport", "No.", "XXXXXXXX"],  # a placeholder (no digits)
    ["Passport", "No.", "000000000"],  # a placeholder
    ["Document", "No.", "Date", "of", "issue", "12/03/2020", "X4829173"],  # the date comes first: not its value
    ["Licence", "No.", "see", "below"],
    ["ID", "No.", "12"],
])
def test_no_document_number_without_label_and_shape(analyzer: TextAnalyzer, tokens: list[str]):
    assert found(analyzer, line(tokens), "ID_DOCUMENT_NUMBER") == []


def test_the_recognizer_takes_the_first_number_only():
    text = "Passport No. P1234567 Nationality CAN Personal No. 12345678"
    spans = [text[r.start:r.end] for r in DocumentNumberRecognizer().analyze(text, [])]
    assert spans == ["P1234567"]


@pytest.mark.parametrize("label,value", [
    (["Date", "of", "birth"], ["12", "MAR/MARS", "85"]),  # ICAO bilingual month, 2-digit year
    (["Date", "of", "birth/Date", "de", "naissance"], ["03", "AUG", "/AOUT", "1990"]),
    (["Date", "de", "naiss."], ["12", "08", "1983"]),  # French ID: spaces only
    (["Geb."], ["24.12.1979"]),
    (["Geboortedatum"], ["10", "MAA/MAR", "1965"]),
    (["Fecha", "de", "nacimiento"], ["01", "01", "1990"]),
    (["DOB"], ["15", "JAN", "92"]),
])
def test_birth_dates_as_id_documents_print_them(analyzer: TextAnalyzer, label: list[str], value: list[str]):
    words = line(label + value)
    assert " ".join(value) in found(analyzer, words, "DATE_OF_BIRTH")


def test_new_date_formats_read_the_right_day():
    got = [d for _, _, d in find_dates("12 MAR/MARS 85, 03 AUG /AOUT 1990, 12 08 1983, 15 JAN 92, 01 76 36 67 83")]
    assert got == [(1985, 3, 12), (1990, 8, 3), (1983, 8, 12), (1992, 1, 15)]  # no date in a phone number
