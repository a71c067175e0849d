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


