"""Documents: letters, invoices, HR forms, IT tickets (dev, manifest version 1) and the widened forms."""

from __future__ import annotations

import random

from bench.corpus import (COMPANIES, DEV, TEST, Page, Scene, Seg, _rgb_jitter, address, birth_date, card, dob_text,
                          email_for, font, iban, person, phone, public_ip, ssn)

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
         "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip.")


def _doc_page(rng: random.Random, w: int = 1240, h: int = 1600) -> tuple[Page, str, int]:
    bg = _rgb_jitter(rng, (252, 252, 250), 3)
    return Page(rng.randint(w - 140, w + 60), rng.randint(h - 200, h), bg), rng.choice(["sans", "serif"]), \
        rng.randint(14, 22)


def letter(rng: random.Random, clean: bool) -> Scene:
    p, fam, size = _doc_page(rng)
    f, fb, small = font(fam, size, rng), font("sans-bold", size + 8, rng), font(fam, max(12, size - 4), rng)
    ink, lh, x, y = (20, 20, 30), int(size * 1.5), 80, 60
    company = rng.choice(COMPANIES)
    p.text((x, y), company, fb, (30, 60, 120))
    y += size * 3
    if clean:
        p.text((x, y), "Customer Services - support@example.com", small, ink)
        y += lh * 2
        y = p.flow(x, y, p.img.width - 2 * x, [("Dear Customer,", None)], f, ink, lh) + lh
        body = [("Thank you for your order ORD-2024-" + str(rng.randint(10000, 99999)) + ". Your reference number "
                 "is " + card(rng, valid=False).replace(" ", "").replace("-", "") + " and version " + f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
                 " of the software is now available. " + LOREM, None)]
        y = p.flow(x, y, p.img.width - 2 * x, body, f, ink, lh) + lh
        p.flow(x, y, p.img.width - 2 * x, [("Kind regards, The Support Team", None)], f, ink, lh)
        return p.scene("paper")
    sender, recipient = person(rng), person(rng)
    s_name, r_name = " ".join(sender), " ".join(recipient)
    for seg in ([(s_name, "PERSON")], [(address(rng), "LOCATION")],
                [("Tel: ", None), (phone(rng), "PHONE_NUMBER")], [(email_for(rng, *sender), "EMAIL_ADDRESS")]):
        p.line(x, y, seg, small, ink)
        y += int(lh * 0.9)
    y += lh
    p.line(x, y, [(r_name, "PERSON")], f, ink)
    y += lh
    p.line(x, y, [(address(rng), "LOCATION")], f, ink)
    y += lh * 2
    y = p.flow(x, y, p.img.width - 2 * x, [("Dear ", None), (recipient[0], "PERSON"), (",", None)], f, ink, lh) + lh
    body: list[Seg] = [("Following our conversation last week, I am sending the details you asked for. ", None)]
    extras = rng.sample(["phone", "email", "card", "iban", "ssn", "dob"], k=rng.randint(2, 3))
    for e in extras:
        if e == "phone":
            body += [("You can reach me on my mobile at ", None), (phone(rng), "PHONE_NUMBER"), (". ", None)]
        elif e == "email":
            body += [("Please reply to my private address ", None), (email_for(rng, *sender), "EMAIL_ADDRESS"),
                     (" instead of the office one. ", None)]
        elif e == "card":
            body += [("The deposit was charged to my card ", None), (card(rng), "CREDIT_CARD"), (". ", None)]
        elif e == "iban":
            body += [("Please transfer the refund to ", None), (iban(rng), "IBAN_CODE"), (". ", None)]
        elif e == "ssn":
            body += [("For the tax form, my social security number is ", None), (ssn(rng), "US_SSN"), (". ", None)]
        else:
            body += [("My date of birth is ", None), (dob_text(rng, birth_date(rng)), "DATE_OF_BIRTH"), (". ", None)]
    body.append((LOREM[: rng.randint(60, 200)], None))
    y = p.flow(x, y, p.img.width - 2 * x, body, f, ink, lh) + lh
    y = p.flow(x, y, p.img.width - 2 * x, [("Yours sincerely,", None)], f, ink, lh) + lh // 2
    p.line(x, y, [(s_name, "PERSON")], f, ink)
    return p.scene("paper")


