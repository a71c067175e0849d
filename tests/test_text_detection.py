"""OCR + Presidio text detection on rendered screenshots (real EasyOCR, real Presidio; models loaded once)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from gateway.inspection.ocr import OcrEngine, OcrWord
from gateway.inspection.recognizers import LinePhoneRecognizer, MrzRecognizer, mrz_check_digit
from gateway.inspection.text import TextAnalyzer, normalize_digits
from gateway.models import CustomRecognizer, Finding

pytestmark = pytest.mark.slow

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
SANS = "DejaVuSans.ttf"
MONO = "DejaVuSansMono.ttf"


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for d in FONT_DIRS:
        path = os.path.join(d, name)
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    pytest.skip(f"TrueType font {name} not installed (apt-get install fonts-dejavu-core)")


def render(lines: list[str], *, size: int = 18, mono: bool = False, dark: bool = False,
           width: int = 900) -> tuple[np.ndarray, dict[str | int, tuple[int, int, int, int]]]:
    """Render text lines; returns the RGB array and each line's ink box."""
    f = font(MONO if mono else SANS, size)
    bg, fg = ((24, 26, 30), (210, 230, 210)) if dark else ((255, 255, 255), (25, 25, 25))
    height = 30 + int(size * 2.0) * len(lines)
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    boxes = {}
    y = 16
    for i, line in enumerate(lines):
        d.text((20, y), line, font=f, fill=fg)
        boxes[line] = boxes[i] = d.textbbox((20, y), line, font=f)  # by text, and by index for repeated lines
        y += int(size * 2.0)
    return np.asarray(img), boxes


def entities(findings: list[Finding]) -> set[str]:
    return {f.entity for f in findings}


def inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int], slack: int = 0) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


CUSTOM = (
    CustomRecognizer(name="code_names", entity="PROJECT_CODENAME", deny_list=("Bluebird", "CONFIDENTIAL")),
    CustomRecognizer(name="tickets", entity="INTERNAL_TICKET", patterns=((r"\bOPS-\d{5}\b", 0.6),),
                     context=("ticket",)),
)
ALLOWED_EMAIL = "helpdesk@acmecorp.io"


@pytest.fixture(scope="session")
def ocr() -> OcrEngine:
    return OcrEngine()


@pytest.fixture(scope="session")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer(recognizers=CUSTOM, allow_list=(ALLOWED_EMAIL,))


# --- one document screenshot, read once ----------------------------------------------------------------------------

CARD_LINE = "Please charge the company card 4111 1111 1111 1111 for the conference travel booking today"
DOC_LINES = [
    "Contact: dana.whitfield@acmecorp.io  or  " + ALLOWED_EMAIL,
    CARD_LINE,
    "Employee SSN 536-22-1947 on file, sample 123-45-6789",
    "Wire to IBAN DE89 3704 0044 0532 0130 00",
    "Call me at +1 415-555-0132",
    "Docs say AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "Project Bluebird is CONFIDENTIAL, ticket OPS-48213",
    "Reply to someone@example.com for the template",
]


@pytest.fixture(scope="session")
def document(ocr: OcrEngine, analyzer: TextAnalyzer):
    rgb, boxes = render(DOC_LINES)
    words = ocr.read(rgb)
    return words, analyzer.analyze_words(words), boxes


def in_line(findings: list[Finding], entity: str, line_box) -> list[Finding]:
    return [f for f in findings if f.entity == entity and f.box and inside(f.box, line_box, slack=14)]


def test_words_have_boxes_in_reading_order(document):
    words, _, boxes = document
    assert all(isinstance(w, OcrWord) and w.box[0] < w.box[2] and w.box[1] < w.box[3] for w in words)
    first_line_y = boxes[DOC_LINES[0]][3]
    assert any("acmecorp" in w.text for w in words if w.box[3] <= first_line_y + 8)
    ys = [(w.box[1] + w.box[3]) / 2 for w in words]
    assert ys == sorted(ys) or sum(a > b + 10 for a, b in zip(ys, ys[1:])) == 0


