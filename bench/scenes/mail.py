"""E-mail: a desktop mail client, light or low-contrast (dev), and a dark web mail in a browser (test). Header
addresses have `.`, `_`, `-` and `+` in their local parts; signatures carry phones and two-line addresses."""

from __future__ import annotations

import random

from bench.corpus import DEV, TEST, Page, Scene, Seg, _rgb_jitter, card, ink_for, ssn
from bench.scenes.documents import LOREM

_SUBJECTS = ["Re: contract renewal", "Your onboarding documents", "Invoice question", "Fwd: travel booking",
             "Updated bank details", "Meeting notes", "Re: access request"]
_CLEAN_SUBJECTS = ["Build #4821 passed", "Weekly newsletter", "Maintenance window Sunday", "Your order has shipped",
                   "Release notes v3.2"]


def _body(rng: random.Random, kit, clean: bool) -> list[Seg]:
    if clean:
        return [(rng.choice(["The nightly build finished without errors. ", "Our office will be closed on Monday. ",
                             "Release 3.2 is now available for download. "]) + LOREM[:rng.randint(80, 200)], None)]
    body: list[Seg] = [(rng.choice(["Hi, ", "Hello, ", "Dear team, "]), None),
                       ("as discussed, here are the details. ", None)]
    for kind in rng.sample(["card", "iban", "ssn", "phone", "mail"], k=rng.randint(1, 3)):
        if kind == "card":
            body += [("The card for the booking is ", None), (card(rng), "CREDIT_CARD"), (". ", None)]
        elif kind == "iban":
            body += [("Please wire the deposit to ", None), (kit.iban(rng), "IBAN_CODE"), (". ", None)]
        elif kind == "ssn":
            body += [("My SSN for the background check: ", None), (ssn(rng), "US_SSN"), (". ", None)]
        elif kind == "phone":
            body += [("Call me on ", None), (kit.phone(rng), "PHONE_NUMBER"), (" after 5pm. ", None)]
        else:
            first, last = kit.person(rng)
            body += [("Please copy ", None), (kit.email(rng, first, last), "EMAIL_ADDRESS"), (" in. ", None)]
    return body + [(LOREM[:rng.randint(40, 140)], None)]


def _signature(p: Page, rng: random.Random, kit, x: float, y: float, f, ink, lh: float, first: str,
               last: str) -> float:
    p.text((x, y), f"{first} {last}", f, ink, "PERSON")
    y += lh
    p.text((x, y), kit.company(rng), f, ink)
    y += lh
    street, city = kit.address(rng)
    for value, ent in [(street, "LOCATION"), (city, "LOCATION"), (kit.phone(rng), "PHONE_NUMBER")]:
        p.text((x, y), value, f, ink, ent)
        y += lh
    return y


def mail_client(rng: random.Random, clean: bool) -> Scene:
    """A desktop mail client: folders, message list, reading pane with From/To/Cc and a signature."""
    low = rng.random() < 0.3
    bg = (255, 255, 255)
    ink = ink_for(rng, bg, (2.6, 3.5)) if low else (30, 30, 30)
    f, fb = DEV.pair_xh(rng.choice(["sans", "sans", "serif"]), rng.uniform(7, 11), rng)
    lh = int(f.size * 1.55)
    w, h = rng.choice([(1600, 1000), (1440, 900), (1920, 1080)])
    p = Page(w, h + 600, bg)
    panel = _rgb_jitter(rng, (243, 244, 246), 3)
    p.draw.rectangle([0, 0, 220, h], fill=panel)
    for i, folder in enumerate(["Inbox", "Drafts", "Sent", "Archive", "Junk"]):
        p.text((24, 30 + i * int(f.size * 2.4)), folder, fb if i == 0 else f, ink)
    p.draw.rectangle([220, 0, 620, h], fill=_rgb_jitter(rng, (250, 250, 251), 2))
    y = 24
    for _ in range(rng.randint(6, 10)):
        sender = "Build Bot" if clean else " ".join(DEV.person(rng))
        p.text((240, y), sender, fb, ink, None if clean else "PERSON")
        p.text((240, y + lh), rng.choice(_CLEAN_SUBJECTS if clean else _SUBJECTS), f, ink)
        y += lh * 3
        if y > h - 80:
            break
    first, last = DEV.person(rng)
    x, y = 660, 30
    subject = rng.choice(_CLEAN_SUBJECTS if clean else _SUBJECTS)
    p.text((x, y), subject, DEV.font("sans", int(f.size * 2.2), rng, bold=True), ink)
    y += int(f.size * 3.6)
    if clean:
        rows = [("From:", [("CI <ci@example.com>", None)]), ("To:", [("team@example.org", None)])]
    else:
        def addr(a: str, b: str) -> list[Seg]:
            return [(f"{a} {b} <", None), (DEV.email(rng, a, b), "EMAIL_ADDRESS"), (">", None)]
        others = [DEV.person(rng) for _ in range(rng.randint(1, 3))]
        rows = [("From:", addr(first, last)), ("To:", addr(*others[0]))]
        if len(others) > 1:
            cc: list[Seg] = []
            for a, b in others[1:]:
                cc += [(DEV.email(rng, a, b), "EMAIL_ADDRESS"), ("; ", None)]
            rows.append(("Cc:", cc[:-1]))
    for label, segs in rows:
        p.text((x, y), label, fb, ink)
        p.line(x + fb.getlength("From:  "), y, segs, f, ink)
        y += lh
    y += lh
    y = p.flow(x, y, w - x - 60, _body(rng, DEV, clean), f, ink, lh) + lh
    if not clean:
        p.text((x, y), "Best regards,", f, ink)
        y = _signature(p, rng, DEV, x, y + lh, f, ink, lh, first, last)
    p.crop(h=max(h, int(y + lh)))
    return p.scene("mail-lowcontrast" if low else "mail-light")