def _table_row(p: Page, x: int, y: int, label: str, value: str, entity: str | None, f, fb, col: int,
               box_w: int, ink) -> None:
    p.text((x, y + 6), label, fb, ink)
    p.draw.rectangle([x + col, y, x + col + box_w, y + f.size + 14], outline=(150, 150, 160))
    p.text((x + col + 8, y + 6), value, f, (10, 10, 60), entity)


def hr_form(rng: random.Random, clean: bool) -> Scene:
    p, fam, size = _doc_page(rng, 1240, 1500)
    f, fb, fh = font(fam, size, rng), font("sans-bold", max(12, size - 2), rng), font("sans-bold", size + 10, rng)
    ink, x, y = (25, 25, 25), 70, 60
    p.text((x, y), rng.choice(["Employee Onboarding Form", "New Hire Information", "Personal Data Sheet"]), fh, ink)
    y += size * 3
    p.text((x, y), f"{rng.choice(COMPANIES)} - Human Resources - Form HR-{rng.randint(100, 999)}", f, (90, 90, 90))
    y += size * 3
    first, last = person(rng)
    rows = [
        ("Full name", f"{first} {last}", "PERSON"),
        ("Date of birth", dob_text(rng, birth_date(rng)), "DATE_OF_BIRTH"),
        ("Social Security No.", ssn(rng), "US_SSN"),
        ("Home address", address(rng), "LOCATION"),
        ("Mobile phone", phone(rng), "PHONE_NUMBER"),
        ("Personal email", email_for(rng, first, last), "EMAIL_ADDRESS"),
        ("Bank account (IBAN)", iban(rng), "IBAN_CODE"),
        ("Corporate card", card(rng), "CREDIT_CARD"),
        ("Employee ID", f"EMP-{rng.randint(10000, 99999)}", None),
        ("Department", rng.choice(["Finance", "Engineering", "Sales", "Legal"]), None),
    ]
    if clean:
        rows = [("Full name", "Your Name Here", None), ("Date of birth", "DD/MM/YYYY", None),
                ("Social Security No.", "XXX-XX-XXXX", None), ("Verified SSN", "***-**-" + f"{rng.randint(1000, 9999)}", None),
                ("Personal email", rng.choice(["name@example.com", "jane.doe@example.com", "user@example.org"]), None),
                ("Card on file", "**** **** **** " + f"{rng.randint(1000, 9999)}", None),
                ("Employee ID", f"EMP-{rng.randint(10000, 99999)}", None),
                ("Order number", card(rng, valid=False).replace(" ", "").replace("-", ""), None),
                ("Department", rng.choice(["Finance", "Engineering", "Sales", "Legal"]), None)]
    rng.shuffle(rows)
    col = int(fb.getlength("Social Security No.") + 30)
    for label, value, ent in rows:
        _table_row(p, x, y, label, value, ent, f, fb, col, p.img.width - 2 * x - col, ink)
        y += size + 34
    y += size
    p.flow(x, y, p.img.width - 2 * x, [("I confirm that the information above is correct. " + LOREM[:120], None)],
           font(fam, max(12, size - 4), rng), ink, int(size * 1.3))
    return p.scene("paper")


