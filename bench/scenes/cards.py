"""Business cards: a single card (dev) and a card's front and back side by side, sometimes with a vCard QR code
on the back (test)."""

from __future__ import annotations

import random

import numpy as np
import zxingcpp
from PIL import Image

from bench.corpus import DEV, TEST, Page, Scene, _rgb_jitter

_TITLES = ["Account Manager", "Senior Engineer", "Head of Sales", "Chief Financial Officer", "Data Protection Officer",
           "Partner", "Physiotherapist", "Attorney at Law", "Product Designer"]


def business_card(rng: random.Random, clean: bool) -> Scene:
    """A landscape card: name, title, company, e-mail, phones and a two-line address, on a light or dark stock."""
    dark = rng.random() < 0.35
    stock = _rgb_jitter(rng, (34, 38, 48) if dark else (250, 248, 244), 8)
    ink = (235, 235, 235) if dark else (30, 30, 35)
    accent = _rgb_jitter(rng, rng.choice([(200, 60, 50), (40, 110, 180), (30, 140, 100), (190, 150, 40)]), 20)
    w, h = rng.choice([(1050, 600), (1000, 580), (1100, 640)])
    p = Page(w, h, stock)
    role = rng.choice(["sans", "serif", "condensed"])
    big = DEV.font(role, rng.randint(34, 60), rng, bold=True)
    f = DEV.pair_xh(role, rng.uniform(9, 16), rng)[0]
    company = DEV.company(rng)
    p.draw.rectangle([0, h - 24, w, h], fill=accent)
    p.text((60, 50), company.upper(), DEV.font("sans", 22, rng, bold=True), accent)
    if clean:
        p.text((60, 150), rng.choice(["Reception & Bookings", "Customer Service", "Visitor Centre"]), big, ink)
        p.text((60, 150 + int(big.size * 1.6)), f"www.{company.split()[0].lower()}.example", f, ink)
        p.text((60, 150 + int(big.size * 1.6) + int(f.size * 2)), "Open Mon-Fri 9:00-17:30", f, ink)
        return p.scene("card-dark" if dark else "card-light")
    first, last = DEV.person(rng)
    p.text((60, 140), f"{first} {last}", big, ink, "PERSON")
    y = 140 + int(big.size * 1.4)
    p.text((60, y), rng.choice(_TITLES), f, accent)
    y += int(f.size * 2.6)
    lh = int(f.size * 1.7)
    for label, value, ent in [("E ", DEV.email(rng, first, last), "EMAIL_ADDRESS"), ("M ", DEV.phone(rng), "PHONE_NUMBER"),
                              ("T ", DEV.phone(rng), "PHONE_NUMBER")][:rng.randint(2, 3)]:
        p.text((60, y), label, f, accent)
        p.text((60 + f.getlength("MM "), y), value, f, ink, ent)
        y += lh
    street, city = DEV.address(rng)
    x = max(w // 2 + 40, int(60 + f.getlength("MM ") + max(f.getlength(t.text) for t in p.texts[-2:]) + 60))
    if x + f.getlength(street) < w - 30 and x + f.getlength(city) < w - 30:
        p.text((x, y - 2 * lh), street, f, ink, "LOCATION")
        p.text((x, y - lh), city, f, ink, "LOCATION")
    else:
        p.text((60, y), street, f, ink, "LOCATION")
        p.text((60, y + lh), city, f, ink, "LOCATION")
    return p.scene("card-dark" if dark else "card-light")


def card_pair(rng: random.Random, clean: bool) -> Scene:
    """A portrait card's front (logo, company) and back (contact details, optional vCard QR) side by side."""
    cw, ch = rng.choice([(560, 900), (600, 980)])
    stock = _rgb_jitter(rng, rng.choice([(255, 255, 255), (244, 240, 232), (230, 236, 244), (28, 28, 30)]), 6)
    ink = (240, 240, 240) if sum(stock) < 200 else (25, 25, 30)
    accent = _rgb_jitter(rng, rng.choice([(120, 40, 160), (0, 120, 140), (210, 90, 20)]), 25)
    role = rng.choice(["sans", "serif", "condensed"])
    company = TEST.company(rng)
    front = Page(cw, ch, accent)
    tf = TEST.font(role, 46, rng, bold=True)
    for k, word in enumerate(company.split()):
        front.text(((cw - tf.getlength(word)) / 2, ch / 2 - 60 + k * 60), word, tf, (255, 255, 255))
    back = Page(cw, ch, stock)
    f = TEST.pair_xh(role, rng.uniform(9, 15), rng)[0]
    lh = int(f.size * 1.8)
    y = 80
    if clean:
        for t in ["General enquiries", f"www.{company.split()[0].lower()}.example", "Mon-Fri 08:00-18:00"]:
            back.text((50, y), t, f, ink)
            y += lh
    else:
        first, last = TEST.person(rng)
        nf = TEST.font(role, int(f.size * 2.2), rng, bold=True)
        back.text((50, y), first, nf, ink, "PERSON")
        back.text((50, y + int(nf.size * 1.2)), last, nf, ink, "PERSON")
        y += int(nf.size * 2.8)
        back.text((50, y), rng.choice(_TITLES), f, accent)
        y += lh * 2
        mail, tel = TEST.email(rng, first, last), TEST.phone(rng)
        street, city = TEST.address(rng)
        for value, ent in [(mail, "EMAIL_ADDRESS"), (tel, "PHONE_NUMBER"), (street, "LOCATION"), (city, "LOCATION")]:
            if 50 + f.getlength(value) > cw - 20:
                continue
            back.text((50, y), value, f, ink, ent)
            y += lh
        if rng.random() < 0.5:
            vcard = f"BEGIN:VCARD\nVERSION:3.0\nN:{last};{first}\nFN:{first} {last}\nTEL:{tel}\nEMAIL:{mail}\nEND:VCARD"
            code = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(vcard, zxingcpp.BarcodeFormat.QRCode), scale=4)
            qr = Image.fromarray(np.asarray(code)).convert("RGB")
            qx, qy = (cw - qr.width) // 2, ch - qr.height - 50
            if qy > y + 10:
                back.img.paste(qr, (qx, qy))
                back.label("EMAIL_ADDRESS", [qx, qy, qx + qr.width, qy + qr.height], mail, "barcode")
                back.label("PHONE_NUMBER", [qx, qy, qx + qr.width, qy + qr.height], tel, "barcode")
    table = _rgb_jitter(rng, rng.choice([(90, 70, 50), (200, 200, 205), (60, 60, 66)]), 10)
    gap = rng.randint(40, 120)
    page = Page(cw * 2 + gap + 120, ch + 120, table)
    page.paste(front, (60, 60))
    page.paste(back, (60 + cw + gap, 60))
    return page.scene("card-pair")
