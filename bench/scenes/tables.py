"""Tables: dense spreadsheets and payment sheets with IBANs split across cells (dev), CRM exports and paper bank
forms (test)."""

from __future__ import annotations

import random

from bench.corpus import DEV, TEST, Page, Scene, _rgb_jitter, card, ink_for, ssn

_SHEET_THEMES = {  # name: (background, grid, header fill, ink)
    "sheet-light": ((255, 255, 255), (212, 212, 212), (240, 240, 240), (30, 30, 30)),
    "sheet-dark": ((30, 30, 32), (62, 62, 66), (45, 45, 48), (220, 220, 220)),
    "sheet-lowcontrast": ((250, 250, 250), (225, 225, 225), (244, 244, 244), None),
}


def _sheet_rows(rng: random.Random, clean: bool, n: int) -> tuple[list[str], list[list[tuple[str, str | None]]]]:
    if clean:
        header = ["SKU", "Product", "Warehouse", "Qty", "Unit price", "Order"]
        rows = [[(f"SKU-{rng.randint(10000, 99999)}", None),
                 (rng.choice(["USB-C cable 2m", "Desk lamp", "Monitor arm", "Laptop stand", "HDMI adapter",
                              "Office chair", "Webcam HD", "Keyboard (DE)", "Mouse pad XL"]), None),
                 (rng.choice(["North", "South", "East", "Central"]), None), (str(rng.randint(1, 400)), None),
                 (f"{rng.randint(3, 900)}.{rng.randint(0, 99):02d}", None),
                 (f"PO-{rng.randint(2020, 2026)}-{rng.randint(1000, 9999)}", None)] for _ in range(n)]
        return header, rows
    cols = rng.choice([["name", "email", "ssn", "dept"], ["name", "email", "card", "amount"],
                       ["name", "ssn", "card", "email"], ["name", "email", "phone", "ssn"]])
    titles = {"name": "Full name", "email": "E-mail", "ssn": "SSN", "card": "Card number", "phone": "Phone",
              "dept": "Department", "amount": "Amount"}
    rows = []
    for _ in range(n):
        first, last = DEV.person(rng)
        cells = {"name": (f"{first} {last}", "PERSON"), "email": (DEV.email(rng, first, last), "EMAIL_ADDRESS"),
                 "ssn": (ssn(rng), "US_SSN"), "card": (card(rng), "CREDIT_CARD"), "phone": (DEV.phone(rng), "PHONE_NUMBER"),
                 "dept": (rng.choice(["Finance", "Sales", "R&D", "Legal", "Support", "Ops"]), None),
                 "amount": (f"{rng.randint(20, 4000)}.{rng.randint(0, 99):02d}", None)}
        rows.append([cells[c] for c in cols])
    return [titles[c] for c in cols], rows


