"""Identity documents: passports (TD3) and ID cards (TD1) with valid MRZ (dev, manifest version 1), and the
widened TD1 front-and-back, TD2 and TD3 layouts in OCR-B."""

from __future__ import annotations

import math
import random
import string

from bench.corpus import (DEV, MONTHS, TEST, Page, Scene, _rgb_jitter, birth_date, face_crop, font, mrz_mrvb,
                          mrz_number, mrz_td1, mrz_td2, mrz_td3, person, yymmdd)

ISSUERS = [("D<<", "BUNDESREPUBLIK DEUTSCHLAND", "DEUTSCH"), ("GBR", "UNITED KINGDOM", "BRITISH CITIZEN"),
           ("FRA", "REPUBLIQUE FRANCAISE", "FRANCAISE"), ("NLD", "KONINKRIJK DER NEDERLANDEN", "NEDERLANDSE"),
           ("ITA", "REPUBBLICA ITALIANA", "ITALIANA"), ("CAN", "CANADA", "CANADIAN")]


def id_document(rng: random.Random, clean: bool, passport: bool) -> Scene:
    w, h = (1250, 880) if passport else (1012, 638)
    base = rng.choice([(232, 240, 246), (241, 236, 226), (236, 242, 232), (245, 236, 240)])
    p = Page(w, h, base)
    for k in range(0, w + h, 14):  # guilloche-ish security pattern
        p.draw.line([k, 0, k - h, h], fill=_rgb_jitter(rng, base, 10), width=1)
    issuer, country, nationality_word = rng.choice(ISSUERS)
    head = font("sans-bold", 28 if passport else 22, rng)
    p.text((40, 24), country, head, (40, 50, 90))
    p.text((40, 24 + head.size + 6), "PASSPORT / PASSEPORT" if passport else "IDENTITY CARD / CARTE D'IDENTITE",
           font("sans", 18 if passport else 15, rng), (60, 60, 90))
    photo_size = (300, 390) if passport else (240, 310)
    px, py = 40, 120 if passport else 96
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), photo_size)
    p.img.paste(img, (px, py))
    p.label("FACE", [fbox[0] + px, fbox[1] + py, fbox[2] + px, fbox[3] + py], None, "face")
    first, last = person(rng)
    y0, m0, d0 = birth_date(rng)
    sex = rng.choice("MF")
    number = rng.choice("CFGHJKLMNPRTVWXYZ") + "".join(rng.choice("CFGHJKLMNPRTVWXYZ" + string.digits) for _ in range(8))
    expiry = (rng.randint(2027, 2034), rng.randint(1, 12), rng.randint(1, 28))
    lab, val = font("sans", 13 if passport else 12, rng), font("sans-bold", 22 if passport else 19, rng)
    fx, fy = px + photo_size[0] + 40, py
    dob_s = f"{d0:02d} {MONTHS[m0 - 1][:3].upper()} {y0}"
    fields = [("Surname / Nom", last.upper(), "PERSON"), ("Given names / Prenoms", first.upper(), "PERSON"),
              ("Nationality", nationality_word, None), ("Date of birth", dob_s, "DATE_OF_BIRTH"),
              ("Sex", sex, None),
              ("Date of expiry", f"{expiry[2]:02d} {MONTHS[expiry[1] - 1][:3].upper()} {expiry[0]}", None),
              ("Document No.", number, "ID_DOCUMENT_NUMBER")]
    for label, value, ent in fields:
        p.text((fx, fy), label, lab, (90, 90, 110))
        p.text((fx, fy + lab.size + 3), value, val, (10, 10, 20), ent)
        fy += lab.size + val.size + (18 if passport else 12)
    yymmdd = lambda ymd: f"{ymd[0] % 100:02d}{ymd[1]:02d}{ymd[2]:02d}"  # noqa: E731
    nat = issuer
    if passport:
        lines = list(mrz_td3(issuer, last, first, number, nat, yymmdd((y0, m0, d0)), sex, yymmdd(expiry)))
    else:
        lines = list(mrz_td1(issuer, last, first, number, nat, yymmdd((y0, m0, d0)), sex, yymmdd(expiry)))
    mf = font("mono-bold", 30 if passport else 30, rng)
    mrz_h = int(mf.size * 1.35)
    y = h - 30 - mrz_h * len(lines)
    p.draw.rectangle([0, y - 16, w, h], fill=_rgb_jitter(rng, (250, 250, 250), 3))
    for ln in lines:
        lw = mf.getlength(ln)
        p.text(((w - lw) / 2, y), ln, mf, (0, 0, 0), "MRZ")
        y += mrz_h
    return p.scene("id-document")




