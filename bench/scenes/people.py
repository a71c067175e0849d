"""People: a staff directory with face photos (dev, manifest version 1) and badge sheets."""

from __future__ import annotations

import random

from bench.corpus import COMPANIES, Page, Scene, _rgb_jitter, email_for, face_crop, font, person, phone


def directory(rng: random.Random, clean: bool) -> Scene:
    """Staff directory page: face photos with name, email and phone."""
    p = Page(1400, 720, _rgb_jitter(rng, (245, 246, 250), 4))
    size = rng.randint(15, 20)
    f, fb = font("sans", size, rng), font("sans-bold", size + 2, rng)
    p.text((40, 30), f"{rng.choice(COMPANIES)} - Our team", font("sans-bold", 30, rng), (20, 30, 60))
    for i, name in enumerate(rng.sample(["astronaut", "grace_hopper", "astronaut", "grace_hopper"], 3)):
        x, y = 40 + i * 450, 110
        img, fbox = face_crop(rng, name, (300, 380))
        p.img.paste(img, (x, y))
        p.label("FACE", [fbox[0] + x, fbox[1] + y, fbox[2] + x, fbox[3] + y], None, "face")
        first, last = person(rng)
        p.line(x, y + 400, [(f"{first} {last}", "PERSON")], fb, (20, 20, 20))
        p.line(x, y + 430, [(email_for(rng, first, last), "EMAIL_ADDRESS")], f, (40, 40, 40))
        p.line(x, y + 460, [(phone(rng), "PHONE_NUMBER")], f, (40, 40, 40))
    return p.scene("directory")




def badge_sheet(rng: random.Random, clean: bool) -> Scene:
    """Two or three event or employee badges with a portrait, the name large, company and role."""
    from bench.corpus import TEST

    n = rng.randint(2, 3)
    bw, bh = 520, 800
    p = Page(n * (bw + 40) + 40, bh + 80, _rgb_jitter(rng, (70, 74, 82), 12))
    for i in range(n):
        band = _rgb_jitter(rng, rng.choice([(200, 40, 60), (20, 110, 180), (20, 140, 90), (240, 150, 20)]), 20)
        badge = Page(bw, bh, (255, 255, 255))
        badge.draw.rectangle([0, 0, bw, 120], fill=band)
        badge.draw.rounded_rectangle([bw / 2 - 40, 20, bw / 2 + 40, 40], radius=8, fill=(255, 255, 255))
        badge.text((30, 60), TEST.company(rng), TEST.font("sans", 30, rng, bold=True), (255, 255, 255))
        img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), (280, 350))
        px, py = (bw - 280) // 2, 150
        badge.img.paste(img, (px, py))
        badge.label("FACE", [fbox[0] + px, fbox[1] + py, fbox[2] + px, fbox[3] + py], None, "face")
        first, last = TEST.person(rng)
        nf = TEST.font(rng.choice(["sans", "condensed"]), 52, rng, bold=True)
        for k, part in enumerate([first, last]):
            badge.text(((bw - nf.getlength(part)) / 2, 530 + k * 62), part, nf, (20, 20, 25), "PERSON")
        role = rng.choice(["Speaker", "Visitor", "Staff", "Contractor", "Engineering"])
        rf = TEST.font("sans", 28, rng)
        badge.text(((bw - rf.getlength(role)) / 2, 680), role, rf, band)
        p.paste(badge, (40 + i * (bw + 40), 40))
    return p.scene("badges")