def spreadsheet(rng: random.Random, clean: bool) -> Scene:
    """A spreadsheet window: ribbon, formula bar, lettered columns, 15-25 numbered rows in small print."""
    theme = rng.choice(list(_SHEET_THEMES))
    bg, grid, head, ink = _SHEET_THEMES[theme]
    if ink is None:
        ink = ink_for(rng, bg, (2.6, 3.6))
    n = rng.randint(15, 25)
    header, rows = _sheet_rows(rng, clean, n)
    f, fb = DEV.pair_xh(rng.choice(["sans", "sans", "condensed"]), rng.uniform(6, 9), rng)
    pad, rh = 6, int(f.size * 1.7)
    widths = [int(max(fb.getlength(h), *(f.getlength(r[i][0]) for r in rows))) + 2 * pad + 6
              for i, h in enumerate(header)]
    gutter = int(f.getlength("000")) + 2 * pad
    w = max(900, gutter + sum(widths) + 80)
    top = 96
    p = Page(w, top + rh * (n + 3) + 30, bg)
    p.draw.rectangle([0, 0, w, 58], fill=_rgb_jitter(rng, (33, 115, 70) if theme != "sheet-dark" else (40, 40, 44), 6))
    p.text((16, 18), rng.choice(["Book1.xlsx", "payroll_2026.xlsx", "customers.ods", "export.csv"]),
           DEV.font("sans", 15, rng), (255, 255, 255))
    p.draw.rectangle([0, 58, w, top - 6], fill=head)
    p.text((10, 64), "fx", DEV.font("serif", 15, rng), ink)
    x0, y = gutter, top
    for ci, wd in enumerate(widths):  # column letters
        p.draw.rectangle([x0, y, x0 + wd, y + rh], fill=head, outline=grid)
        p.text((x0 + wd / 2 - 4, y + (rh - f.size) / 2 - 1), "ABCDEFGHIJ"[ci], f, ink)
        x0 += wd
    for ri, row in enumerate([[(h, None) for h in header]] + rows):
        y = top + rh * (ri + 1)
        p.draw.rectangle([0, y, gutter, y + rh], fill=head, outline=grid)
        p.text((pad, y + (rh - f.size) / 2 - 1), str(ri + 1), f, ink)
        x0 = gutter
        for (value, ent), wd in zip(row, widths):
            p.draw.rectangle([x0, y, x0 + wd, y + rh], outline=grid)
            p.text((x0 + pad, y + (rh - f.size) / 2 - 1), value, fb if ri == 0 else f, ink, ent)
            x0 += wd
    return p.scene(theme)


def payment_table(rng: random.Random, clean: bool) -> Scene:
    """A payment run: payees with their IBAN in four-character cells, one cell per group, and amounts."""
    bg = _rgb_jitter(rng, (252, 252, 252), 3)
    f, fb = DEV.pair_xh(rng.choice(["sans", "serif", "mono"]), rng.uniform(7, 12), rng)
    ink, grid = (25, 25, 25), (150, 150, 160)
    rh, pad = int(f.size * 2.0), 8
    n = rng.randint(5, 9)
    cell = int(f.getlength("WWWW")) + 2 * pad
    name_w = int(f.getlength("Valentina Papadopoulos")) + 2 * pad
    w = 60 + name_w + cell * 7 + 200
    p = Page(w, 200 + rh * (n + 2), bg)
    title = "Payment run - SEPA credit transfers" if not clean else "Payment run - template"
    p.text((40, 36), title, DEV.font("sans", int(f.size * 1.6), rng, bold=True), ink)
    p.text((40, 36 + int(f.size * 2.4)), f"{DEV.company(rng)} - batch {rng.randint(1000, 9999)}", f, (90, 90, 90))
    y = 130
    x = 40
    for label, wd in (("Payee", name_w), ("IBAN", cell * 7), ("Amount EUR", 160)):
        p.draw.rectangle([x, y, x + wd, y + rh], fill=(232, 236, 242), outline=grid)
        p.text((x + pad, y + (rh - f.size) / 2), label, fb, ink)
        x += wd
    for _ in range(n):
        y += rh
        x = 40
        p.draw.rectangle([x, y, x + name_w, y + rh], outline=grid)
        if clean:
            p.text((x + pad, y + (rh - f.size) / 2), rng.choice(["Supplier name", "Payee", "-"]), f, (120, 120, 120))
            groups = ["XXXX"] * rng.randint(5, 6)
        else:
            first, last = DEV.person(rng)
            p.text((x + pad, y + (rh - f.size) / 2), f"{first} {last}", f, ink, "PERSON")
            value = DEV.iban(rng)
            groups = value.split(" ")
        x += name_w
        mark = p.mark()
        for k in range(7):
            p.draw.rectangle([x, y, x + cell, y + rh], outline=grid)
            if k < len(groups):
                p.text((x + pad, y + (rh - f.size) / 2), groups[k], f, ink)
            x += cell
        if not clean:
            p.label_since(mark, "IBAN_CODE", value)
        p.draw.rectangle([x, y, x + 160, y + rh], outline=grid)
        p.text((x + pad, y + (rh - f.size) / 2), f"{rng.randint(50, 9000)}.{rng.randint(0, 99):02d}", f, ink)
    return p.scene("sheet-light")