# --------------------------------------------------------------------------------------------- widened

def _holder(rng: random.Random, kit) -> dict:
    first, last = kit.person(rng)
    return {"first": first, "last": last, "dob": birth_date(rng), "sex": rng.choice("MF"), "number": mrz_number(rng),
            "expiry": (rng.randint(2027, 2035), rng.randint(1, 12), rng.randint(1, 28)),
            "issue": (rng.randint(2016, 2025), rng.randint(1, 12), rng.randint(1, 28)),
            "issuer": rng.choice(kit.vocab.issuers)}


def _date(ymd: tuple[int, int, int], style: int) -> str:
    y, m, d = ymd
    return [f"{d:02d} {MONTHS[m - 1][:3].upper()} {y}", f"{d:02d}.{m:02d}.{y}", f"{d:02d} {m:02d} {y}"][style]


def _guilloche(p: Page, rng: random.Random, box: tuple[int, int, int, int], base: tuple[int, int, int]) -> None:
    """Fine security waves over a card's background."""
    x0, y0, x1, y1 = box
    for k in range(0, y1 - y0, 9):
        pts = [(x, y0 + k + 6 * math.sin((x + k * 3) / rng.uniform(25, 45))) for x in range(x0, x1, 8)]
        p.draw.line(pts, fill=_rgb_jitter(rng, base, 14), width=1)


def _mrz_font(kit, lines: list[str], width: float):
    """OCR-B sized so the zone's longest line fills `width`."""
    probe = kit.font("ocrb", 100, random.Random(0))
    return kit.font("ocrb", max(10, int(100 * width / probe.getlength(max(lines, key=len)))), random.Random(0))


def _draw_mrz(p: Page, lines: list[str], x: float, y: float, mf, line_h: float) -> float:
    for ln in lines:
        p.text((x, y), ln, mf, (15, 15, 20), "MRZ")
        y += line_h
    return y


def _fields(p: Page, x: float, y: float, rows: list[tuple[str, str, str | None]], lab, val, lab_ink, val_ink,
            gap: float) -> float:
    for label, value, ent in rows:
        p.text((x, y), label, lab, lab_ink)
        p.text((x, y + lab.size + 2), value, val, val_ink, ent)
        y += lab.size + val.size + gap
    return y


def _card(w: int, h: int, rng: random.Random, base: tuple[int, int, int]) -> Page:
    c = Page(w, h, (255, 255, 255))
    c.draw.rounded_rectangle([0, 0, w - 1, h - 1], radius=int(h * 0.06), fill=base, outline=_rgb_jitter(rng, base, 30))
    _guilloche(c, rng, (10, 10, w - 10, h - 10), base)
    return c