def invoice(rng: random.Random, clean: bool) -> Scene:
    p, fam, size = _doc_page(rng, 1240, 1400)
    f, fb = font(fam, size, rng), font("sans-bold", size + 12, rng)
    ink, lh, x, y = (30, 30, 30), int(size * 1.45), 70, 60
    p.text((x, y), "INVOICE", fb, (40, 40, 100))
    p.text((p.img.width - 420, y + 8), f"No. INV-{rng.randint(2019, 2025)}-{rng.randint(1000, 9999)}", f, ink)
    y += size * 4
    p.text((x, y), rng.choice(COMPANIES), font("sans-bold", size, rng), ink)
    y += lh * 2
    p.text((x, y), "Bill to:", font("sans-bold", size, rng), ink)
    y += lh
    if clean:
        for s in ["Accounts Payable", "Purchase order PO-" + str(rng.randint(100000, 999999)), "billing@example.com"]:
            p.text((x, y), s, f, ink)
            y += lh
    else:
        first, last = person(rng)
        p.line(x, y, [(f"{first} {last}", "PERSON")], f, ink)
        y += lh
        p.line(x, y, [(address(rng), "LOCATION")], f, ink)
        y += lh
        p.line(x, y, [(email_for(rng, first, last), "EMAIL_ADDRESS")], f, ink)
        y += lh
        p.line(x, y, [("Phone: ", None), (phone(rng), "PHONE_NUMBER")], f, ink)
        y += lh
    y += lh
    p.draw.line([x, y, p.img.width - x, y], fill=(120, 120, 120), width=2)
    y += 10
    total = 0.0
    for _ in range(rng.randint(3, 6)):
        item = rng.choice(["Consulting hours", "Software licence (annual)", "Support plan", "Hardware - laptop",
                           "Training workshop", "Cloud credits"])
        qty, price = rng.randint(1, 12), rng.randint(20, 900) + 0.5
        total += qty * price
        p.text((x, y), f"SKU-{rng.randint(1000, 9999)}  {item}", f, ink)
        p.text((p.img.width - 420, y), f"{qty} x {price:.2f}", f, ink)
        p.text((p.img.width - 200, y), f"{qty * price:.2f}", f, ink)
        y += lh
    p.draw.line([x, y, p.img.width - x, y], fill=(120, 120, 120), width=2)
    y += 10
    p.text((p.img.width - 420, y), f"Total EUR {total:.2f}", font("sans-bold", size, rng), ink)
    y += lh * 2
    if clean:
        p.line(x, y, [("Paid with card ending **** **** **** " + f"{rng.randint(1000, 9999)}", None)], f, ink)
        y += lh
        p.line(x, y, [("Tracking: " + card(rng, valid=False), None)], f, ink)
    elif rng.random() < 0.5:
        p.line(x, y, [("Paid by card ", None), (card(rng), "CREDIT_CARD")], f, ink)
    else:
        p.line(x, y, [("Please pay by bank transfer to IBAN ", None), (iban(rng), "IBAN_CODE")], f, ink)
    return p.scene("paper")


def it_ticket(rng: random.Random, clean: bool) -> Scene:
    p, fam, size = _doc_page(rng, 1300, 1000)
    f, fb = font(fam, size, rng), font("sans-bold", size + 6, rng)
    ink, lh, x, y = (20, 20, 20), int(size * 1.5), 60, 50
    p.text((x, y), f"Incident INC{rng.randint(100000, 999999)} - Suspicious login", fb, ink)
    y += lh * 2
    first, last = person(rng)
    rows: list[list[Seg]] = [
        [("Reporter: ", None), (f"{first} {last}", "PERSON")],
        [("Contact: ", None), (email_for(rng, first, last), "EMAIL_ADDRESS"), (" / ", None), (phone(rng), "PHONE_NUMBER")],
        [("Source IP: ", None), (public_ip(rng), "IP_ADDRESS")],
        [("Also seen from ", None), (public_ip(rng), "IP_ADDRESS"), (" and ", None), (public_ip(rng), "IP_ADDRESS")],
        [(f"Priority: P2   Status: open   Asset: LT-{rng.randint(1000, 9999)}", None)],
    ]
    for segs in rows:
        p.line(x, y, segs, f, ink)
        y += lh
    y += lh
    p.flow(x, y, p.img.width - 2 * x, [("The user reported repeated MFA prompts. Sessions were revoked and the "
                                        "password was reset. " + LOREM[:100], None)], f, ink, lh)
    return p.scene("paper")




# --------------------------------------------------------------------------------------------- widened