_CRM_THEMES = {  # name: (page, header band, header ink, zebra, ink, accent)
    "crm-light": ((246, 247, 249), (52, 64, 84), (255, 255, 255), (255, 255, 255), (40, 44, 52), (37, 99, 235)),
    "crm-dark": ((17, 24, 39), (31, 41, 55), (229, 231, 235), (24, 32, 47), (209, 213, 219), (96, 165, 250)),
    "crm-pastel": ((253, 250, 245), (233, 225, 210), (60, 50, 40), (248, 243, 235), (70, 60, 50), (180, 90, 40)),
}


def crm_table(rng: random.Random, clean: bool) -> Scene:
    """A web CRM's customer list: avatar initials, zebra rows, status pills, 15-25 rows."""
    theme = rng.choice(list(_CRM_THEMES))
    page, band, band_ink, zebra, ink, accent = _CRM_THEMES[theme]
    f, fb = TEST.pair_xh(rng.choice(["sans", "sans", "condensed"]), rng.uniform(6, 9.5), rng)
    n = rng.randint(15, 25)
    rh, pad = int(f.size * 2.1), 10
    cols = rng.choice([["name", "email", "card", "status"], ["name", "ssn", "email", "status"],
                       ["name", "email", "phone", "card"], ["name", "ssn", "phone", "email"]])
    rows = []
    for _ in range(n):
        if clean:
            rows.append({"name": (f"Account #{rng.randint(10000, 99999)}", None),
                         "email": (rng.choice(["(none)", "hidden", "-"]), None),
                         "card": ("**** **** **** " + f"{rng.randint(1000, 9999)}", None),
                         "ssn": ("***-**-" + f"{rng.randint(1000, 9999)}", None),
                         "phone": ("hidden", None),
                         "status": (rng.choice(["Active", "Trial", "Churned"]), None)})
            continue
        first, last = TEST.person(rng)
        rows.append({"name": (f"{first} {last}", "PERSON"), "email": (TEST.email(rng, first, last), "EMAIL_ADDRESS"),
                     "card": (card(rng), "CREDIT_CARD"), "ssn": (ssn(rng), "US_SSN"),
                     "phone": (TEST.phone(rng), "PHONE_NUMBER"),
                     "status": (rng.choice(["Active", "Trial", "Churned", "Lead"]), None)})
    titles = {"name": "Customer", "email": "Email", "card": "Payment method", "ssn": "Tax ID (SSN)",
              "phone": "Phone", "status": "Status"}
    widths = [int(max(fb.getlength(titles[c]), *(f.getlength(r[c][0]) for r in rows))) + 2 * pad + 10 for c in cols]
    avatar = rh - 8
    w = 80 + avatar + 12 + sum(widths) + 60
    p = Page(w, 170 + rh * (n + 1) + 40, page)
    p.draw.rectangle([0, 0, w, 64], fill=band)
    p.text((28, 20), rng.choice(["Customers", "Contacts", "Accounts"]), TEST.font("sans", 22, rng, bold=True), band_ink)
    p.draw.rounded_rectangle([w - 260, 16, w - 30, 48], radius=8, fill=zebra)
    p.text((w - 248, 22), "Search...", TEST.font("sans", 15, rng), (150, 150, 150))
    y = 100
    x0 = 40 + avatar + 12
    for c, wd in zip(cols, widths):
        p.text((x0 + pad, y), titles[c], fb, accent)
        x0 += wd
    y += rh
    for i, r in enumerate(rows):
        if i % 2 == 0:
            p.draw.rectangle([30, y - 4, w - 30, y + rh - 4], fill=zebra)
        p.draw.ellipse([40, y - 1, 40 + avatar, y - 1 + avatar], fill=_rgb_jitter(rng, accent, 40))
        x0 = 40 + avatar + 12
        for c, wd in zip(cols, widths):
            value, ent = r[c]
            if c == "status":
                p.draw.rounded_rectangle([x0 + pad - 4, y - 2, x0 + pad + f.getlength(value) + 4, y + f.size + 4],
                                         radius=6, fill=_rgb_jitter(rng, zebra, 20))
            p.text((x0 + pad, y + (avatar - f.size) / 2 - 2), value, f, ink, ent)
            x0 += wd
        y += rh
    return p.scene(theme)