def residence_permit(rng: random.Random, clean: bool) -> Scene:
    """A TD1 residence permit, front above back, photocopied onto an A4 page; the back has the address and an
    OCR-B machine-readable zone."""
    hd = _holder(rng, DEV)
    issuer, country, nationality = hd["issuer"]
    base = rng.choice([(226, 236, 244), (240, 232, 222), (232, 240, 228)])
    cw, ch = 1012, 638
    lab, val = DEV.font("condensed", 17, rng), DEV.font("sans", 25, rng, bold=True)
    front = _card(cw, ch, rng, base)
    front.text((36, 26), country, DEV.font("sans", 26, rng, bold=True), (30, 50, 90))
    front.text((36, 62), "RESIDENCE PERMIT / TITRE DE SEJOUR", DEV.font("sans", 18, rng), (50, 60, 90))
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (250, 320))
    front.img.paste(img, (36, 110))
    front.label("FACE", [fbox[0] + 36, fbox[1] + 110, fbox[2] + 36, fbox[3] + 110], None, "face")
    rows = [("Surname", hd["last"].upper(), "PERSON"), ("Given names", hd["first"].upper(), "PERSON"),
            ("Date of birth", _date(hd["dob"], 1), "DATE_OF_BIRTH"), ("Sex / Nationality", f"{hd['sex']}  {issuer.strip('<')}", None),
            ("Card No.", hd["number"], "ID_DOCUMENT_NUMBER"), ("Valid until", _date(hd["expiry"], 1), None)]
    _fields(front, 320, 110, rows, lab, val, (80, 90, 110), (10, 10, 20), 10)
    back = _card(cw, ch, rng, base)
    street, city = DEV.address(rng)
    back.text((36, 30), "Address / Adresse", lab, (80, 90, 110))
    back.text((36, 56), street, val, (10, 10, 20), "LOCATION")
    back.text((36, 90), city, val, (10, 10, 20), "LOCATION")
    back.text((36, 140), "Remarks", lab, (80, 90, 110))
    back.text((36, 166), rng.choice(["Employment permitted", "Family member of an EU citizen", "Student"]),
              DEV.font("sans", 20, rng), (10, 10, 20))
    lines = list(mrz_td1(issuer, hd["last"], hd["first"], hd["number"], issuer, yymmdd(hd["dob"]), hd["sex"],
                         yymmdd(hd["expiry"])))
    mf = _mrz_font(DEV, lines, cw * 0.88)
    back.draw.rectangle([12, ch - 210, cw - 12, ch - 14], fill=_rgb_jitter(rng, (248, 248, 246), 2))
    _draw_mrz(back, lines, cw * 0.06, ch - 200, mf, mf.size * 1.25)
    page = Page(1240, 1754, _rgb_jitter(rng, (246, 246, 244), 3))
    page.text((80, 50), rng.choice(["Copy of residence permit (front and back)", "Attachment 2 - ID copy"]),
              DEV.font("serif", 22, rng), (60, 60, 60))
    fx, bx = rng.randint(90, 130), rng.randint(90, 130)
    page.paste(front, (fx, 120))
    page.paste(back, (bx, 120 + ch + rng.randint(60, 140)))
    return page.scene("scan-a4")


def id_td2(rng: random.Random, clean: bool) -> Scene:
    """A TD2 identity card (2 x 36 MRZ in OCR-B): fields on the left, photo on the right."""
    hd = _holder(rng, DEV)
    issuer, country, nationality = hd["issuer"]
    base = rng.choice([(236, 230, 246), (228, 240, 240), (246, 240, 228)])
    w, h = 1050, 740
    c = _card(w, h, rng, base)
    c.text((40, 30), country, DEV.font("serif", 28, rng, bold=True), (40, 40, 90))
    c.text((40, 70), "IDENTITY CARD", DEV.font("sans", 20, rng), (60, 60, 100))
    lab, val = DEV.font("sans", 15, rng), DEV.font("serif", 24, rng, bold=True)
    rows = [("1. Surname", hd["last"].upper(), "PERSON"), ("2. Given names", hd["first"].upper(), "PERSON"),
            ("3. Date of birth", _date(hd["dob"], 0), "DATE_OF_BIRTH"), ("4. Nationality", nationality, None),
            ("5. Document number", hd["number"], "ID_DOCUMENT_NUMBER"), ("6. Expiry", _date(hd["expiry"], 0), None)]
    _fields(c, 40, 120, rows, lab, val, (90, 90, 110), (15, 15, 30), 12)
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (270, 345))
    px, py = w - 270 - 50, 110
    c.img.paste(img, (px, py))
    c.label("FACE", [fbox[0] + px, fbox[1] + py, fbox[2] + px, fbox[3] + py], None, "face")
    lines = list(mrz_td2(issuer, hd["last"], hd["first"], hd["number"], issuer, yymmdd(hd["dob"]), hd["sex"],
                         yymmdd(hd["expiry"]), kind=rng.choice(["I<", "ID", "IR"])))
    mf = _mrz_font(DEV, lines, w * 0.9)
    c.draw.rectangle([14, h - 150, w - 14, h - 16], fill=_rgb_jitter(rng, (250, 250, 248), 2))
    _draw_mrz(c, lines, w * 0.05, h - 140, mf, mf.size * 1.3)
    return c.scene("id-card")


