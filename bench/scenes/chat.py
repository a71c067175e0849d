"""Chats: messenger screenshots, light and dark (dev, manifest version 1), and SMS threads."""

from __future__ import annotations

import math
import random

from bench.corpus import (TEST, Page, Scene, Seg, birth_date, card, dob_text, email_for, font, iban, person, phone,
                          public_ip, ssn)

CHAT_PII = [
    ("Sure, my number is ", "phone", ""), ("You can email me at ", "email", " anytime"),
    ("Here's the card for the booking: ", "card", " exp 09/27"), ("HR needs my SSN: ", "ssn", ""),
    ("Send the money to ", "iban", " please"), ("The VPN server is ", "ip", ""),
    ("my DOB is ", "dob", " btw"), ("Ping ", "name", " about the contract"),
]
CHAT_CLEAN = ["Deploy of v2.{a}.{b} finished, all green", "Order ORD-{n} shipped today", "Can we move standup to 10?",
              "The docs are at https://example.com/docs", "Use name@example.com in the test fixtures",
              "Ticket #{n} is closed", "Card on file ends in {a}{b}{a}{b}", "SSN field shows ***-**-{a}{b}{b}{a}",
              "Lunch at 12:30?", "Build {n} passed on main", "lgtm, merging", "Reference number {long}"]


def _chat_value(rng: random.Random, kind: str) -> tuple[str, str]:
    if kind == "phone":
        return phone(rng), "PHONE_NUMBER"
    if kind == "email":
        return email_for(rng, *person(rng)), "EMAIL_ADDRESS"
    if kind == "card":
        return card(rng), "CREDIT_CARD"
    if kind == "ssn":
        return ssn(rng), "US_SSN"
    if kind == "iban":
        return iban(rng), "IBAN_CODE"
    if kind == "ip":
        return public_ip(rng), "IP_ADDRESS"
    if kind == "dob":
        return dob_text(rng, birth_date(rng)), "DATE_OF_BIRTH"
    return " ".join(person(rng)), "PERSON"


