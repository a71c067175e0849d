"""tails.py: a last glyph or short group past a line's CRAFT box is taken into the line; rules, specks, the next
word and other boxes are not."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gateway.inspection.tails import extend_tails

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def page(text: str, size: int = 28, rule_at: int | None = None) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Grey page with `text` at (20, 20); the box of its ink."""
    img = Image.new("L", (900, 120), 255)
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(MONO, size)
    d.text((20, 20), text, font=f, fill=20)
    if rule_at is not None:
        d.line((rule_at, 0, rule_at, 119), fill=20, width=2)
    grey = np.asarray(img)
    text_rows = grey[:, : rule_at - 4 if rule_at else None] < 128
    ys, xs = np.nonzero(text_rows)
    return grey, (int(xs.min()), int(ys.min()) - 3, int(xs.max()) + 1, int(ys.max()) + 4)


def cut(box, chars_dropped: int, text: str) -> tuple[int, int, int, int]:
    """The line box as CRAFT gave it: the last characters left out (the box ends where the rest's ink ends)."""
    _, kept = page(text[:-chars_dropped])
    return box[0], box[1], kept[2] + 1, box[3]


def test_a_last_glyph_left_out_is_taken_in() -> None:
    text = "45.57.98.1"
    grey, box = page(text)
    line = cut(box, 1, text)
    lines, words = extend_tails(grey, [line], [line])
    assert abs(lines[0][2] - box[2]) <= 5 and len(words) == 2  # 5: a serif's foot is below ink level
    assert words[1][0] > line[2] and abs(words[1][2] - box[2]) <= 5


def test_a_short_last_group_after_a_space_is_taken_in() -> None:
    text = "PT65 4240 5584 6933 6515 0026 4"
    grey, box = page(text)
    line = cut(box, 2, text)  # "0026" ends the box, " 4" left out
    lines, _ = extend_tails(grey, [line], [line])
    assert abs(lines[0][2] - box[2]) <= 5


def test_nothing_past_the_box_changes_nothing() -> None:
    grey, box = page("45.57.98.1")
    assert extend_tails(grey, [box], [box]) == ([box], [box])


def test_a_vertical_rule_is_no_tail() -> None:
    text = "45.57.98.1"
    grey, box = page(text)
    grey, box = page(text, rule_at=box[2] + 10)
    assert extend_tails(grey, [box], [box])[0] == [box]


def test_the_next_word_is_no_tail() -> None:
    text = "Host 45.57.98.1 connected"
    grey, box = page(text)
    line = cut(box, len(" 45.57.98.1 connected"), text)  # only "Host" boxed: what follows is more text
    assert extend_tails(grey, [line], [line])[0] == [line]


def test_a_tail_inside_another_box_is_that_box_s() -> None:
    text = "45.57.98.1"
    grey, box = page(text)
    line = cut(box, 1, text)
    other = (line[2] + 2, box[1], box[2] + 40, box[3])  # the next column's line starts right there
    assert extend_tails(grey, [line, other], [line, other])[0] == [line, other]
