"""Names no label announces, known by a given name and a surname-shaped word; and the name lists are what
scripts/person_names.py derives from the pinned Faker."""

from __future__ import annotations

import gzip

import pytest

from gateway.inspection.names import GIVEN_NAMES, SURNAMES, common_words, given_names, surnames
from gateway.inspection.recognizers import KnownNameRecognizer
from gateway.inspection.text import TextAnalyzer
from tests.support.scripts import load_script


@pytest.fixture(scope="module")
def recognizer() -> KnownNameRecognizer:
    return KnownNameRecognizer()


def found(recognizer: KnownNameRecognizer, text: str) -> list[tuple[str, float]]:
    return sorted((text[r.start:r.end], r.score) for r in recognizer.analyze(text, ["PERSON"]))


@pytest.mark.parametrize("text, name, score", [
    ("Approved by Siobhan Moreau on 12 March", "Siobhan Moreau", 0.86),
    ("Signed off: PRIYA NAIR (QA)", "PRIYA NAIR", 0.86),
    ("Moreau, Siobhan", "Moreau, Siobhan", 0.86),
    ("Anna Maria Rossi wrote the draft", "Anna Maria Rossi", 0.86),
    ("contact John A. Smith today", "John A. Smith", 0.86),
    ("Report by Grant Thompson", "Grant Thompson", 0.86),
    ("1  Anna Rossi  anna@example.org", "Anna Rossi", 0.86),  # a table row's number is no house number
    ("Lois Lane", "Lois Lane", 0.86),
    ("Meeting with MOREAU Siobhan moved", "MOREAU Siobhan", 0.86),
    ("Radu-Anna Moreau", "Radu-Anna Moreau", 0.86),
    # a surname no list holds, shaped like one: still a name, at a lower score
    ("reviewed by Ngozi Achterbergova", "Ngozi Achterbergova", 0.6),
])
def test_a_given_name_and_a_surname_are_a_person(recognizer, text: str, name: str, score: float) -> None:
    assert found(recognizer, text) == [(name, score)]


@pytest.mark.parametrize("text", [
    "Grant Application Review",  # given name, then common words: a title
    "Mark Complete",
    "Author Guidelines",
    "Customer Success Team",
    "Lena Fischer Labs",  # a company named after a person
    "San Francisco, CA",  # a place that opens with a given name
    "87 boulevard Victor Hugo, 06000 Nice",  # streets named after people
    "3963 Washington Lane, Portland, OR 97279",
    "4862 Oak Lane, Columbus, OH 43277",
    "(818) 708-8131 TELEX LINN UR",  # an unknown two-letter "surname"
    "Atlanta, Georgia",  # "Last, First" needs a listed surname
    "Hello, Maria",
    "J. Smith",  # an initial alone is no given name
    "CTO Maria",  # an abbreviation before a given name
    "maria.rossi@example.org",  # an address's local part, not capitalised words
    "Anna\nRossi",  # a name does not run across lines
])
def test_no_person_from_titles_places_or_code(recognizer, text: str) -> None:
    assert found(recognizer, text) == []


def test_lists_are_read_and_lower_case() -> None:
    assert {"siobhan", "priya", "anna"} <= given_names()
    assert {"moreau", "rossi", "nair"} <= surnames()
    assert not given_names() & common_words()


@pytest.mark.parametrize("text, name", [
    ("The change was approved by Siobhan Moreau after the review.", "Siobhan Moreau"),
    ("Meeting with JOAQUIM MOREAU moved to Monday.", "JOAQUIM MOREAU"),  # spaCy's all-caps result must not win
])
def test_analyzer_acts_on_a_name_in_a_sentence(text: str, name: str) -> None:
    spans = [(text[a:b], f.score) for f, a, b in TextAnalyzer().analyze_text_spans(text, "ocr")
             if f.entity == "PERSON"]
    assert (name, 0.86) in spans or any(n == "Siobhan Moreau" and s >= 0.75 for n, s in spans)


def _script():
    return load_script("person_names")


def test_vendored_lists_are_derived_from_the_pinned_faker() -> None:
    mod = _script()
    given, last = mod.name_lists(*mod.faker_names(), common_words())
    assert gzip.decompress(GIVEN_NAMES.read_bytes()).decode().split() == given
    assert gzip.decompress(SURNAMES.read_bytes()).decode().split() == last


def test_derivation_keeps_latin_capitalised_names_without_common_words() -> None:
    mod = _script()
    given, last = mod.name_lists({"Anna", "Among", "Zoë"}, {"Rossi", "Bridge"}, frozenset({"among", "bridge"}))
    assert given == ["anna", "zoë"] and last == ["bridge", "rossi"]