def bank_form(rng: random.Random, clean: bool) -> Scene:
    """A paper bank-details form: boxed fields, the IBAN one group per box, holder's address, a signature."""
    bg = _rgb_jitter(rng, (250, 249, 244), 4)
    f, fb = TEST.pair_xh(rng.choice(["sans", "serif"]), rng.uniform(8, 13), rng)
    hand = TEST.font("hand", int(f.size * 1.6), rng)
    ink, box = (20, 20, 35), (90, 90, 110)
    entry = (20, 40, 120)  # filled in by hand or typed in blue
    w, h = 1240, 1000 + int(f.size * 40)
    p = Page(w, h, bg)
    p.text((70, 50), rng.choice(["Direct debit mandate", "Bank details for salary payments", "Refund request form"]),
           TEST.font("serif", int(f.size * 2.2), rng, bold=True), ink)
    p.text((70, 50 + int(f.size * 3.2)), f"{TEST.company(rng)} - form BD-{rng.randint(10, 99)}", f, (100, 100, 100))
    y = 60 + int(f.size * 7)
    lab_w = int(fb.getlength("Street and number")) + 30
    field_h = int(f.size * 2.2)

    def field(label: str, value: str | None, ent: str | None, handwritten: bool = False) -> None:
        nonlocal y
        p.text((70, y + field_h / 2 - f.size / 2), label, fb, ink)
        p.draw.rectangle([70 + lab_w, y, w - 70, y + field_h], outline=box, width=2)
        if value:
            fv = hand if handwritten else f
            p.text((70 + lab_w + 10, y + (field_h - fv.size) / 2), value, fv, entry, ent)
        y += field_h + int(f.size * 1.2)

    first, last = TEST.person(rng)
    street, city = TEST.address(rng)
    hw = rng.random() < 0.5
    field("Account holder", None if clean else f"{first} {last}", "PERSON", hw)
    field("Street and number", None if clean else street, "LOCATION", hw)
    field("Postcode and city", None if clean else city, "LOCATION", hw)
    field("Bank", rng.choice(["Banco Santander", "Erste Bank", "UBS Switzerland", "ING Bank", "KBC Bank"]), None)
    p.text((70, y + 8), "IBAN", fb, ink)
    value = TEST.iban(rng)
    groups = value.split(" ") if not clean else [""] * 6
    n_boxes = max(len(groups), 6)
    cw = min(int(f.getlength("WWWW")) + 24, (w - 70 - (70 + lab_w)) // n_boxes - 6)
    x = 70 + lab_w
    mark = p.mark()
    for g in groups + [""] * (n_boxes - len(groups)):
        p.draw.rectangle([x, y, x + cw, y + field_h], outline=box, width=2)
        if g:
            p.text((x + 12, y + (field_h - f.size) / 2), g, f, entry)
        x += cw + 6
    if not clean:
        p.label_since(mark, "IBAN_CODE", value)
    y += field_h + int(f.size * 2)
    p.flow(70, y, w - 140, [("I authorise the payee to collect payments from the account above. I can ask my bank "
                             "for a refund within eight weeks of the debit date.", None)],
           TEST.font("serif", max(11, int(f.size * 1.1)), rng), (60, 60, 60), int(f.size * 1.9))
    y += int(f.size * 6)
    p.text((70, y), "Signature", fb, ink)
    p.draw.line([70 + lab_w, y + field_h, w - 400, y + field_h], fill=box, width=2)
    if not clean:
        p.text((70 + lab_w + 20, y + field_h - hand.size - 4), f"{first[0]}. {last}", hand, entry, "PERSON")
    p.crop(h=int(y + field_h + 80))
    return p.scene("paper-form")
