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


ZONE = ["IRCANSILVA<<LUKAS<<<<<<<<<<<<<<<<<<<", "ZZZ1NZ28K4CAN7010066F2907170<<<<<<<0"]


def test_a_zone_line_that_stops_short_of_the_zone_is_read_again_over_its_span() -> None:
    lines = [((112, 689, 1065, 746), ZONE[0]), ((525, 734, 1063, 798), "10066F2907170<<<<<<<0"),
             ((100, 100, 300, 130), "IDENTITY CARD")]
    assert reread.short_zone_lines(lines) == [(1, (112, 1065))]
    assert reread.short_zone_lines(lines[:1] + lines[2:]) == []  # one zone line: nothing to measure it by
    assert reread.more_zone("10066F2907170<<<<<<<0", ZONE[1])
    assert not reread.more_zone(ZONE[1], "10066F2907170<<<<<<<0")
    assert not reread.more_zone("10066F2907170<<<<<<<0", "Date of birth 06 OCT 1970 and more words")


def test_a_zone_line_read_in_pieces_is_read_again_over_the_zone() -> None:
    """A line read as two pieces ("...<<<<<" and a "K" for the rest of its filler) is too short to look like a zone
    line; a piece of zone characters beside the zone is one all the same, and a label above the zone is not."""
    lines = [((112, 620, 600, 676), ZONE[0][:18]), ((640, 620, 700, 676), "K"),
             ((112, 689, 1065, 746), ZONE[0]), ((112, 760, 1065, 816), ZONE[1]),
             ((112, 540, 560, 590), "DOCUMENT<NO<1234"),  # far above: another part of the card
             ((100, 100, 300, 130), "IDENTITY CARD")]
    assert reread.short_zone_lines(lines) == [(0, (112, 1065))]


def test_the_engine_reads_the_whole_zone_line_when_its_box_started_late() -> None:
    """CRAFT boxed only the end of the second line; the second reading over the first line's span reads all."""
    from PIL import Image, ImageDraw, ImageFont

    from gateway.inspection.ocr import OcrEngine

    f = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 26)
    img = Image.new("L", (700, 110), 255)
    d = ImageDraw.Draw(img)
    for k, line in enumerate(ZONE):
        d.text((20, 10 + 46 * k), line, font=f, fill=0)
    grey = np.asarray(img)
    first = d.textbbox((20, 10), ZONE[0], font=f)
    second = d.textbbox((20, 56), ZONE[1], font=f)
    late = (second[0] + 250, second[1] - 4, second[2] + 4, second[3] + 4)  # the line's box starts 250 px late
    engine = OcrEngine()
    readings = engine._recognize(grey, [(first[0] - 4, first[1] - 4, first[2] + 4, first[3] + 4), late])
    assert [r[1] for r in readings if r[0] == late] != [ZONE[1]]
    fixed = [r[1].replace(" ", "") for r in engine._reread_short_zone_lines(grey, readings)]
    assert sorted(fixed) == sorted(ZONE), fixed


def test_two_short_pieces_of_one_zone_line_are_read_again_once() -> None:
    """A zone line boxed in two pieces (the name, then its filler run), both short of the next line: each piece's
    second reading covers the whole line, and it was kept twice (every word of the line read double)."""
    from PIL import Image, ImageDraw, ImageFont

    from gateway.inspection.ocr import OcrEngine

    f = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 26)
    img = Image.new("L", (700, 110), 255)
    d = ImageDraw.Draw(img)
    for k, line in enumerate(ZONE):
        d.text((20, 10 + 46 * k), line, font=f, fill=0)
    grey = np.asarray(img)
    x0, y0, x1, y1 = d.textbbox((20, 10), ZONE[0], font=f)
    second = d.textbbox((20, 56), ZONE[1], font=f)
    cut, resume = x0 + (x1 - x0) * 13 // 20, x0 + (x1 - x0) * 3 // 4  # the middle of the filler run unboxed
    pieces = [(x0 - 4, y0 - 4, cut, y1 + 4), (resume, y0 - 2, x1 + 4, y1 + 2)]
    engine = OcrEngine()
    readings = engine._recognize(grey, [*pieces, (second[0] - 4, second[1] - 4, second[2] + 4, second[3] + 4)])
    fixed = engine._reread_short_zone_lines(grey, readings)
    assert len(fixed) == 2, [r[1] for r in fixed]
