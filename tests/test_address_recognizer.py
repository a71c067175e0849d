"""Street addresses are found by their shape (number, name words, street type; city lines) in nine countries'
formats; a street-shaped phrase alone stays under the acting level."""

from __future__ import annotations

import pytest

from gateway.inspection.text import TextAnalyzer

ACTING = 0.5  # the default policy's min_score


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def locations(analyzer: TextAnalyzer, text: str) -> list[float]:
    return [f.score for f in analyzer.analyze_text(text, "text") if f.entity == "LOCATION"]


@pytest.mark.parametrize("text", [
    "Ship to: 5475 Pine Court, Boulder, CO 80371",
    "Home address 12 N. Maple Ave, Suite 300, Salem, OR 97301-1234",
    "Goethestrasse 129, 50667 Koeln",
    "Am Lindenweg 4, 80331 Muenchen",
    "87 boulevard Victor Hugo, 06000 Nice",
    "12 bis, rue de la Paix, 75002 Paris",
    "179 Kingsley Road, Manchester M14 6HT",
    "Flat 3, 95 Church Lane, Oxford OX2 6NN",
    "Boulder, CO 80371",
    "TUCSON, AZ 85775",
    "Leeds LS10 7QA",
    "Kerkstraat 89",  # Dutch, Nordic, Italian, Spanish, Portuguese: the street's type is part of or before its name
    "Keizersgracht 71, 10115 Amsterdam",
    "Storgatan 5",
    "Via Garibaldi 12, 20121 Milano",
    "Indirizzo: Via Garibaldi 12",
    "Address Calle de Alcala 45",
    "Kerkstraat89",  # the space before the number lost at a small size
])
def test_addresses_are_found_at_acting_level(analyzer: TextAnalyzer, text: str) -> None:
    found = locations(analyzer, text)
    assert found and max(found) >= ACTING, (text, found)


@pytest.mark.parametrize("text", [
    "Upload 3 Google Drive files",
    "We moved 2 Park Place items to the archive",
    "Version 2 Release Notes",
    "Total 12 EUR, order 50667 shipped",
    "Build 4711 Green Run passed",
    "BUILD 12 GREEN RUN OK",
    "Boarding at Gate 12",
    "Plaza 5 dinner",
    "Sent Via Slack 2 times",
    "Keyring2 unlocked",  # glued numbers only after a street's own suffix
])
def test_street_shaped_phrases_alone_do_not_act(analyzer: TextAnalyzer, text: str) -> None:
    assert all(score < ACTING for score in locations(analyzer, text)), (text, locations(analyzer, text))


def test_address_span_covers_the_whole_line(analyzer: TextAnalyzer) -> None:
    text = "Invoice to 5475 Pine Court, Boulder, CO 80371 by Friday"
    spans = [f for f in analyzer._analyze(text) if f.entity_type == "LOCATION" and f.score >= ACTING]
    assert any(text[r.start:r.end] == "5475 Pine Court, Boulder, CO 80371" for r in spans), \
        [text[r.start:r.end] for r in spans]


def location_texts(analyzer: TextAnalyzer, text: str) -> list[str]:
    return [text[a:b] for f, a, b in analyzer.analyze_text_spans(text, "text") if f.entity == "LOCATION"
            and f.score >= ACTING]


@pytest.mark.parametrize("text, street", [
    ('    "street": "Kulas Light",', "Kulas Light"),  # JSON of a user record: no number, no street type
    ('  "suite": "Apt. 556",', "Apt. 556"),
    ("Address: 4 Elm Row", "4 Elm Row"),
    ("Address line 1: 221B Baker Street", "221B Baker Street"),
])
def test_value_of_a_street_label_is_a_location(analyzer: TextAnalyzer, text: str, street: str) -> None:
    assert street in location_texts(analyzer, text)


@pytest.mark.parametrize("text", [
    "IP address: 10.0.0.1", "MAC address: AA:BB:CC:DD:EE:FF", "Email address: Jo Smith",
    "Address: Enter your address", "Return address: Main Office", "Wallet address: Bc1qxy2kgdygjrsqtzq",
])
def test_qualified_addresses_are_no_streets(analyzer: TextAnalyzer, text: str) -> None:
    assert location_texts(analyzer, text) == []
