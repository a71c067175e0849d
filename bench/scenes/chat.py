"""Chats: messenger screenshots, light and dark (dev, manifest version 1), and SMS threads."""

from __future__ import annotations

import math
import random

from bench.corpus import (Page, Scene, Seg, birth_date, card, dob_text, email_for, font, iban, person, phone, public_ip,
                          ssn)

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