def chat(rng: random.Random, clean: bool, dark: bool) -> Scene:
    w = rng.choice([750, 900, 1080])
    bg, other, mine, ink, mine_ink = ((0, 0, 0), (38, 38, 40), (10, 132, 255), (235, 235, 235), (255, 255, 255)) \
        if dark else ((255, 255, 255), (233, 233, 235), (10, 132, 255), (15, 15, 15), (255, 255, 255))
    p = Page(w, rng.choice([1400, 1600, 1800]), bg)
    size = rng.randint(17, 26)
    f = font("sans", size, rng)
    lh = int(size * 1.35)
    header_bg = (28, 28, 30) if dark else (247, 247, 247)
    p.draw.rectangle([0, 0, w, 110], fill=header_bg)
    if clean:
        p.text((w // 2 - 80, 40), "#deploys", font("sans-bold", 26, rng), ink)
    else:
        p.line(w // 2 - 90, 40, [(" ".join(person(rng)), "PERSON")], font("sans-bold", 26, rng), ink)
    y = 140
    messages: list[list[Seg]] = []
    kinds = rng.sample([k for _, k, _ in CHAT_PII], k=rng.randint(2, 4))
    fillers = ["hey!", "ok thanks", "one sec", "got it", "perfect, thank you", "Can you send me your details?",
               "where should I send it?", "what's the best way to reach you?"]
    if clean:
        for _ in range(rng.randint(6, 9)):
            t = rng.choice(CHAT_CLEAN).format(a=rng.randint(1, 9), b=rng.randint(0, 9), n=rng.randint(10000, 99999),
                                              long=card(rng, valid=False).replace(" ", "").replace("-", ""))
            messages.append([(t, None)])
    else:
        for k in kinds:
            messages.append([(rng.choice(fillers), None)])
            pre, _, post = next(c for c in CHAT_PII if c[1] == k)
            value, ent = _chat_value(rng, k)
            messages.append([(pre, None), (value, ent), (post, None)])
    max_w = int(w * 0.72)
    for i, segs in enumerate(messages):
        is_mine = (i % 2 == 1) != (rng.random() < 0.2)
        # measure on a scratch page, then draw for real at the final position
        h_end, right = Page(max_w, 400, bg).flow_extent(0, 0, max_w - 40, segs, f, ink, lh)
        bw = math.ceil(right) + 44  # +4: never re-wrap when drawing at the measured width
        bx = w - bw - 24 if is_mine else 24
        if y + h_end + 40 > p.img.height - 40:
            break
        p.draw.rounded_rectangle([bx, y, bx + bw, y + h_end + 24], radius=18, fill=mine if is_mine else other)
        p.flow(bx + 20, y + 12, bw - 40, segs, f, mine_ink if is_mine else ink, lh)
        y += h_end + 24 + 18
    return p.scene("chat-dark" if dark else "chat-light")




# --------------------------------------------------------------------------------------------- widened

_SMS_CLEAN = ["Your verification code is {n6}", "Parcel {code} is out for delivery today",
              "Reminder: dentist appointment tomorrow 9:30", "Your table for 2 is confirmed for 19:00",
              "Low balance alert: check the app", "Meeting moved to 3pm", "ok see you there", "thanks!"]


def sms_thread(rng: random.Random, clean: bool) -> Scene:
    """A phone's SMS thread (status bar, contact header, grey and green or blue bubbles, timestamps), light or dark."""
    dark = rng.random() < 0.45
    w = rng.choice([780, 828, 860])
    bg = (0, 0, 0) if dark else (255, 255, 255)
    theirs, mine = ((38, 38, 41), (52, 199, 89)) if dark else ((229, 229, 234), rng.choice([(52, 199, 89), (0, 122, 255)]))
    ink, mine_ink, dim = ((235, 235, 240), (255, 255, 255), (140, 140, 146)) if dark else \
        ((10, 10, 12), (255, 255, 255), (120, 120, 128))
    f = TEST.pair_xh("sans", rng.uniform(10, 15), rng)[0]
    small = TEST.font("sans", max(12, int(f.size * 0.7)), rng)
    lh = int(f.size * 1.3)
    p = Page(w, rng.choice([1600, 1700, 1800]), bg)
    p.text((40, 20), f"{rng.randint(7, 22)}:{rng.randint(10, 59)}", TEST.font("sans", 26, rng, bold=True), ink)
    p.draw.rounded_rectangle([w - 110, 26, w - 50, 50], radius=6, outline=ink, width=2)
    first, last = TEST.person(rng)
    head = TEST.font("sans", 30, rng, bold=True)
    if clean:
        title = rng.choice(["+1 (800) 555-0199", "DPD", "Bank Alerts", "Dr. Office"])
        p.text(((w - head.getlength(title)) / 2, 90), title, head, ink)
    else:
        title = f"{first} {last}" if rng.random() < 0.7 else first
        p.text(((w - head.getlength(title)) / 2, 90), title, head, ink, "PERSON")
    p.draw.line([0, 150, w, 150], fill=dim, width=1)
    messages: list[tuple[list[Seg], bool]] = []
    if clean:
        for _ in range(rng.randint(4, 8)):
            t = rng.choice(_SMS_CLEAN).format(n6=rng.randint(100000, 999999), code=f"JD{rng.randint(10**9, 10**10)}")
            messages.append(([(t, None)], rng.random() < 0.4))
    else:
        a, b = TEST.person(rng)
        street, city = TEST.address(rng)
        pool: list[list[Seg]] = [
            [("my new number is ", None), (TEST.phone(rng), "PHONE_NUMBER")],
            [("send it to ", None), (TEST.email(rng, first, last), "EMAIL_ADDRESS")],
            [("card for the tickets: ", None), (card(rng), "CREDIT_CARD")],
            [("rent goes to ", None), (TEST.iban(rng), "IBAN_CODE")],
            [("new address: ", None), (street, "LOCATION"), (", ", None), (city, "LOCATION")],
            [("ask ", None), (f"{a} {b}", "PERSON"), (", she has the keys", None)],
            [("my SSN is ", None), (ssn(rng), "US_SSN"), (" for the form", None)],
            [("DOB ", None), (dob_text(rng, birth_date(rng)), "DATE_OF_BIRTH")],
        ]
        for segs in rng.sample(pool, k=rng.randint(2, 4)):
            messages.append(([(rng.choice(["hey", "ok", "sure", "one sec"]), None)], rng.random() < 0.5))
            messages.append((segs, rng.random() < 0.5))
    y = 180
    max_w = int(w * 0.7)
    for segs, is_mine in messages:
        scratch = Page(max_w, 600, bg)
        h_end, right = scratch.flow_extent(0, 0, max_w - 48, segs, f, ink, lh)
        bw = int(right) + 52
        if y + h_end + 80 > p.img.height - 20:
            break
        bx = w - bw - 30 if is_mine else 30
        p.draw.rounded_rectangle([bx, y, bx + bw, y + h_end + 26], radius=26, fill=mine if is_mine else theirs)
        p.flow(bx + 24, y + 13, bw - 48, segs, f, mine_ink if is_mine else ink, lh)
        y += int(h_end) + 26 + 8
        if rng.random() < 0.3:
            stamp = f"{rng.randint(8, 22)}:{rng.randint(10, 59)}"
            p.text((w / 2 - small.getlength(stamp) / 2, y + 4), stamp, small, dim)
            y += small.size + 16
        y += 10
    if not clean and not p.items:
        p.flow(40, y, w - 80, [("call ", None), (TEST.phone(rng), "PHONE_NUMBER")], f, ink, lh)
    return p.scene("sms-dark" if dark else "sms-light")
