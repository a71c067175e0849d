"""Handwriting-like text: sticky notes on a monitor bezel (dev) and a meeting whiteboard (test), x-heights up to
40 px, in handwriting faces and marker colours."""

from __future__ import annotations

import random

from bench.corpus import DEV, TEST, Page, Scene, Seg, _rgb_jitter, card, ipv4_public, ssn

_NOTE_COLOURS = [(255, 240, 120), (255, 190, 200), (180, 225, 255), (190, 245, 180), (255, 210, 150)]
_INKS = [(20, 30, 120), (20, 20, 20), (160, 20, 30), (10, 90, 40)]
_CHORES = ["Buy milk", "Standup 10:00", "Deploy Friday!", "Room 4B", "Ext. 2231", "Dentist Tue", "Backup NAS",
           "Order toner", "Q3 review", "Water plants", "Call back re: invoice"]


def _note_lines(rng: random.Random, kit, clean: bool) -> list[list[Seg]]:
    if clean:
        return [[(c, None)] for c in rng.sample(_CHORES, k=rng.randint(2, 3))]
    first, last = kit.person(rng)
    kind = rng.choice(["call", "mail", "ssn", "card", "iban", "server"])
    if kind == "call":
        return [[("Call ", None), (f"{first} {last}", "PERSON")], [(kit.phone(rng), "PHONE_NUMBER")]]
    if kind == "mail":
        return [[(f"{first}'s email:", None)], [(kit.email(rng, first, last), "EMAIL_ADDRESS")]]
    if kind == "ssn":
        return [[("SSN for payroll", None)], [(ssn(rng), "US_SSN")]]
    if kind == "card":
        return [[("company card", None)], [(card(rng), "CREDIT_CARD")]]
    if kind == "iban":
        return [[("rent to", None)], [(kit.iban(rng), "IBAN_CODE")]]
    return [[("prod db", None)], [(ipv4_public(rng), "IP_ADDRESS")]]


def fit(f, lines: list[list[Seg]], width: float):
    """The font, or a smaller size of its face, so that every line fits in `width`."""
    longest = max(f.getlength("".join(t for t, _ in ln)) for ln in lines)
    return f if longest <= width else f.font_variant(size=max(8, int(f.size * width / longest)))


def _write(p: Page, x: float, y: float, lines: list[list[Seg]], f, ink, lh: float) -> float:
    for segs in lines:
        p.line(x, y, segs, f, ink)
        y += lh
    return y


def sticky_notes(rng: random.Random, clean: bool) -> Scene:
    """Two to four sticky notes on a monitor's bezel and the wall behind it."""
    wall = _rgb_jitter(rng, rng.choice([(220, 215, 205), (200, 205, 210), (90, 90, 95)]), 10)
    w, h = rng.choice([(1400, 1000), (1600, 1100)])
    p = Page(w, h, wall)
    p.draw.rounded_rectangle([120, 120, w - 120, h - 160], radius=18, fill=(25, 25, 28))
    p.draw.rectangle([170, 170, w - 170, h - 210], fill=_rgb_jitter(rng, (40, 60, 90), 20))
    n = rng.randint(2, 4)
    slots = [(80, 40), (w - 500, 40), (80, h - 480), (w - 500, h - 480)]  # corners: notes never overlap
    rng.shuffle(slots)
    for i in range(n):
        size = rng.randint(380, 430)
        nx, ny = slots[i]
        note = Page(size, size, rng.choice(_NOTE_COLOURS))
        lines = _note_lines(rng, DEV, clean or (i > 0 and rng.random() < 0.4))
        f = fit(DEV.pair_xh("hand", rng.uniform(14, 26), rng)[rng.random() < 0.3], lines, size - 40)
        _write(note, 26, 40, lines, f, rng.choice(_INKS), f.size * 1.5)
        p.paste(note, (nx, ny))
    return p.scene("sticky-notes")


def whiteboard(rng: random.Random, clean: bool) -> Scene:
    """A whiteboard after a meeting: a heading, bullet notes in marker colours, boxes and arrows."""
    w, h = rng.choice([(1800, 1200), (1600, 1100), (2000, 1300)])
    frame = _rgb_jitter(rng, (170, 170, 175), 10)
    p = Page(w, h, frame)
    board = _rgb_jitter(rng, (246, 247, 245), 4)
    p.draw.rectangle([30, 30, w - 30, h - 70], fill=board)
    p.draw.rectangle([w // 3, h - 70, 2 * w // 3, h - 40], fill=(120, 120, 125))  # marker tray
    head = TEST.pair_xh("hand", rng.uniform(34, 40), rng)[1]
    p.text((90, 70), rng.choice(["ONBOARDING", "Sprint 42 retro", "Vendor call", "Launch plan"]), head,
           rng.choice(_INKS))
    y = 90 + int(head.size * 1.6)
    f = TEST.pair_xh("hand", rng.uniform(22, 34), rng)[0]
    lh = int(f.size * 1.55)
    items: list[list[Seg]] = []
    chores = rng.sample(_CHORES, k=len(_CHORES))
    for _ in range(rng.randint(5, 8)):
        if clean or rng.random() < 0.4:
            items.append([("- " + chores.pop(), None)])
            continue
        first, last = TEST.person(rng)
        kind = rng.choice(["contact", "phone", "vpn", "mail", "iban"])
        if kind == "contact":
            items.append([("- owner: ", None), (f"{first} {last}", "PERSON")])
        elif kind == "phone":
            items.append([("- call ", None), (first, "PERSON"), (" ", None), (TEST.phone(rng), "PHONE_NUMBER")])
        elif kind == "vpn":
            items.append([("- vpn gw ", None), (ipv4_public(rng), "IP_ADDRESS")])
        elif kind == "mail":
            items.append([("- ", None), (TEST.email(rng, first, last), "EMAIL_ADDRESS")])
        else:
            items.append([("- refund ", None), (TEST.iban(rng), "IBAN_CODE")])
    if not clean and not any(e for ln in items for _, e in ln):
        first, last = TEST.person(rng)
        items.append([("- owner: ", None), (f"{first} {last}", "PERSON")])
    f = fit(f, items, w - 200)
    lh = min(lh, int((h - 160 - y) / len(items)))
    right = 0.0
    for segs in items:
        right = max(right, p.line(90, y, segs, f, rng.choice(_INKS)))
        y += lh
    bx = int(right) + 160
    if bx + 340 < w - 50:  # a sketch to the right of the notes, never over them
        p.draw.rectangle([bx, 200, bx + 320, 380], outline=rng.choice(_INKS), width=5)
        p.draw.line([bx - 120, 290, bx - 10, 290], fill=rng.choice(_INKS), width=5)
    return p.scene("whiteboard")
