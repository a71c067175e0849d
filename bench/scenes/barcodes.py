"""Barcodes: business cards and flyers with QR codes (dev, manifest version 1) and boarding passes."""

from __future__ import annotations

import random

import numpy as np
import zxingcpp
from PIL import Image

from bench.corpus import COMPANIES, Page, Scene, _rgb_jitter, email_for, font, person, phone


def qr_card(rng: random.Random, clean: bool) -> Scene:
    """Business card / flyer with a QR code: a vCard (email + phone) or, clean, a URL."""
    w, h = rng.choice([(1050, 600), (1200, 700)])
    p = Page(w, h, _rgb_jitter(rng, (250, 250, 248), 5))
    p.draw.rectangle([0, 0, 18, h], fill=_rgb_jitter(rng, (30, 80, 160), 40))
    company = rng.choice(COMPANIES)
    p.text((60, 50), company, font("sans-bold", 30, rng), (30, 40, 70))
    if clean:
        content = rng.choice(["https://example.com/menu", "https://example.com/app?ref=flyer",
                              f"https://example.org/events/{rng.randint(100, 999)}"])
        p.text((60, 140), rng.choice(["Scan for our menu", "Download the app", "Event details"]),
               font("sans", 26, rng), (40, 40, 40))
    else:
        first, last = person(rng)
        mail, tel = email_for(rng, first, last), phone(rng)
        content = (f"BEGIN:VCARD\nVERSION:3.0\nN:{last};{first}\nFN:{first} {last}\nORG:{company}\n"
                   f"TEL;TYPE=CELL:{tel}\nEMAIL:{mail}\nEND:VCARD")
        p.line(60, 140, [(f"{first} {last}", "PERSON")], font("sans-bold", 34, rng), (20, 20, 20))
        p.text((60, 195), rng.choice(["Account Manager", "Senior Engineer", "Head of Sales", "Recruiter"]),
               font("sans", 24, rng), (70, 70, 70))
        p.text((60, h - 90), "Scan to save my contact", font("sans", 20, rng), (90, 90, 90))
    code_img = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode),
                                               scale=rng.choice([5, 6, 7]))
    qr = Image.fromarray(np.asarray(code_img)).convert("RGB")
    qx, qy = w - qr.width - 50, (h - qr.height) // 2
    p.img.paste(qr, (qx, qy))
    if not clean:
        qbox = [qx, qy, qx + qr.width, qy + qr.height]
        p.label("EMAIL_ADDRESS", qbox, mail, "barcode")
        p.label("PHONE_NUMBER", qbox, tel, "barcode")
    return p.scene("card")




def boarding_pass(rng: random.Random, clean: bool) -> Scene:
    """An airline boarding pass with its IATA BCBP PDF417 or Aztec code (the passenger name is in the code too);
    clean: a concert ticket whose QR code is a URL."""
    from bench.corpus import TEST

    w, h = 1500, 620
    band = _rgb_jitter(rng, rng.choice([(0, 56, 118), (180, 20, 40), (0, 110, 90), (60, 30, 110)]), 15)
    p = Page(w, h, (252, 252, 252))
    p.draw.rectangle([0, 0, w, 90], fill=band)
    lab, val = TEST.font("sans", 18, rng), TEST.font(rng.choice(["sans", "condensed"]), 34, rng, bold=True)
    if clean:
        p.text((30, 24), rng.choice(["OPEN AIR FESTIVAL", "CITY HALL CONCERTS", "STADIUM TOUR"]),
               TEST.font("sans", 36, rng, bold=True), (255, 255, 255))
        for i, (k, v) in enumerate([("GATE", rng.choice("ABCD")), ("ROW", str(rng.randint(1, 40))),
                                    ("SEAT", str(rng.randint(1, 60))), ("DOORS", f"{rng.randint(17, 20)}:30")]):
            p.text((40 + i * 220, 150), k, lab, (90, 90, 90))
            p.text((40 + i * 220, 176), v, val, (20, 20, 20))
        content = f"https://tickets.example.com/t/{rng.randint(10**8, 10**9)}"
        fmt = zxingcpp.BarcodeFormat.QRCode
    else:
        first, last = TEST.person(rng)
        name = f"{last.upper().replace(' ', '')}/{first.upper()}"
        src, dst = rng.sample(["ARN", "LHR", "MAD", "FCO", "VIE", "ZRH", "SYD", "BOS", "DEN", "ORD"], 2)
        carrier = rng.choice(["SK", "BA", "IB", "AZ", "OS", "LX", "QF", "UA"])
        flight, seat = f"{rng.randint(10, 9999):04d}", f"{rng.randint(1, 45):03d}{rng.choice('ABCDEF')}"
        pnr = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        content = (f"M1{name:<20}E{pnr:<7}{src}{dst}{carrier:<3}{flight:<5}{rng.randint(1, 365):03d}Y{seat}"
                   f"{rng.randint(1, 300):05d}100")
        p.text((30, 24), "BOARDING PASS", TEST.font("sans", 36, rng, bold=True), (255, 255, 255))
        p.text((40, 120), "PASSENGER", lab, (90, 90, 90))
        p.text((40, 146), name + rng.choice([" MR", " MS", ""]), val, (20, 20, 20), "PERSON")
        for i, (k, v) in enumerate([("FROM", src), ("TO", dst), ("FLIGHT", f"{carrier}{flight}"), ("SEAT", seat[1:]),
                                    ("BOOKING REF", pnr)]):
            p.text((40 + i * 180, 230), k, lab, (90, 90, 90))
            p.text((40 + i * 180, 256), v, val, (20, 20, 20))
        fmt = rng.choice([zxingcpp.BarcodeFormat.PDF417, zxingcpp.BarcodeFormat.Aztec])
    code = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(content, fmt), scale=3 if fmt == zxingcpp.BarcodeFormat.PDF417 else 5)
    img = Image.fromarray(np.asarray(code)).convert("RGB")
    if img.width > w - 80:
        img = img.resize((w - 80, int(img.height * (w - 80) / img.width)), Image.NEAREST)
    if fmt == zxingcpp.BarcodeFormat.PDF417:
        bx, by = 40, h - img.height - 30
    else:
        bx, by = w - img.width - 60, 130
    p.img.paste(img, (bx, by))
    if not clean:
        p.label("PERSON", [bx, by, bx + img.width, by + img.height], name, "barcode")
    return p.scene("boarding-pass" if not clean else "ticket")