def shipping_label(rng: random.Random, clean: bool) -> Scene:
    """A 4x6 parcel label: sender and recipient blocks (name, street line, city/postcode line), tracking barcode."""
    import zxingcpp
    import numpy as np
    from PIL import Image

    w, h = 1200, 1800
    p = Page(w, h, _rgb_jitter(rng, (252, 252, 250), 3))
    f, fb = DEV.pair(rng.choice(["sans", "condensed", "mono"]), rng.randint(30, 44), rng)
    small = DEV.font("sans", 26, rng)
    ink = (10, 10, 10)
    p.draw.rectangle([20, 20, w - 20, h - 20], outline=ink, width=6)
    p.text((50, 50), rng.choice(["PRIORITY", "EXPRESS", "STANDARD", "ECONOMY"]),
           DEV.font("sans", 70, rng, bold=True), ink)
    p.draw.line([20, 170, w - 20, 170], fill=ink, width=4)

    def block(y: int, title: str, name: str | None, lines: tuple[str, str] | None, fnt) -> int:
        p.text((50, y), title, small, ink)
        y += 44
        if name is None or lines is None:
            for t in ["Recipient name", "Street address", "City, ST ZIP"]:
                p.text((70, y), t, fnt, (120, 120, 120))
                y += int(fnt.size * 1.4)
            return y
        p.text((70, y), name, fnt, ink, "PERSON")
        y += int(fnt.size * 1.4)
        for t in lines:
            p.text((70, y), t, fnt, ink, "LOCATION")
            y += int(fnt.size * 1.4)
        return y

    if clean:
        y = block(200, "FROM:", None, None, small)
        y = block(y + 40, "SHIP TO:", None, None, f)
        p.text((70, y + 20), "SAMPLE LABEL - NOT FOR SHIPPING", fb, (150, 30, 30))
    else:
        sender = f"{DEV.company(rng)}"
        y = 200
        p.text((50, y), "FROM:", small, ink)
        p.text((70, y + 44), sender, small, ink)
        s1, s2 = DEV.address(rng)
        p.text((70, y + 80), s1, small, ink, "LOCATION")
        p.text((70, y + 116), s2, small, ink, "LOCATION")
        first, last = DEV.person(rng)
        y = block(y + 200, "SHIP TO:", f"{first} {last}".upper(), tuple(t.upper() for t in DEV.address(rng)), fb)
        p.text((70, y + 10), "Tel ", small, ink)
        p.text((70 + small.getlength("Tel "), y + 10), DEV.phone(rng), small, ink, "PHONE_NUMBER")
    tracking = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    code = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(tracking, zxingcpp.BarcodeFormat.Code128),
                                           scale=4)
    bc = Image.fromarray(np.asarray(code)).convert("RGB").resize((w - 200, 260))
    p.img.paste(bc, (100, h - 420))
    p.text((100, h - 140), f"TRACKING #: {tracking[:2]} {tracking[2:8]} {tracking[8:]}", small, ink)
    return p.scene("label")


def _digit_boxes(p: Page, x: float, y: float, value: str, f, ink, box_ink, cell: int) -> None:
    """One digit per box, with gaps where the value has separators (a paper SSN field)."""
    for ch in value:
        if ch == "-":
            x += cell // 2
            continue
        p.draw.rectangle([x, y, x + cell, y + cell + 8], outline=box_ink, width=2)
        p.text((x + (cell - f.getlength(ch)) / 2, y + 4), ch, f, ink)
        x += cell + 4


def tax_form(rng: random.Random, clean: bool) -> Scene:
    """A tax form: numbered boxes for name, business name, address lines, the SSN in digit boxes, a signature."""
    w, h = 1275, 1650
    p = Page(w, h, _rgb_jitter(rng, (255, 255, 253), 2))
    f, fb = TEST.pair_xh(rng.choice(["sans", "serif", "condensed"]), rng.uniform(7, 11), rng)
    entry = TEST.font(rng.choice(["mono", "sans"]), int(f.size * 1.35), rng)
    ink, box = (10, 10, 10), (60, 60, 60)
    blue = (10, 30, 130)
    title = TEST.font("sans", 46, rng, bold=True)
    p.text((50, 40), f"Form W-{rng.randint(4, 9)}", title, ink)
    tx = 90 + int(title.getlength("Form W-9"))
    p.text((tx, 50), "Request for Taxpayer Identification Number and Certification", fb, ink)
    p.text((tx, 50 + int(fb.size * 1.6)), f"(Rev. {rng.choice(['October', 'March'])} {rng.randint(2018, 2025)})", f, ink)
    p.draw.line([40, 150, w - 40, 150], fill=ink, width=3)
    first, last = TEST.person(rng)
    street, city = TEST.address(rng, "US")
    y = 170
    row_h = int(f.size * 2.1 + entry.size * 1.4)
    for num, label, value, ent in [("1", "Name (as shown on your income tax return)", f"{first} {last}", "PERSON"),
                                   ("2", "Business name, if different from above", "", None),
                                   ("5", "Address (number, street, and apt. or suite no.)", street, "LOCATION"),
                                   ("6", "City, state, and ZIP code", city, "LOCATION")]:
        p.draw.rectangle([40, y, w - 40, y + row_h], outline=box, width=1)
        p.text((50, y + 6), f"{num}  {label}", f, ink)
        if value and not clean:
            p.text((80, y + int(f.size * 1.9)), value, entry, blue, ent)
        y += row_h
    y += 30
    p.text((50, y), "Part I  Taxpayer Identification Number (TIN)", fb, ink)
    y += int(fb.size * 2)
    p.text((50, y), "Social security number", f, ink)
    cell = int(entry.size * 1.1)
    if clean:
        _digit_boxes(p, 60, y + int(f.size * 1.8), "   -  -    ", entry, blue, box, cell)
    else:
        value = ssn(rng)
        mark = p.mark()
        _digit_boxes(p, 60, y + int(f.size * 1.8), value, entry, blue, box, cell)
        p.label_since(mark, "US_SSN", value)
    y += int(f.size * 1.8) + cell + 60
    p.flow(50, y, w - 100, [("Under penalties of perjury, I certify that the number shown on this form is my correct "
                             "taxpayer identification number and that I am not subject to backup withholding.", None)],
           f, ink, int(f.size * 1.6))
    y += int(f.size * 6)
    p.text((50, y), "Sign Here", fb, ink)
    p.draw.line([220, y + fb.size + 6, 800, y + fb.size + 6], fill=ink, width=1)
    if not clean:
        hand = TEST.font("hand", int(f.size * 3), rng)
        p.text((240, y + fb.size - hand.size), f"{first} {last}", hand, blue, "PERSON")
    p.text((840, y), f"Date  {rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2026", f, ink)
    p.crop(h=y + 120)
    return p.scene("tax-form")