def test_email_found_allow_list_and_example_domain_suppressed(document):
    _, findings, boxes = document
    emails = [f for f in findings if f.entity == "EMAIL_ADDRESS"]
    line0 = boxes[DOC_LINES[0]]
    assert len(in_line(emails, "EMAIL_ADDRESS", line0)) == 1, emails  # the allow-listed one is not reported
    email = in_line(emails, "EMAIL_ADDRESS", line0)[0]
    assert email.source == "ocr"
    assert email.box[2] < line0[0] + (line0[2] - line0[0]) * 0.75  # covers the first address, not the allowed one
    assert not in_line(findings, "EMAIL_ADDRESS", boxes[DOC_LINES[-1]])  # example.com is a placeholder


def test_card_box_is_tight_inside_a_long_line(document):
    _, findings, boxes = document
    line = boxes[CARD_LINE]
    cards = in_line(findings, "CREDIT_CARD", line)
    assert len(cards) == 1, findings
    box = cards[0].box
    line_w = line[2] - line[0]
    assert box[2] - box[0] < 0.45 * line_w  # the card, not the line
    # It covers the digits: their rendered extent sits inside the box.
    f = font(SANS, 18)
    prefix = CARD_LINE.split("4111")[0]
    x_start = line[0] + f.getlength(prefix)
    x_end = x_start + f.getlength("4111 1111 1111 1111")
    assert box[0] <= x_start + 2 and box[2] >= x_end - 2, (box, x_start, x_end)
    assert box[1] <= line[1] and box[3] >= line[3] - 1


def test_ssn_iban_phone(document):
    _, findings, boxes = document
    ssn_line = boxes[DOC_LINES[2]]
    ssns = in_line(findings, "US_SSN", ssn_line)
    assert len(ssns) == 1  # the well-known sample number is not reported
    assert ssns[0].box[2] < ssn_line[0] + 0.7 * (ssn_line[2] - ssn_line[0])
    assert in_line(findings, "IBAN_CODE", boxes[DOC_LINES[3]])
    assert in_line(findings, "PHONE_NUMBER", boxes[DOC_LINES[4]])


def test_aws_example_key_not_reported(document):
    _, findings, boxes = document
    assert not in_line(findings, "SECRET", boxes[DOC_LINES[5]])


def test_custom_deny_list_and_regex(document):
    _, findings, boxes = document
    line = boxes[DOC_LINES[6]]
    assert len(in_line(findings, "PROJECT_CODENAME", line)) == 2
    assert len(in_line(findings, "INTERNAL_TICKET", line)) == 1


def test_findings_never_carry_text(document):
    words, findings, _ = document
    assert findings
    dumped = repr([f.to_json() for f in findings])
    for secret in ("dana.whitfield", "4111", "536-22", "DE89", "Bluebird"):
        assert secret not in dumped


# --- dark terminal with a secret -----------------------------------------------------------------------------------

def test_secret_key_in_dark_terminal(ocr: OcrEngine, analyzer: TextAnalyzer):
    lines = ["$ export GITHUB_TOKEN=ghp_R8x2Kq7Lm4Vn9Tz3Wc6Yb1Hd5Jf0Gs2Pa7Qe", "$ git push origin main"]
    rgb, boxes = render(lines, size=20, mono=True, dark=True)
    words = ocr.read(rgb)
    secrets = in_line(analyzer.analyze_words(words), "SECRET", boxes[lines[0]])
    assert secrets, [w.text for w in words]
    line = boxes[lines[0]]
    assert secrets[0].box[0] > line[0] + 0.2 * (line[2] - line[0])  # starts at the token, not at "$ export"


# --- machine readable zone -----------------------------------------------------------------------------------------

def td3(doc: str, nat: str, dob: str, sex: str, exp: str, surname: str, given: str) -> list[str]:
    doc = doc.ljust(9, "<")
    personal = "<" * 14
    l2 = doc + str(mrz_check_digit(doc)) + nat + dob + str(mrz_check_digit(dob)) + sex + exp
    l2 += str(mrz_check_digit(exp)) + personal + str(mrz_check_digit(personal))
    composite = l2[0:10] + l2[13:20] + l2[21:43]
    l2 += str(mrz_check_digit(composite))
    l1 = ("P<" + nat + surname + "<<" + given.replace(" ", "<")).ljust(44, "<")
    assert len(l1) == len(l2) == 44
    return [l1, l2]