def id_card_pair(rng: random.Random, clean: bool) -> Scene:
    """A TD1 national ID card, front and back side by side as a phone upload: chip and photo on the front,
    address, height and a 3 x 30 OCR-B zone on the back."""
    hd = _holder(rng, TEST)
    issuer, country, nationality = hd["issuer"]
    base = rng.choice([(222, 234, 222), (236, 226, 236), (244, 236, 216), (214, 228, 240)])
    cw, ch = 1012, 638
    lab, val = TEST.pair("sans", 15, rng)[0], TEST.font(rng.choice(["sans", "condensed"]), 24, rng, bold=True)
    front = _card(cw, ch, rng, base)
    front.draw.rectangle([0, 0, cw, 84], fill=_rgb_jitter(rng, (40, 70, 120), 20))
    front.text((30, 14), country, TEST.font("sans", 24, rng, bold=True), (255, 255, 255))
    front.text((30, 48), "NATIONAL IDENTITY CARD", TEST.font("sans", 16, rng), (230, 230, 240))
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (240, 300))
    front.img.paste(img, (cw - 240 - 36, 120))
    front.label("FACE", [fbox[0] + cw - 276, fbox[1] + 120, fbox[2] + cw - 276, fbox[3] + 120], None, "face")
    front.draw.rounded_rectangle([36, 120, 136, 196], radius=10, fill=(212, 175, 55))  # chip
    rows = [("Surname / Apellidos", hd["last"].upper(), "PERSON"), ("Given names / Nombre", hd["first"].upper(), "PERSON"),
            ("Sex", hd["sex"], None), ("Date of birth", _date(hd["dob"], 2), "DATE_OF_BIRTH"),
            ("Document no.", hd["number"], "ID_DOCUMENT_NUMBER")]
    _fields(front, 36, 214, rows, lab, val, (70, 80, 90), (10, 10, 20), 6)
    hand = TEST.font("hand", 34, rng)
    front.text((cw - 300, ch - 70), f"{hd['first']} {hd['last']}", hand, (20, 30, 90), "PERSON")
    back = _card(cw, ch, rng, base)
    street, city = TEST.address(rng)
    back.text((36, 26), "Address", lab, (70, 80, 90))
    back.text((36, 48), street, val, (10, 10, 20), "LOCATION")
    back.text((36, 82), city, val, (10, 10, 20), "LOCATION")
    back.text((36, 130), f"Height {rng.randint(152, 198)} cm   Issued {_date(hd['issue'], 2)}",
              TEST.font("sans", 18, rng), (20, 20, 30))
    lines = list(mrz_td1(issuer, hd["last"], hd["first"], hd["number"], issuer, yymmdd(hd["dob"]), hd["sex"],
                         yymmdd(hd["expiry"])))
    mf = _mrz_font(TEST, lines, cw * 0.9)
    back.draw.rectangle([10, ch - 215, cw - 10, ch - 12], fill=_rgb_jitter(rng, (250, 250, 250), 2))
    _draw_mrz(back, lines, cw * 0.05, ch - 205, mf, mf.size * 1.22)
    gap = rng.randint(30, 90)
    bg = rng.choice([(250, 250, 250), (60, 62, 66), (200, 190, 175)])
    page = Page(cw * 2 + gap + 80, ch + 80, bg)
    page.paste(front, (40, 40))
    page.paste(back, (40 + cw + gap, 40))
    return page.scene("id-pair")


