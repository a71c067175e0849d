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