VALID_MRZ = td3("C8H4R2715", "USA", "850314", "F", "310722", "HARTLEY", "JOANNA MAE")


def test_mrz_check_digits_in_text(analyzer: TextAnalyzer):
    good = analyzer.analyze_text("\n".join(VALID_MRZ), source="barcode")
    assert {"MRZ", "US_PASSPORT", "PERSON", "DATE_OF_BIRTH"} <= entities(good)
    assert all(f.box is None and f.source == "barcode" for f in good)
    bad_l2 = VALID_MRZ[1][:19] + str((int(VALID_MRZ[1][19]) + 1) % 10) + VALID_MRZ[1][20:]
    assert "MRZ" not in entities(analyzer.analyze_text(VALID_MRZ[0] + "\n" + bad_l2, source="barcode"))


def test_mrz_tolerates_ocr_confusions():
    r = MrzRecognizer()
    l1, l2 = VALID_MRZ
    noisy = l1.replace("<<<<<<<<", "KKKKKK").replace("<", "«", 1) + "\n" + l2.replace("0", "O").replace("<<<<", "< <")
    assert "MRZ" in {x.entity_type for x in r.analyze(noisy, r.ENTITIES)}


def test_mrz_on_image_boxed(ocr: OcrEngine, analyzer: TextAnalyzer):
    wrong = list(VALID_MRZ)
    wrong[1] = wrong[1][:9] + str((int(wrong[1][9]) + 3) % 10) + wrong[1][10:]  # document number check digit off
    lines = ["PASSPORT  UNITED STATES OF AMERICA", *VALID_MRZ, "", *wrong]
    rgb, boxes = render(lines, size=22, mono=True, width=780)
    words = ocr.read(rgb)
    findings = analyzer.analyze_words(words)
    valid_zone = (boxes[1][0], boxes[1][1], boxes[2][2], boxes[2][3])
    mrz = [f for f in findings if f.entity == "MRZ"]
    assert mrz, [w.text for w in words]
    assert all(inside(f.box, valid_zone, slack=14) for f in mrz)  # the wrong-check-digit zone is not reported
    assert any(f.entity in ("US_PASSPORT", "ID_DOCUMENT_NUMBER") and inside(f.box, valid_zone, 14) for f in findings)
    assert any(f.entity == "DATE_OF_BIRTH" and inside(f.box, valid_zone, 14) for f in findings)


# --- plain text ----------------------------------------------------------------------------------------------------

def test_analyze_text_vcard(analyzer: TextAnalyzer):
    vcard = ("BEGIN:VCARD\nVERSION:3.0\nFN:Maria Gonzalez\nTEL;TYPE=cell:+1 (212) 555-0198\n"
             "EMAIL:maria.gonzalez@contoso.io\nADR:;;350 Fifth Avenue;New York;NY;10118;USA\nEND:VCARD")
    found = analyzer.analyze_text(vcard, source="barcode")
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"} <= entities(found)
    assert all(f.box is None for f in found)