def passport_td3(rng: random.Random, clean: bool) -> Scene:
    """A passport data page (TD3, 2 x 44 OCR-B with a personal number), sometimes with the facing visa page above."""
    hd = _holder(rng, TEST)
    issuer, country, nationality = hd["issuer"]
    base = rng.choice([(240, 228, 232), (226, 232, 244), (236, 240, 224)])
    w, h = 1250, 880
    c = _card(w, h, rng, base)
    head = TEST.font("serif", 30, rng, bold=True)
    c.text((w - 60 - head.getlength(country), 24), country, head, (70, 30, 40))
    lab, val = TEST.font("sans", 14, rng), TEST.font(rng.choice(["sans", "serif"]), 23, rng, bold=True)
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (290, 370))
    c.img.paste(img, (44, 90))
    c.label("FACE", [fbox[0] + 44, fbox[1] + 90, fbox[2] + 44, fbox[3] + 90], None, "face")
    top = [("Type", "P", None), ("Code", issuer.strip("<") or "D", None), ("Passport No.", hd["number"], "ID_DOCUMENT_NUMBER")]
    x = 380
    for label, value, ent in top:
        c.text((x, 80), label, lab, (90, 80, 90))
        c.text((x, 80 + lab.size + 2), value, val, (15, 10, 20), ent)
        x += max(120, int(val.getlength(value)) + 40)
    left = [("Surname", hd["last"].upper(), "PERSON"), ("Given names", hd["first"].upper(), "PERSON"),
            ("Nationality", nationality, None), ("Date of birth", _date(hd["dob"], 0), "DATE_OF_BIRTH")]
    right = [("Sex", hd["sex"], None), ("Date of issue", _date(hd["issue"], 0), None),
             ("Date of expiry", _date(hd["expiry"], 0), None), ("Authority", rng.choice(["MINISTRY OF INTERIOR", "POLICE"]), None)]
    _fields(c, 380, 150, left, lab, val, (90, 80, 90), (15, 10, 20), 14)
    _fields(c, 820, 150, right, lab, val, (90, 80, 90), (15, 10, 20), 14)
    hand = TEST.font("hand", 36, rng)
    c.text((400, 500), "Signature", lab, (90, 80, 90))
    c.text((400, 520), f"{hd['first'][0]}. {hd['last']}", hand, (20, 20, 80), "PERSON")
    personal = "".join(rng.choice(string.digits) for _ in range(rng.choice([0, 9, 11])))
    lines = list(mrz_td3(issuer, hd["last"], hd["first"], hd["number"], issuer, yymmdd(hd["dob"]), hd["sex"],
                         yymmdd(hd["expiry"]), personal))
    mf = _mrz_font(TEST, lines, w * 0.92)
    c.draw.rectangle([10, h - 160, w - 10, h - 12], fill=_rgb_jitter(rng, (250, 250, 250), 2))
    _draw_mrz(c, lines, w * 0.04, h - 145, mf, mf.size * 1.35)
    if rng.random() < 0.5:
        return c.scene("passport")
    spread = Page(w, h * 2 + 20, (120, 30, 40) if rng.random() < 0.5 else (20, 40, 80))
    upper = _card(w, h, rng, _rgb_jitter(rng, base, 6))
    upper.text((60, 40), "VISAS / VISAS", TEST.font("serif", 22, rng), (90, 80, 90))
    for col, row in rng.sample([(c, r) for c in range(3) for r in range(2)], k=rng.randint(2, 4)):
        cx, cy, r = 230 + col * 390 + rng.randint(-40, 40), 260 + row * 360 + rng.randint(-30, 30), rng.randint(70, 110)
        ink = rng.choice([(40, 60, 150), (150, 40, 60), (40, 110, 60)])
        upper.draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=ink, width=4)
        sf = TEST.font("condensed", 22, rng, bold=True)
        for k, t in enumerate([rng.choice(["ENTRY", "EXIT", "ARRIVED"]), f"{rng.randint(1, 28):02d} {MONTHS[rng.randint(0, 11)][:3].upper()} {rng.randint(2019, 2026)}",
                               rng.choice(["LHR", "JFK", "FRA", "NRT", "SYD"])]):
            upper.text((cx - sf.getlength(t) / 2, cy - 36 + k * 26), t, sf, ink)
    spread.paste(upper, (0, 0))
    spread.paste(c, (0, h + 20))
    return spread.scene("passport-spread")


