"""MRZ recall on OCR misreads of document numbers and check digits.

The MRZ texts are what EasyOCR really returned on corpus passports/ID cards (bench.corpus, seed 7): letters and
digits swapped in the alphanumeric document number (O/0, S/5, Z/2/7, I/1, A/4) and a check digit read as a letter.
The true zones are built with bench.corpus's ICAO generator, so every case is also checked against ground truth.
"""

from __future__ import annotations

import pytest

from bench.corpus import mrz_td1, mrz_td3, mrz_valid
from gateway.inspection.recognizers import MAX_DOC_VARIANTS, MrzRecognizer
from gateway.inspection.recognizers.mrz import _doc_variants
from gateway.inspection.text import TextAnalyzer

# (OCR reading, true zone, true document number)
OCR_MISREADS = [
    # TD3: O/0, S/5, Z/7, Z/2 in the number
    (["P<GBRROSSI<<LAURA<<<<<<<<<<<<<<<<<<<<<<<<<<<", "XOSMHTZTZ8GBR7506028F3402203<<<<<<<<<<<<<<06"],
     ["P<GBRROSSI<<LAURA<<<<<<<<<<<<<<<<<<<<<<<<<<<", "X05MHT2T78GBR7506028F3402203<<<<<<<<<<<<<<06"]),
    # TD3: the 7 of the birth date read as 'Z' (int8 recogniser) as well
    (["P<GBRROSSI<<LAURA<<<<<<<<<<<<<<<<<<<<<<<<<<<", "XOSMHTZTZ8GBRZ506028F3402203<<<<<<<<<<<<<<06"],
     ["P<GBRROSSI<<LAURA<<<<<<<<<<<<<<<<<<<<<<<<<<<", "X05MHT2T78GBR7506028F3402203<<<<<<<<<<<<<<06"]),
    # TD3: the number's check digit 9 read as 'O' (the composite check digit says which digit it was)
    (["P<GBRJENSEN<<CARLOS<<<<<<<<<<<<<<<<<<<<<<<<<", "LWY7Y264POGBR6607135M2808152<<<<<<<<<<<<<<04"],
     ["P<GBRJENSEN<<CARLOS<<<<<<<<<<<<<<<<<<<<<<<<<", "LWY7Y264P9GBR6607135M2808152<<<<<<<<<<<<<<04"]),
    # TD3: check digit 9 read as 'I', a short name line
    (["P<NLDNAKAMURA<<PRIYA<<<<<<<<<<<<<<<<<<<<<", "XP498WXJWINLD5312065M2803168<<<<<<<<<<<<<<04"],
     ["P<NLDNAKAMURA<<PRIYA<<<<<<<<<<<<<<<<<<<<<<<<", "XP498WXJW9NLD5312065M2803168<<<<<<<<<<<<<<04"]),
    # TD3: I/1, S/5
    (["P<GBRBECKER<<LIAM<<<<<<<<<<<<<<<<<<<<<<<<<<<", "TK3VRINSM3GBR7111088M3011191<<<<<<<<<<<<<<08"],
     ["P<GBRBECKER<<LIAM<<<<<<<<<<<<<<<<<<<<<<<<<<<", "TK3VR1N5M3GBR7111088M3011191<<<<<<<<<<<<<<08"]),
    # TD3: A/4, S/5, issuer 'D<<'
    (["P<D<<DUBOIS<<HANNAH<<<<<<<<<<<<<<<<<<<<<<<<<", "HAWPZSP3G8D<<6403186M3203123<<<<<<<<<<<<<<06"],
     ["P<D<<DUBOIS<<HANNAH<<<<<<<<<<<<<<<<<<<<<<<<<", "H4WPZ5P3G8D<<6403186M3203123<<<<<<<<<<<<<<06"]),
    # TD1: O/0, I/1, the first line two fillers short
    (["I<D<<WOHF6Z9IR2<<<<<<<<<<<<<", "5008218F2811213D<<<<<<<<<<<<<0", "OKAFOR<<RAJESH<<<<<<<<<<<<<<<<"],
     ["I<D<<W0HF6Z91R2<<<<<<<<<<<<<<<", "5008218F2811213D<<<<<<<<<<<<<0", "OKAFOR<<RAJESH<<<<<<<<<<<<<<<<"]),
    # TD1: Z/2, S/5 (the check digit itself read as 'S')
    (["I<FRATWZLJKWFLS<<<<<<<<<<<<<<<", "6710141F3311260FRA<<<<<<<<<<<4", "ROSSI<<NOAH<<<<<<<<<<<<<<<<<<<"],
     ["I<FRATW2LJKWFL5<<<<<<<<<<<<<<<", "6710141F3311260FRA<<<<<<<<<<<4", "ROSSI<<NOAH<<<<<<<<<<<<<<<<<<<"]),
    # TD1: S/5, check digit 4 read as 'A', sex 'M' read as '1'
    (["I<GBRKSNPTHKTKA<<<<<<<<<<<<<<<", "960805213102178GBR<<<<<<<<<<<8", "JENSEN<<PRIYA<<<<<<<<<<<<<<<<<"],
     ["I<GBRK5NPTHKTK4<<<<<<<<<<<<<<<", "9608052M3102178GBR<<<<<<<<<<<8", "JENSEN<<PRIYA<<<<<<<<<<<<<<<<<"]),
]


