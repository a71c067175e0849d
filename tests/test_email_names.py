"""Names spelled by the page's own e-mail addresses are names, in any language; role mailboxes name nobody."""

from __future__ import annotations

import pytest

from gateway.inspection.recognizers import EmailNameRecognizer
from gateway.inspection.text import TextAnalyzer


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def names(text: str) -> list[str]:
    return [text[r.start:r.end] for r in EmailNameRecognizer().analyze(text, ["PERSON"])]


@pytest.mark.parametrize("row, name", [
    ("Adaeze Nwosu  481-22-1937  adaeze_nwosu@mail.ng", "Adaeze Nwosu"),
    ("Tomasz Wrobel  twrobel@firma.com.pl  +48 22 555 0142", "Tomasz Wrobel"),  # an initial and the surname
    ("Kenji Watanabe  k.watanabe77@mail.jp", "Kenji Watanabe"),
    ("Ingeborg Halvorsen-Berg  ingeborg+hr@posten.no", "Ingeborg Halvorsen-Berg"),
])
def test_a_name_beside_the_address_it_spells_is_a_person(row: str, name: str) -> None:
    assert names(row) == [name]


@pytest.mark.parametrize("text", [
    "Customer Support  support@acme.example",  # a role mailbox
    "Billing Department  billing@acme.example",
    "Northwind Traders  orders@northwind.example",
    "Quarterly Report  jdoe@corp.example",  # the pair shares no part with the address
    "Adaeze Nwosu  481-22-1937",  # no address on the page: nothing to go by
])
def test_no_person_without_an_address_that_spells_it(text: str) -> None:
    assert names(text) == []


def test_table_rows_of_names_are_found_through_the_analyzer(analyzer: TextAnalyzer) -> None:
    """Rows of a sheet: the small NER model misses names without sentence context; the addresses give them."""
    rows = ["Full name SSN E-mail",
            "Chidi Eze 319-40-2281 chidi.eze@mail.ng",
            "Mirela Popescu 207-51-3340 mpopescu@mail.ng",
            "Joaquin Herrera 440-18-9921 joaquin_h@mail.ng"]
    text = "\n".join(rows)
    found = [text[a:b] for f, a, b in analyzer.analyze_text_spans(text, "ocr") if f.entity == "PERSON"
             and f.score >= 0.5]
    for name in ("Chidi Eze", "Mirela Popescu", "Joaquin Herrera"):
        assert name in found, found


def test_a_name_that_ner_runs_into_the_next_cell_keeps_its_name_part(analyzer: TextAnalyzer) -> None:
    """spaCy tags "Laura Larsen 4111 1111 1111 1111" as one PERSON; the card's part is cut away, the name stays
    (it used to be dropped whole for overlapping the card)."""
    text = "Laura Larsen 4111 1111 1111 1111"
    found = {(f.entity, text[a:b]) for f, a, b in analyzer.analyze_text_spans(text, "ocr")}
    assert ("PERSON", "Laura Larsen") in found and ("CREDIT_CARD", "4111 1111 1111 1111") in found, found
