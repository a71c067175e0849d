"""Receipts: a thermal till receipt with loyalty and delivery details (dev) and a restaurant bill with a signed
card slip (test). Card numbers on receipts are masked, as printers do; the person's details are what leaks."""

from __future__ import annotations

import random

from bench.corpus import DEV, TEST, Page, Scene, _rgb_jitter, ink_for


def _items(rng: random.Random, menu: list[str], n: int) -> list[tuple[str, float]]:
    return [(rng.choice(menu), rng.randint(1, 60) + rng.choice([0, 0.49, 0.99, 0.5])) for _ in range(n)]


def receipt(rng: random.Random, clean: bool) -> Scene:
    """A narrow thermal receipt: shop header, items, totals, masked card, and (not clean) the loyalty member's
    name, phone and e-mail or a delivery address."""
    paper = _rgb_jitter(rng, (250, 248, 240), 4)
    faded = rng.random() < 0.35
    ink = ink_for(rng, paper, (2.4, 3.4)) if faded else _rgb_jitter(rng, (35, 35, 40), 8)
    f, fb = DEV.pair_xh(rng.choice(["mono", "mono", "condensed"]), rng.uniform(7, 11), rng)
    lh = int(f.size * 1.45)
    cols = 34
    w = int(f.getlength("W" * cols)) + 60
    p = Page(w, 3000, paper)
    y = 30

    def center(text: str, font=f, ent: str | None = None) -> None:
        nonlocal y
        p.text(((w - font.getlength(text)) / 2, y), text, font, ink, ent)
        y += int(font.size * 1.45)

    def row(left: str, right: str = "", ent: str | None = None, lent: str | None = None) -> None:
        nonlocal y
        p.text((30, y), left, f, ink, lent)
        if right:
            p.text((w - 30 - f.getlength(right), y), right, f, ink, ent)
        y += lh

    center(DEV.company(rng).upper(), fb)
    center(f"Store #{rng.randint(100, 999)}  Till {rng.randint(1, 12)}")
    center(f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2026 {rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}")
    y += lh // 2
    total = 0.0
    for name, price in _items(rng, ["MILK 1L", "BREAD", "COFFEE BEANS", "USB CABLE", "BATTERIES AA", "NOTEBOOK",
                                    "APPLES 1KG", "PASTA", "OLIVE OIL", "TOOTHPASTE"], rng.randint(4, 9)):
        row(name, f"{price:.2f}")
        total += price
    row("-" * 30)
    row("TOTAL", f"{total:.2f}")
    row(rng.choice(["VISA", "MASTERCARD", "AMEX"]) + " **** " + f"{rng.randint(1000, 9999)}", "APPROVED")
    row(f"AUTH {rng.randint(100000, 999999)}")
    y += lh // 2
    if clean:
        center("THANK YOU FOR SHOPPING")
        center("Returns within 30 days")
    elif rng.random() < 0.5:
        first, last = DEV.person(rng)
        p.text((30, y), "Member: ", f, ink)
        p.text((30 + f.getlength("Member: "), y), f"{first} {last}", f, ink, "PERSON")
        y += lh
        p.text((30, y), "Tel ", f, ink)
        p.text((30 + f.getlength("Tel "), y), DEV.phone(rng), f, ink, "PHONE_NUMBER")
        y += lh
        center("e-receipt sent to")
        center(DEV.email(rng, first, last), f, "EMAIL_ADDRESS")
    else:
        first, last = DEV.person(rng)
        street, city = DEV.address(rng)
        row("DELIVER TO:")
        row(f"{first} {last}", lent="PERSON")
        row(street, lent="LOCATION")
        row(city, lent="LOCATION")
    y += lh
    p.draw.rectangle([60, y, w - 60, y + 50], fill=ink)  # barcode strip
    p.crop(h=y + 90)
    return p.scene("thermal-faded" if faded else "thermal")


def restaurant_bill(rng: random.Random, clean: bool) -> Scene:
    """A restaurant bill with the card slip below: server, table, tip, the guest's signature and reservation."""
    paper = _rgb_jitter(rng, (252, 252, 250), 3)
    f, fb = TEST.pair_xh(rng.choice(["sans", "serif", "condensed"]), rng.uniform(8, 12), rng)
    ink = _rgb_jitter(rng, (30, 30, 30), 10)
    lh = int(f.size * 1.6)
    w = rng.randint(640, 780)
    p = Page(w, 3000, paper)
    title = TEST.font("serif", int(f.size * 2.2), rng, bold=True)
    name = rng.choice(["Trattoria Verde", "The Copper Pot", "Sakura House", "Bistro Lune", "Casa Alta"])
    p.text(((w - title.getlength(name)) / 2, 30), name, title, ink)
    y = 40 + int(title.size * 1.8)
    first, last = TEST.person(rng)
    server = TEST.person(rng)[0]
    p.text((40, y), f"Table {rng.randint(1, 40)}   Guests {rng.randint(1, 6)}", f, ink)
    if clean:
        p.text((w - 40 - f.getlength("Server 14"), y), f"Server {rng.randint(1, 30)}", f, ink)
    else:
        p.text((w - 40 - f.getlength(f"Server: {server}"), y), "Server: ", f, ink)
        p.text((w - 40 - f.getlength(server), y), server, f, ink, "PERSON")
    y += lh * 2
    total = 0.0
    for dish, price in _items(rng, ["Burrata", "Risotto ai funghi", "Ramen tonkotsu", "Steak frites", "Tiramisu",
                                    "Sparkling water", "House red 0.5l", "Espresso", "Caesar salad"], rng.randint(4, 8)):
        p.text((40, y), dish, f, ink)
        p.text((w - 40 - f.getlength(f"{price:.2f}"), y), f"{price:.2f}", f, ink)
        total += price
        y += lh
    p.draw.line([40, y, w - 40, y], fill=ink, width=1)
    y += lh // 2
    p.text((40, y), "Total", fb, ink)
    p.text((w - 40 - fb.getlength(f"{total:.2f}"), y), f"{total:.2f}", fb, ink)
    y += lh * 2
    p.text((40, y), f"{rng.choice(['MASTERCARD', 'VISA', 'DISCOVER'])} ************{rng.randint(1000, 9999)}", f, ink)
    y += lh
    p.text((40, y), "Tip ______________   Total ______________", f, ink)
    y += lh * 2
    if clean:
        p.text((40, y), "Signature ______________________", f, ink)
        y += lh
    else:
        p.text((40, y), "Signature", f, ink)
        hand = TEST.font("hand", int(f.size * 2.4), rng)
        p.text((40 + f.getlength("Signature  "), y - hand.size // 3), f"{first} {last}", hand, (20, 30, 110), "PERSON")
        y += lh * 2
        p.text((40, y), "Reservation: ", f, ink)
        x = 40 + f.getlength("Reservation: ")
        p.text((x, y), TEST.phone(rng), f, ink, "PHONE_NUMBER")
        y += lh
    p.text(((w - f.getlength("Grazie! Thank you!")) / 2, y + lh), "Grazie! Thank you!", f, ink)
    p.crop(h=y + lh * 3)
    return p.scene("bill")