@pytest.fixture(scope="module")
def mrz() -> MrzRecognizer:
    return MrzRecognizer()


def _entities(rec: MrzRecognizer, text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in rec.analyze(text, []):
        out.setdefault(r.entity_type, []).append(text[r.start : r.end])
    return out


IDS = [ocr[0][5:15] if len(ocr) == 3 else ocr[1][:20] for ocr, _ in OCR_MISREADS]  # the misread number (+ dates)


@pytest.mark.parametrize("ocr, truth", OCR_MISREADS, ids=IDS)
def test_misread_zone_is_found_with_its_document_number(mrz: MrzRecognizer, ocr: list[str], truth: list[str]) -> None:
    assert mrz_valid(truth) and not mrz_valid(ocr)  # the case really is a misread of a valid zone
    text = "PASSPORT\n" + "\n".join(ocr) + "\n"
    found = _entities(mrz, text)
    assert found.get("MRZ") == ["\n".join(ocr)]
    doc_line, start = (ocr[0], 5) if len(ocr) == 3 else (ocr[1], 0)
    assert found["ID_DOCUMENT_NUMBER"] == [doc_line[start : start + 9]]


def test_real_ocr_text_through_the_analyzer() -> None:
    ocr, _ = OCR_MISREADS[0]
    findings = TextAnalyzer().analyze_text("\n".join(ocr), "ocr")
    entities = {f.entity for f in findings}
    assert {"MRZ", "ID_DOCUMENT_NUMBER"} <= entities


@pytest.mark.parametrize("make", [mrz_td3, mrz_td1])
def test_wrong_dates_or_composite_are_still_rejected(mrz: MrzRecognizer, make) -> None:
    lines = list(make("GBR", "SMITH", "ANNA", "X05MHT2T7", "GBR", "850312", "F", "300101"))
    assert _entities(mrz, "\n".join(lines)).get("MRZ")
    dob_line, dob_at = (1, 13) if make is mrz_td3 else (1, 0)
    for pos in (dob_at + 6, dob_at + 14, len(lines[dob_line]) - 1):  # birth-date, expiry, composite check digit
        bad = list(lines)
        row = bad[dob_line]
        bad[dob_line] = row[:pos] + str((int(row[pos]) + 3) % 10) + row[pos + 1 :]
        assert not _entities(mrz, "\n".join(bad)).get("MRZ"), (pos, bad)


def test_document_number_check_digit_still_counts_without_lookalikes(mrz: MrzRecognizer) -> None:
    # 'HKMNPRWXY' have no look-alikes: a wrong check digit cannot be explained away by a misread.
    lines = list(mrz_td3("GBR", "SMITH", "ANNA", "HKMNPRWXY", "GBR", "850312", "F", "300101"))
    assert _entities(mrz, "\n".join(lines)).get("MRZ")
    row = lines[1]
    bad = row[:9] + str((int(row[9]) + 1) % 10) + row[10:]
    assert not _entities(mrz, "\n".join([lines[0], bad])).get("MRZ")


def test_variant_search_is_bounded() -> None:
    assert _doc_variants("HKMNPRWXY") == ["HKMNPRWXY"]
    assert _doc_variants("XOSMHTZTZ")[0] == "XOSMHTZTZ"  # the reading as is comes first
    assert "X05MHT2T7" in _doc_variants("XOSMHTZTZ")
    many = _doc_variants("OSZBIOSZB")  # 3^2 * 2^7 readings: over the bound, only the simple variants
    assert len(many) <= 3 < MAX_DOC_VARIANTS


def test_zone_with_a_lost_character_in_the_document_number(mrz: MrzRecognizer) -> None:
    """OCR dropped the '3' of TK3VR1N5M (benchmark passport 0092): the line is one short and the dates sit one place
    early. The zone is still found, with the birth date boxed where it is."""
    ocr = ["P<GBRBECKER<<LIAM<<<<<<<<<<<<<<<<<<<<<<<<<<<", "TKVRINSM3GBR7111088M3011191<<<<<<<<<<<<<<08"]
    assert mrz_valid(["P<GBRBECKER<<LIAM<<<<<<<<<<<<<<<<<<<<<<<<<<<", "TK3VR1N5M3GBR7111088M3011191<<<<<<<<<<<<<<08"])
    text = "PASSPORT\n" + "\n".join(ocr) + "\n"
    found = _entities(mrz, text)
    assert found.get("MRZ") == ["\n".join(ocr)]
    assert found["DATE_OF_BIRTH"] == ["711108"] and found["ID_DOCUMENT_NUMBER"] == ["TKVRINSM"]


def test_short_line_of_random_text_is_no_zone(mrz: MrzRecognizer) -> None:
    text = "P<GBRBECKER<<LIAM<<<<<<<<<<<<<<<<<<<<<<<<<<<\nTKVRINSM3GBR7111089M3011191<<<<<<<<<<<<<<08\n"
    assert "MRZ" not in _entities(mrz, text)  # a wrong birth-date check digit: no insertion can fix it


@pytest.mark.parametrize("dates", ["961202813205183D<<<<<<<<<<<<<8", "9612028143205183D<<<<<<<<<<<<<8",
                                   "96120281413205183D<<<<<<<<<<<<<8"])
def test_number_misread_beyond_lookalikes_is_confirmed_by_the_printed_number(mrz: MrzRecognizer, dates: str) -> None:
    """Benchmark ID card 0080: OCR read the 9 of ZV9RLRJKW as 'I' in the MRZ (no look-alike swap explains it) and
    the sex 'M' as '1' (one ONNX thread), as '14' (two threads: one character too many) or as '141' (the float
    recogniser and the int8 one quantised with its Relus: two too many), but read the number
    printed above the zone right. The printed number, checked by the zone's own check digits, confirms the zone;
    without it (or with a printed number failing them) there is none."""
    zone = ["I<D<<ZVIRLRJKWI<<<<<<<<<<<<<<<", dates, "NAKAMURA<<PIERRE<<<<<<<<<<<<<<"]
    assert mrz_valid(["I<D<<ZV9RLRJKW1<<<<<<<<<<<<<<<", "9612028M3205183D<<<<<<<<<<<<<8", zone[2]])
    found = _entities(mrz, "IDENTITY CARD\nZV9RLRJKW\n" + "\n".join(zone) + "\n")
    assert found.get("MRZ") == ["\n".join(zone)]
    assert "ZV9RLRJKW" in found["ID_DOCUMENT_NUMBER"]
    assert found["DATE_OF_BIRTH"] == ["961202"]
    assert not _entities(mrz, "IDENTITY CARD\n" + "\n".join(zone) + "\n").get("MRZ")
    assert not _entities(mrz, "IDENTITY CARD\nZV8RLRJKW\n" + "\n".join(zone) + "\n").get("MRZ")


def _visa(width: int, number: str, optional: str) -> list[str]:
    """An ICAO 9303 part 7 visa zone (MRV-A: 44 wide, MRV-B: 36): no composite check digit."""
    from bench.corpus import mrz_check

    line1 = ("V<UTOERIKSSON<<ANNA<MARIA" + "<" * width)[:width]
    num = (number + "<" * 9)[:9]
    line2 = num + mrz_check(num) + "UTO" + "740812" + mrz_check("740812") + "F" + "120415" + mrz_check("120415")
    return [line1, (line2 + optional + "<" * width)[:width]]


@pytest.mark.parametrize("width", [44, 36])
def test_visa_zones_have_no_composite_digit_and_are_found(mrz: MrzRecognizer, width: int) -> None:
    lines = _visa(width, "L8988901C", "ABC123")
    found = _entities(mrz, "VISA\n" + "\n".join(lines) + "\n")
    assert found.get("MRZ") == ["\n".join(lines)]
    assert found["ID_DOCUMENT_NUMBER"] == ["L8988901C"]
    assert "740812" in found["DATE_OF_BIRTH"]
    bad = lines[1][:19] + str((int(lines[1][19]) + 1) % 10) + lines[1][20:]  # the birth date's check digit
    assert not _entities(mrz, "\n".join([lines[0], bad])).get("MRZ")


def test_zone_line_read_in_two_pieces_tail_first_is_joined(mrz: MrzRecognizer) -> None:
    """A slanted zone: the right half of its first line sits higher and is read as the line above its left half."""
    top, bottom = mrz_td3("USA", "HARTLEY", "JOANNA MAE", "C8H4R2715", "USA", "850314", "F", "310722")
    text = f"IDENTITY CARD\n{top[14:30]}\n{top[:14]}\n{bottom}\nExpiry"
    found = [r for r in mrz.analyze(text, ["MRZ"]) if r.entity_type == "MRZ"]
    assert found and found[0].start == text.index(top[14:30]) and found[0].end == text.index(bottom) + len(bottom)
    # the same pieces with no zone line after them are no zone
    assert not mrz.analyze(f"{top[14:30]}\n{top[:14]}\nExpiry 22 JUL 2031", ["MRZ"])


@pytest.mark.parametrize("make, keep", [(mrz_td3, 28), (mrz_td3, 31), (mrz_td1, 18), (mrz_td1, 22)])
def test_dates_line_read_short_is_decided_by_its_field_check_digits(mrz: MrzRecognizer, make, keep: int) -> None:
    """The reading probe (`python -m bench.probe --mrz`): at small sizes the recogniser drops a dates line's filler
    run, optional data and composite digit (`FVKRMG9V83DNK9111244F2904124`). The number's, birth date's and
    expiry's check digits, real dates, the sex and the nationality decide; a wrong one of them still rejects."""
    lines = list(make("NLD", "JARAMILLO", "LUCA", "NMJKJCVPJ", "DNK", "911124", "F", "290412"))
    assert lines[1][-1] != "0"  # a composite of 0 would pass as the padded filler's reading
    short = lines[:1] + [lines[1][:keep]] + lines[2:]
    found = _entities(mrz, "\n".join(short))
    assert found.get("MRZ") and found["DATE_OF_BIRTH"] == ["911124"]
    dob_at, sex_at = (13, 20) if make is mrz_td3 else (0, 7)
    for pos, wrong in ((dob_at + 6, None), (dob_at + 14, None), (sex_at, "K")):
        row = short[1]
        bad = list(short)
        bad[1] = row[:pos] + (wrong or str((int(row[pos]) + 3) % 10)) + row[pos + 1 :]
        assert not _entities(mrz, "\n".join(bad)).get("MRZ"), (pos, bad)


def test_dates_line_cut_before_its_expiry_check_digit_is_no_zone(mrz: MrzRecognizer) -> None:
    lines = list(mrz_td3("NLD", "JARAMILLO", "LUCA", "NMJKJCVPJ", "DNK", "911124", "F", "290412"))
    assert not _entities(mrz, "\n".join([lines[0], lines[1][:27]])).get("MRZ")


def test_tail_of_a_dates_line_read_below_it_is_joined(mrz: MrzRecognizer) -> None:
    """The line's box ended at its filler run: `<<<06` came back as a line of its own under the dates."""
    lines = list(mrz_td3("ITA", "JARAMILLO", "DAGNY", "YTMFYK6C9", "CZE", "901105", "F", "281208"))
    text = "\n".join([lines[0][:24], lines[1][:28], "<<<" + lines[1][-2:]])
    assert _entities(mrz, text).get("MRZ") == [text]


@pytest.mark.parametrize("make, lost", [(mrz_td3, 11), (mrz_td3, 15), (mrz_td1, 0), (mrz_td1, 6)])
def test_character_lost_in_the_dates_fields(mrz: MrzRecognizer, make, lost: int) -> None:
    """The probe's misses at 11-30 px: `NR` for NOR (TD3), a birth date's first digit or its check digit lost (TD1).
    An unknown at each place of the fields, the check digits and the composite decide, and the birth date is boxed
    where it was read (when the lost digit is a date's last or its check digit, the other place may pass too: then
    the box is one digit short, inside the zone's own box)."""
    lines = list(make("NLD", "IVERSEN", "RADU", "CYGHTW6V6", "NOR", "770921", "M", "321205"))
    short = list(lines)
    short[1] = lines[1][:lost] + lines[1][lost + 1 :]
    found = _entities(mrz, "\n".join(short))
    assert found.get("MRZ") == ["\n".join(short)]
    dob_at = 13 if make is mrz_td3 else 0
    dob = short[1][dob_at - (lost < dob_at) : dob_at + 6 - (lost < dob_at + 6)]
    assert len(found["DATE_OF_BIRTH"]) == 1 and found["DATE_OF_BIRTH"][0] in dob
    assert len(found["DATE_OF_BIRTH"][0]) >= 5