@pytest.mark.parametrize("text,entity", [
    ("key AKIA4QWERTYUPLMNBV7Z", "SECRET"),
    ("aws_secret_access_key = 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", "SECRET"),
    ("OPENAI_API_KEY=sk-proj-Ab3De5Fg7Hj9Kl1Mn3Pq5Rs7Tu9Vw1Xy3", "SECRET"),
    ("ANTHROPIC_API_KEY=sk-ant-api03-Ab3De5Fg7Hj9Kl1Mn3Pq5Rs7Tu9Vw1Xy3", "SECRET"),
    ("slack xoxb-2231984412-Qm8Tz2Lx9Vc4Np", "SECRET"),
    ("glpat-Ab3De5Fg7Hj9Kl1Mn3Pq", "SECRET"),
    ("DATABASE_URL=postgres://app:S3cr3tPa55w0rd@db.internal:5432/app", "SECRET"),
    ("git clone https://bob:hunter2xyz@git.corp.lan/repo.git", "SECRET"),
    ("STRIPE_KEY sk live jWKSyaqMwOkPCsVIArmEBPi4", "SECRET"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----", "SECRET"),
    ("card 4111-1111-1l11-1111 read by OCR", "CREDIT_CARD"),
    ("ssn S36-22-l947", "US_SSN"),
    # IBAN check digits misread (measured on the benchmark corpus)
    ("Send the money to DE8O 3428 5626 5065 3797 51 please", "IBAN_CODE"),
    ("Bank account (IBAN) DELL 2103 2838 2077 1958 25", "IBAN_CODE"),
    ("Bank account (IBAN) DES1 0607 6331 6415 0454 74", "IBAN_CODE"),
    ("Mobile +33 66 93 50 27 thanks", "PHONE_NUMBER"),  # OCR lost a digit: invalid for phonenumbers, still a phone
    ("reach me at fmoreau@contoso-healthorg anytime", "EMAIL_ADDRESS"),
])
def test_analyze_text_positive(analyzer: TextAnalyzer, text: str, entity: str):
    assert entity in entities(analyzer.analyze_text(text, source="metadata"))


@pytest.mark.parametrize("text", [
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "postgres://user:password@localhost/db",
    "DATABASE_URL=postgres://db.internal:5432/app",
    "postgres://admin:Xk29sLqP0w@db.example.com:5432/app",
    "the sk ant team met on a proj basis",
    "token: ghp_************************************",
    "SSN ***-**-1234 and card **** **** **** 1234",
    "card 4111 1111 1111 1112",
    "write to jane@example.org",
    "version +1.2.3 and +5 points, total +12 345",
])
def test_analyze_text_negative(analyzer: TextAnalyzer, text: str):
    found = entities(analyzer.analyze_text(text, source="metadata"))
    assert not found & {"SECRET", "US_SSN", "CREDIT_CARD", "EMAIL_ADDRESS", "PHONE_NUMBER"}, found


def test_normalize_digits_keeps_length():
    s = "card 4111-1l11-IIII-1111 GB82 WEST and SSN S36-22-l947"
    n = normalize_digits(s)
    assert len(n) == len(s)
    assert "4111-1111-1111-1111" in n and "GB82 WEST" in n and "536-22-1947" in n


def test_bad_custom_regex_fails_loudly():
    with pytest.raises(ValueError, match="invalid regex"):
        from gateway.inspection.recognizers import build_custom
        build_custom(CustomRecognizer(name="bad", entity="X", patterns=(("(unclosed", 0.5),)))


PHONE_TEXT = "\n".join([
    "Call (512) 841-2077 or +44 20 7946 0958 today",
    "Room 12, floor 3",  # under 4 digits: no number possible
    "Büro: 030 12345678, mobil 0151 23456789",
    "Invoice 2024-0042 dated 03/04/2024",
    "Call (512) 841-2077 or +44 20 7946 0958 today",  # the same line again
    "Tel. +33 6 66 93 50 27 / +55 11 98765-4321 / +972 52-123-4567",
    "\uff08\uff15\uff11\uff12\uff09 \uff18\uff14\uff11-\uff12\uff10\uff17\uff17",  # full-width digits
])


def test_line_phone_recognizer_finds_what_presidios_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Line by line, cached, lines under 4 digits skipped: the same numbers, spans and scores as Presidio's
    PhoneRecognizer on the whole text (which of several regions' explanations survives its de-duplication depends on
    the order it met them in); and a line seen before is not parsed again."""
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    import phonenumbers

    def spans(results):
        return sorted((r.start, r.end, r.score) for r in results)

    ours = LinePhoneRecognizer()
    want = spans(PhoneRecognizer().analyze(PHONE_TEXT, ["PHONE_NUMBER"]))
    assert len(want) >= 7
    assert spans(ours.analyze(PHONE_TEXT, ["PHONE_NUMBER"])) == want
    calls = []
    real = phonenumbers.PhoneNumberMatcher
    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    assert spans(ours.analyze(PHONE_TEXT, ["PHONE_NUMBER"])) == want and calls == []


@pytest.mark.parametrize("header_deg", [0, -3])
def test_mrz_on_its_own_slant_is_read_along_it(ocr: OcrEngine, analyzer: TextAnalyzer, header_deg: int):
    """A photographed card: its MRZ slants one way (perspective) while its header is level or slants the other
    way, so no single turn of the page levels both. The zone is read along its own slant (its bounding rectangle
    held parts of both lines: "WTKLC9K7PODON<<OLIVER")."""
    header, _ = render(["IDENTITY CARD  BUNDESREPUBLIK", "Surname  HARTLEY", "Given names  JOANNA MAE",
                        "Nationality  USA  Expiry 22 JUL 2031"], size=22, width=780)
    zone, _ = render(VALID_MRZ, size=22, mono=True, width=780)
    top = Image.fromarray(header).rotate(header_deg, resample=Image.BICUBIC, expand=True, fillcolor="white")
    foot = Image.fromarray(zone).rotate(3.5, resample=Image.BICUBIC, expand=True, fillcolor="white")
    card = Image.new("RGB", (max(top.width, foot.width) + 40, top.height + foot.height + 40), "white")
    card.paste(top, (20, 10))
    card.paste(foot, (20, 20 + top.height))
    words = ocr.read(np.asarray(card))
    assert "MRZ" in entities(analyzer.analyze_words(words)), [w.text for w in words]


@pytest.mark.parametrize("deg", [-9, 6])
def test_mrz_of_a_tilted_page_is_read_whole(ocr: OcrEngine, analyzer: TextAnalyzer, deg: int):
    """A card photographed crooked: the page is turned level and detected again. Turned level, the first
    detection's boxes of the tilted zone joined its lines and cut their first glyphs off."""
    header, _ = render(["IDENTITY CARD  BUNDESREPUBLIK", "Surname  HARTLEY", "Given names  JOANNA MAE"],
                       size=22, width=780)
    zone, _ = render(VALID_MRZ, size=22, mono=True, width=780)
    page = Image.new("RGB", (800, header.shape[0] + zone.shape[0] + 40), "white")
    page.paste(Image.fromarray(header), (10, 10))
    page.paste(Image.fromarray(zone), (10, 30 + header.shape[0]))
    tilted = page.rotate(deg, resample=Image.BICUBIC, expand=True, fillcolor=(200, 200, 200))
    words = ocr.read(np.asarray(tilted))
    assert "MRZ" in entities(analyzer.analyze_words(words)), [w.text for w in words]


OCRB = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"  # fonts-ocr-b (scripts/install-system-deps.sh)


@pytest.mark.parametrize("deg, spacing", [(-9, 1.25), (-7, 1.25), (-7, 1.4), (7, 1.25), (12, 1.25), (12, 1.4),
                                          (90, 1.1), (90, 1.2)])
def test_tight_ocrb_zone_of_a_tilted_passport_is_read(ocr: OcrEngine, analyzer: TextAnalyzer, deg: int,
                                                      spacing: float):
    """A passport page photographed crooked or sideways, its zone in OCR-B at a tight line pitch. Each of these
    failed when the first detection's boxes were turned level (or upright): they joined the zone's lines."""
    zone_font, sans = font(OCRB, 24), font(SANS, 18)
    img = Image.new("RGB", (820, 260), "white")
    d = ImageDraw.Draw(img)
    d.text((20, 10), "PASSPORT  UNITED STATES OF AMERICA", font=sans, fill=(30, 30, 90))
    d.text((20, 40), "Surname  HARTLEY    Given names  JOANNA MAE", font=sans, fill=(30, 30, 30))
    for k, line in enumerate(VALID_MRZ):
        d.text((20, 150 + int(24 * spacing) * k), line, font=zone_font, fill=(10, 10, 10))
    tilted = img.rotate(deg, resample=Image.BICUBIC, expand=True, fillcolor=(200, 200, 200))
    words = ocr.read(np.asarray(tilted))
    assert "MRZ" in entities(analyzer.analyze_words(words)), [w.text for w in words]


def test_card_shaped_digit_groups_are_no_phone_number(analyzer: TextAnalyzer):
    """A Luhn-invalid card number in a clean slide's notes came out as PHONE_NUMBER 0.4, which the default policy
    redacts on: sixteen digits are more than any phone number has (E.164: 15)."""
    found = analyzer.analyze_text("Ref 4963-0431-7301-4737 in the notes, call (512) 841-2077", source="text")
    assert [f.entity for f in found if f.entity == "PHONE_NUMBER"] == ["PHONE_NUMBER"]