def webmail_dark(rng: random.Random, clean: bool) -> Scene:
    """A web mail in dark mode inside a browser: tabs, address bar, an opened message with its header expanded."""
    bg, card_bg = (32, 33, 36), (41, 42, 45)
    ink, dim, link = (232, 234, 237), (154, 160, 166), (138, 180, 248)
    f, fb = TEST.pair_xh(rng.choice(["sans", "sans", "serif"]), rng.uniform(7, 11), rng)
    lh = int(f.size * 1.6)
    w, h = rng.choice([(1600, 1100), (1440, 1000), (1920, 1150)])
    p = Page(w, h + 600, bg)
    p.draw.rectangle([0, 0, w, 40], fill=(53, 54, 58))
    p.draw.rounded_rectangle([12, 6, 300, 40], radius=8, fill=bg)
    p.text((28, 14), "Inbox - Mail", TEST.font("sans", 14, rng), ink)
    p.draw.rectangle([0, 40, w, 84], fill=bg)
    p.draw.rounded_rectangle([100, 48, w - 200, 78], radius=14, fill=(53, 54, 58))
    p.text((124, 54), "https://mail.example.net/u/0/#inbox", TEST.font("sans", 15, rng), dim)
    p.draw.rounded_rectangle([250, 110, w - 40, h + 570], radius=16, fill=card_bg)
    for i, lab in enumerate(["Inbox", "Starred", "Snoozed", "Sent", "Drafts"]):
        p.text((40, 120 + i * int(f.size * 2.6)), lab, fb if i == 0 else f, ink if i == 0 else dim)
    x, y = 290, 140
    subject = rng.choice(_CLEAN_SUBJECTS if clean else _SUBJECTS)
    p.text((x, y), subject, TEST.font("sans", int(f.size * 2.3), rng), ink)
    y += int(f.size * 4)
    first, last = TEST.person(rng)
    if clean:
        p.text((x, y), "Service Desk", fb, ink)
        p.text((x + fb.getlength("Service Desk  "), y), "<noreply@example.com>", f, dim)
        y += lh
        p.text((x, y), "to me", f, dim)
        y += lh * 2
    else:
        p.text((x, y), f"{first} {last}", fb, ink, "PERSON")
        xx = x + fb.getlength(f"{first} {last}  ")
        p.line(xx, y, [("<", None), (TEST.email(rng, first, last), "EMAIL_ADDRESS"), (">", None)], f, dim)
        y += lh
        p.draw.rounded_rectangle([x - 10, y, x + 720, y + lh * 4 + 10], radius=8, fill=(60, 61, 65))
        a, b = TEST.person(rng)
        for label, segs in [("from:", [(f"{first} {last} <", None), (TEST.email(rng, first, last), "EMAIL_ADDRESS"), (">", None)]),
                            ("to:", [(TEST.email(rng, a, b), "EMAIL_ADDRESS")]),
                            ("date:", [(f"{rng.randint(1, 28)} Mar 2026, {rng.randint(8, 20)}:{rng.randint(10, 59)}", None)]),
                            ("mailed-by:", [(rng.choice(["mx.hooli-mail.net", "smtp.icloud.com", "mail.gmx.net"]), None)])]:
            y += 4
            p.text((x, y), label, f, dim)
            p.line(x + f.getlength("mailed-by:  "), y, segs, f, ink)
            y += lh
        y += lh
    y = p.flow(x, y, w - x - 90, _body(rng, TEST, clean), f, ink, lh) + lh
    if not clean:
        p.text((x, y), "--", f, dim)
        y = _signature(p, rng, TEST, x, y + lh, f, dim, lh, first, last)
    y = max(y + lh, h - 120)
    p.text((x, y), "Reply   Forward", f, link)
    p.crop(h=int(y + lh * 3))
    return p.scene("webmail-dark")