def visa_sticker(rng: random.Random, clean: bool) -> Scene:
    """A visa sticker (MRV-B, 2 x 36 OCR-B without a composite check) on a passport page."""
    hd = _holder(rng, TEST)
    issuer, country, nationality = hd["issuer"]
    page = Page(1250, 880, _rgb_jitter(rng, (238, 234, 226), 4))
    _guilloche(page, rng, (0, 0, 1250, 880), (238, 234, 226))
    w, h = 1120, 760
    s = _card(w, h, rng, rng.choice([(232, 222, 236), (222, 232, 240)]))
    lab, val = TEST.font("condensed", 15, rng), TEST.font("sans", 22, rng, bold=True)
    s.text((30, 22), "VISA", TEST.font("serif", 40, rng, bold=True), (60, 30, 90))
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (230, 290))
    s.img.paste(img, (30, 100))
    s.label("FACE", [fbox[0] + 30, fbox[1] + 100, fbox[2] + 30, fbox[3] + 100], None, "face")
    rows = [("VALID FOR", rng.choice(["SCHENGEN STATES", "ALL COUNTRIES"]), None),
            ("FROM / UNTIL", f"{_date(hd['issue'], 1)}  {_date(hd['expiry'], 1)}", None),
            ("NUMBER OF PASSPORT", hd["number"], "ID_DOCUMENT_NUMBER"),
            ("SURNAME, NAME", f"{hd['last'].upper()}, {hd['first'].upper()}", "PERSON"),
            ("TYPE / ENTRIES / DURATION", f"C   MULT   {rng.choice([30, 60, 90])} DAYS", None)]
    _fields(s, 300, 100, rows, lab, val, (90, 80, 100), (15, 10, 25), 10)
    lines = list(mrz_mrvb(issuer, hd["last"], hd["first"], hd["number"], issuer, yymmdd(hd["dob"]), hd["sex"],
                          yymmdd(hd["expiry"])))
    mf = _mrz_font(TEST, lines, w * 0.9)
    s.draw.rectangle([10, h - 150, w - 10, h - 12], fill=_rgb_jitter(rng, (250, 250, 250), 2))
    _draw_mrz(s, lines, w * 0.05, h - 135, mf, mf.size * 1.3)
    page.paste(s, (65, 60))
    return page.scene("visa")


_US_STATES = [("COLORADO", "CO"), ("WISCONSIN", "WI"), ("GEORGIA", "GA"), ("IDAHO", "ID"), ("VERMONT", "VT"),
              ("CALIFORNIA", "CA"), ("NEBRASKA", "NE")]


def driver_licence(rng: random.Random, clean: bool) -> Scene:
    """A US driver license: numbered fields (4d DL, 1 LN, 2 FN, 8 address, 3 DOB), photo, signature; no MRZ."""
    first, last = TEST.person(rng)
    state, st = rng.choice(_US_STATES)
    street, city = TEST.address(rng, "US")
    w, h = 1012, 638
    c = _card(w, h, rng, rng.choice([(236, 242, 250), (250, 244, 232), (238, 248, 238)]))
    c.draw.rectangle([0, 0, w, 76], fill=_rgb_jitter(rng, (20, 60, 120), 25))
    c.text((30, 14), state, TEST.font("serif", 32, rng, bold=True), (255, 255, 255))
    c.text((w - 300, 26), "DRIVER LICENSE", TEST.font("sans", 22, rng, bold=True), (255, 230, 150))
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (250, 320))
    c.img.paste(img, (26, 100))
    c.label("FACE", [fbox[0] + 26, fbox[1] + 100, fbox[2] + 26, fbox[3] + 100], None, "face")
    f, fb = TEST.pair("sans", 20, rng)
    small = TEST.font("sans", 14, rng)
    dl = rng.choice("ABCDEFGHJKLMNPRSTVWXYZ") + "".join(rng.choice(string.digits) for _ in range(rng.choice([7, 8, 9])))
    dob = birth_date(rng)
    x, y = 300, 96
    for tag, value, ent, big in [("4d DL", dl, "ID_DOCUMENT_NUMBER", True), ("1", last.upper(), "PERSON", True),
                                 ("2", first.upper(), "PERSON", True), ("8", street.upper(), "LOCATION", False),
                                 ("", city.upper(), "LOCATION", False),
                                 ("3 DOB", f"{dob[1]:02d}/{dob[2]:02d}/{dob[0]}", "DATE_OF_BIRTH", True),
                                 ("4b EXP", f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2027, 2033)}", None, False)]:
        if tag:
            c.text((x, y + 4), tag, small, (150, 40, 40))
        c.text((x + 80, y), value, fb if big else f, (10, 10, 20), ent)
        y += (fb if big else f).size + 14
    c.text((x, y + 4), f"15 SEX {rng.choice('MF')}   16 HGT {rng.randint(5, 6)}'-{rng.randint(0, 11):02d}\"   18 EYES "
           f"{rng.choice(['BLU', 'BRO', 'GRN', 'HAZ'])}", small, (10, 10, 20))
    c.text((30, h - 80), f"{first} {last}", TEST.font("hand", 40, rng), (20, 20, 70), "PERSON")
    return c.scene("licence")
