"""Identity documents: passports (TD3) and ID cards (TD1) with valid MRZ (dev, manifest version 1), and the
widened TD1 front-and-back, TD2 and TD3 layouts in OCR-B."""

from __future__ import annotations

import random
import string

from bench.corpus import MONTHS, Page, Scene, _rgb_jitter, birth_date, face_crop, font, mrz_td1, mrz_td3, person

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


