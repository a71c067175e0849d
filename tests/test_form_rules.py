"""Paper forms: values written one character per box (comb fields), in boxed fields and between table rules are
read once the rules are off the page; the characters themselves are never touched."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from gateway.inspection import Inspector
from gateway.inspection.layout import join_cells
from gateway.inspection.rules import clear_rules
from tests.support.images import FONT

pytestmark = pytest.mark.slow

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    return Inspector()


def comb_form(label: str, value: str, size: int, gap: int, ink=(10, 30, 130), line=(60, 60, 60)) -> Image.Image:
    """A form line: a label, then `value` one character per drawn box; '-' and ' ' leave a half-box gap."""
    img = Image.new("RGB", (60 + len(value) * int(size * 1.6) + 80, 150), "white")
    d = ImageDraw.Draw(img)
    d.text((40, 20), label, font=ImageFont.truetype(FONT, 16), fill=(0, 0, 0))
    f = ImageFont.truetype(MONO, size)
    x, y, cell = 40, 60, int(size * 1.1)
    for ch in value:
        if ch in "- ":
            x += cell // 2
            continue
        d.rectangle([x, y, x + cell, y + cell + 8], outline=line, width=2)
        d.text((x + (cell - f.getlength(ch)) / 2, y + 4), ch, font=f, fill=ink)
        x += cell + gap
    return img


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("size, gap", [(18, 0), (18, 4), (24, 0), (24, 4)])
def test_an_ssn_written_into_boxes_is_found(inspector: Inspector, size: int, gap: int) -> None:
    """Before the rules came off, CRAFT found no word inside the boxes at any of these sizes."""
    report = inspector.inspect(png(comb_form("Social security number", "372-84-1956", size, gap)))
    assert any(f.entity == "US_SSN" for f in report.findings), report.findings


@pytest.mark.parametrize("size, gap", [(18, 0), (22, 4)])
def test_an_iban_written_into_boxes_is_found(inspector: Inspector, size: int, gap: int) -> None:
    """A lone `0` between wide gaps is no word to CRAFT: the comb's own cells say where each character is."""
    report = inspector.inspect(png(comb_form("IBAN", "DE89 3704 0044 0532 0130 00", size, gap)))
    assert any(f.entity == "IBAN_CODE" for f in report.findings), report.findings


def test_boxed_fields_and_their_text(inspector: Inspector) -> None:
    """A value in a drawn field box, the box a few pixels from its letters, is read whole."""
    img = Image.new("RGB", (900, 120), "white")
    d = ImageDraw.Draw(img)
    d.text((30, 44), "Personal email", font=ImageFont.truetype(FONT, 16), fill=(20, 20, 20))
    d.rectangle([200, 34, 860, 74], outline=(200, 30, 30), width=1)
    d.text((208, 42), "camille.bianchi@gmail.com", font=ImageFont.truetype(FONT, 19), fill=(10, 10, 60))
    report = inspector.inspect(png(img))
    assert any(f.entity == "EMAIL_ADDRESS" for f in report.findings), report.findings


def test_rules_are_painted_and_characters_kept() -> None:
    img = comb_form("Social security number", "123-45-6789", 24, 4)
    rgb = np.asarray(img)
    cleared, cells = clear_rules(rgb, 13.0)
    assert len(cells) == 9  # one per digit
    changed = np.abs(cleared.astype(int) - rgb).sum(axis=2) > 30
    ink = np.asarray(img.convert("L")) < 128
    blue = (rgb[:, :, 2] > 100) & (rgb[:, :, 0] < 60)  # the characters' own ink
    assert changed.sum() > 0.5 * (ink & ~blue).sum()  # most of the box strokes are gone...
    assert not (changed & blue).any()  # ...and not one pixel of a character changed


def test_a_page_without_rules_is_returned_as_it_is() -> None:
    img = Image.new("RGB", (600, 100), "white")
    ImageDraw.Draw(img).text((20, 30), "Quarterly figures attached, see the summary", font=ImageFont.truetype(FONT, 20),
                             fill="black")
    rgb = np.asarray(img)
    cleared, cells = clear_rules(rgb, 11.0)
    assert cleared is rgb and cells == []


def test_characters_read_in_comb_cells_are_joined_at_the_combs_own_gaps() -> None:
    """Nine boxes 20 px wide, 2 px apart, with 12 px after the third and the fifth: "123 45 6789"."""
    cells, x = [], 100
    for i in range(9):
        cells.append((x, 50, x + 20, 80))
        x += 22 + (10 if i in (2, 4) else 0)
    text = "1 2 3 4 5 6 7 8 9"
    xs, k = [], 0
    for c in text:  # each digit in the middle of its cell, each space just after it (line crop starts at x=100)
        xs.append(cells[k][0] - 100 + (10 if c != " " else 14))
        k += c == " "
    line = (100, 48, cells[-1][2], 82)
    assert join_cells(text, tuple(xs), line, cells)[0] == "123 45 6789"
    assert join_cells(text, tuple(xs), line, [])[0] == text  # no comb: the reading stays
    assert join_cells(text, (1.0, 2.0), line, cells)[0] == text  # positions that do not match the text


SERIF = "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"
SERIF_BOLD = "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"


@pytest.mark.parametrize("path, size", [(SERIF, 22), (SERIF_BOLD, 24)])
def test_a_serif_letter_beside_a_table_rule_is_no_box(path: str, size: int) -> None:
    """IBAN groups in ruled table cells: at this size a serif `D` is a ring with its stem for a wall, nothing
    between; taken for a box, it was painted out and `DE56` read `E56`."""
    f = ImageFont.truetype(path, size)
    img = Image.new("RGB", (700, 140), (250, 250, 252))
    d = ImageDraw.Draw(img)
    xs = [10, 110, 210, 310, 410, 510, 610, 690]
    for y in (20, 64, 108):
        d.line([(10, y), (690, y)], fill=(160, 160, 170), width=1)
    for x in xs:
        d.line([(x, 20), (x, 108)], fill=(160, 160, 170), width=1)
    for r, row in enumerate([["DE56", "7863", "9806", "0917", "0471", "63"], ["DE26", "5357", "0293", "6707"]]):
        for x, t in zip(xs, row):
            d.text((x + 8, 32 + 44 * r), t, font=f, fill=(20, 20, 20))
    rgb = np.asarray(img)
    out, _ = clear_rules(rgb, 12.0)
    letters = (slice(28, 104), slice(16, 40))  # both rows' "D"
    before = np.asarray(Image.fromarray(rgb).convert("L"))[letters] < 128
    after = np.asarray(Image.fromarray(out).convert("L"))[letters] < 128
    assert after.sum() >= before.sum() - 4
