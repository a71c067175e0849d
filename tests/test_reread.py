"""The second reading's triggers and its judge (gateway.inspection.reread): validators decide, not the reading."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.inspection import reread


@pytest.mark.parametrize("text", [
    "158-386159",                       # an SSN with one dash lost
    "anna.okafor@Eaa",                  # an @ without a domain
    "4454 5051 2290 7538",              # a card one digit off Luhn
    "Priya 350-03-6210 4066 5581 3796 9235",  # ... next to an SSN in one digit run
    "DE89 3704 0044 0532 0130 01",      # an IBAN off mod 97
])
def test_pii_shaped_values_failing_validation_are_near_misses(text: str) -> None:
    assert reread.near_miss(text)


@pytest.mark.parametrize("text", [
    "158-38-6159", "anna.okafor@example.com", "4454 5051 2290 7539", "DE89 3704 0044 0532 0130 00",
    "Invoice 48213 for March", "call +1 415 555 0142", "Order 2024-11-05",
])
def test_valid_values_and_plain_text_are_not(text: str) -> None:
    assert not reread.near_miss(text)


def test_the_second_reading_wins_only_with_more_validated_values() -> None:
    assert reread.better("158-386159", "158-38-6159")
    assert reread.better("4454 5051 2290 7538", "4454 5051 2290 7539")
    assert not reread.better("158-386159", "158-386159")
    assert not reread.better("158-38-6159 x", "158-38-6159")  # same count: the first reading stays
    assert not reread.better("anna@example.com", "anna@exarnple")  # a worse reading never replaces


def test_stretch_widens_only() -> None:
    crop = np.zeros((14, 40), np.uint8)
    assert reread.stretched(crop).shape == (14, 60)


def test_word_extent_grows_to_the_craft_boxes_it_covers_and_stays_inside() -> None:
    assert reread.word_extent((10, 10, 50, 22), [(8, 9, 52, 23), (200, 0, 260, 20)], 100, 30) == (5, 6, 55, 26)
    assert reread.word_extent((0, 0, 10, 8), [], 10, 8) == (0, 0, 10, 8)