def bank_letter(rng: random.Random, clean: bool) -> Scene:
    """A bank's letter: window-envelope address block (name, street, city/postcode) in the country's order, the
    customer's spaced IBAN and card ending, a hotline."""
    w, h = 1240, 1754
    p = Page(w, h, _rgb_jitter(rng, (253, 253, 251), 2))
    f, fb = TEST.pair_xh(rng.choice(["serif", "serif", "sans"]), rng.uniform(7, 12), rng)
    ink = (25, 25, 35)
    lh = int(f.size * 1.55)
    bank = rng.choice(["Banco Meridiano", "Alpenbank AG", "Northfield Savings", "Banca Tirrena", "Harbour Bank"])
    logo = TEST.font("serif", 40, rng, bold=True)
    p.text((90, 70), bank, logo, (20, 50, 110))
    p.draw.line([90, 140, w - 90, 140], fill=(20, 50, 110), width=3)
    first, last = TEST.person(rng)
    country = rng.choice(TEST.vocab.countries)
    street, city = TEST.address(rng, country)
    y = 230
    if clean:
        for t in ["To all customers", "Information notice", "Reference: general"]:
            p.text((110, y), t, f, ink)
            y += lh
    else:
        p.line(110, y, [(rng.choice(["Mr ", "Ms ", "Mx ", ""]), None), (f"{first} {last}", "PERSON")], f, ink)
        y += lh
        p.text((110, y), street, f, ink, "LOCATION")
        y += lh
        p.text((110, y), city, f, ink, "LOCATION")
        y += lh
    y += lh * 3
    p.text((w - 420, y), f"{rng.randint(1, 28)} {rng.choice(['March', 'April', 'May'])} 2026", f, ink)
    y += lh * 2
    p.text((90, y), rng.choice(["Changes to your account terms", "Your new debit card", "Annual account statement"]),
           fb, ink)
    y += lh * 2
    body: list[Seg] = [("Dear customer, ", None)]
    if clean:
        body += [("we are updating our general terms and conditions. The changes take effect in two months. "
                  "You do not need to do anything. ", None)]
    else:
        body += [("the account ", None), (TEST.iban(rng), "IBAN_CODE"),
                 (" will move to our new platform. Your card ending in ", None),
                 (str(rng.randint(1000, 9999)), None), (" stays valid. Questions? Call us on ", None),
                 (TEST.phone(rng), "PHONE_NUMBER"), (". ", None)]
    body.append((LOREM[:rng.randint(100, 250)], None))
    y = p.flow(90, y, w - 180, body, f, ink, lh) + lh
    p.text((90, y), "Kind regards,", f, ink)
    p.text((90, y + lh * 3), f"{bank} - Customer Care", f, ink)
    p.crop(h=int(y + lh * 6))
    return p.scene("letterhead")
