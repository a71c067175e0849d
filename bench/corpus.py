"""Deterministic labelled image corpus for the detection benchmark.

`python -m bench.corpus --out bench/out/corpus [--seed 7] [--limit N]` renders ~200 images (documents, chats,
code/terminal screenshots, passports and ID cards with valid MRZ, face photos, GPS-tagged photos, vCard QR codes,
and ~25% clean look-alikes) plus `manifest.json` with exact ground truth. All values are synthetic.

Every image gets its own RNG (seed, index) and the category list is interleaved, so `--limit N` yields exactly the
first N images of the full corpus, with every category represented early.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import re
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import phonenumbers
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

MANIFEST_VERSION = 1
DEFAULT_SEED = 7

# --------------------------------------------------------------------------------------------- assets

_FONT_FILES = {
    "sans": ["dejavu/DejaVuSans.ttf", "liberation/LiberationSans-Regular.ttf"],
    "sans-bold": ["dejavu/DejaVuSans-Bold.ttf", "liberation/LiberationSans-Bold.ttf"],
    "serif": ["dejavu/DejaVuSerif.ttf", "liberation/LiberationSerif-Regular.ttf"],
    "mono": ["dejavu/DejaVuSansMono.ttf", "liberation/LiberationMono-Regular.ttf"],
    "mono-bold": ["dejavu/DejaVuSansMono-Bold.ttf", "liberation/LiberationMono-Bold.ttf"],
}
_FONT_ROOT = Path("/usr/share/fonts/truetype")


def _font_paths() -> dict[str, list[Path]]:
    found = {k: [_FONT_ROOT / p for p in v if (_FONT_ROOT / p).exists()] for k, v in _FONT_FILES.items()}
    missing = [k for k, v in found.items() if not v]
    if missing:
        raise SystemExit(f"missing fonts {missing}: apt-get install fonts-dejavu-core (and fonts-liberation)")
    return found


FONTS = _font_paths()
_font_cache: dict[tuple[Path, int], ImageFont.FreeTypeFont] = {}


def font(kind: str, size: int, rng: random.Random | None = None) -> ImageFont.FreeTypeFont:
    """A TrueType font of a family; with an rng, one of the family's installed variants."""
    paths = FONTS[kind]
    path = rng.choice(paths) if rng else paths[0]
    key = (path, size)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(str(path), size)
    return _font_cache[key]


def _site_packages() -> Path:
    import skimage

    return Path(skimage.__file__).parent.parent


def _photo_paths() -> dict[str, Path]:
    sp = _site_packages()
    paths = {
        "astronaut": sp / "skimage/data/astronaut.png",
        "grace_hopper": sp / "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        "messi": Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg"),
    }
    for name in ["chelsea.png", "coffee.png", "rocket.jpg", "horse.png", "motorcycle_left.png",
                 "hubble_deep_field.jpg"]:
        paths[name.split(".")[0]] = sp / "skimage/data" / name
    for name in ["baboon.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg", "home.jpg", "orange.jpg"]:
        paths[name.split(".")[0]] = Path("/usr/share/doc/opencv-doc/examples/data") / name
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise SystemExit(f"missing sample photos {missing}: pip install scikit-image matplotlib; "
                         "apt-get install opencv-doc")
    return paths


PHOTOS = _photo_paths()
# Face boxes in the source photos (x0, y0, x1, y1), measured once with OpenCV's frontal-face Haar cascade.
FACE_BOXES = {"astronaut": (177, 66, 272, 161), "grace_hopper": (155, 105, 377, 327), "messi": (226, 94, 264, 132)}
NO_FACE_PHOTOS = ["chelsea", "coffee", "rocket", "horse", "motorcycle_left", "hubble_deep_field", "baboon",
                  "fruits", "building", "butterfly", "home", "orange"]
_photo_cache: dict[str, Image.Image] = {}


def photo(name: str) -> Image.Image:
    if name not in _photo_cache:
        _photo_cache[name] = Image.open(PHOTOS[name]).convert("RGB")
    return _photo_cache[name].copy()


# --------------------------------------------------------------------------------------------- values

FIRST = ["Anna", "Lukas", "Sofia", "Mateo", "Priya", "Chen", "Fatima", "Oliver", "Emma", "Noah", "Aisha", "Hiroshi",
         "Olga", "Carlos", "Marie", "Jonas", "Elena", "Ahmed", "Isabella", "Liam", "Zoe", "Daniel", "Laura", "Yuki",
         "Sven", "Ingrid", "Pierre", "Camille", "Giulia", "Rajesh", "Thomas", "Grace", "Miguel", "Hannah", "Kofi"]
LAST = ["Eriksson", "Mueller", "Garcia", "Patel", "Wang", "Okafor", "Schmidt", "Dubois", "Rossi", "Kowalski",
        "Nakamura", "Johnson", "Fernandes", "Novak", "Larsen", "Andersson", "Haddad", "Moreau", "Fischer", "Brown",
        "Kim", "Silva", "Petrov", "Jensen", "Walker", "Bianchi", "Hughes", "Morgan", "Becker", "Thompson"]
MAIL_DOMAINS = ["gmail.com", "outlook.com", "acmecorp.io", "northwind-traders.com", "fastmail.fm", "web.de",
                "orange.fr", "contoso-health.org", "yahoo.co.uk", "proton.me"]
COMPANIES = ["Northwind Traders", "Contoso Health", "Fabrikam Logistics", "Globex Analytics", "Initech Systems",
             "Tailspin Toys", "Wide World Importers", "Blue Yonder Airlines"]
US_CITIES = [("Springfield", "IL", "627"), ("Portland", "OR", "972"), ("Austin", "TX", "787"),
             ("Denver", "CO", "802"), ("Columbus", "OH", "432"), ("Raleigh", "NC", "276"), ("Tucson", "AZ", "857")]
US_STREETS = ["Maple", "Oak", "Cedar", "Lakeview", "Washington", "Hillcrest", "Sunset", "Willow", "Chestnut"]
US_SUFFIX = ["Street", "Avenue", "Drive", "Lane", "Boulevard", "Court"]
UK_ADDR = [("Kingsley Road", "Manchester", "M14 6HT"), ("Albert Street", "Leeds", "LS2 7QT"),
           ("Victoria Road", "Bristol", "BS8 1TH"), ("Church Lane", "Oxford", "OX2 6NN")]
DE_ADDR = [("Hauptstrasse", "10115", "Berlin"), ("Lindenallee", "80331", "Muenchen"),
           ("Goethestrasse", "50667", "Koeln"), ("Schillerweg", "20095", "Hamburg")]
FR_ADDR = [("rue de la Paix", "75002", "Paris"), ("avenue Jean Jaures", "69007", "Lyon"),
           ("boulevard Victor Hugo", "06000", "Nice")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def email_for(rng: random.Random, first: str, last: str) -> str:
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}",
                        f"{last}.{first}"]).lower()
    return f"{local}@{rng.choice(MAIL_DOMAINS)}"


_PHONE_FORMATS = {  # region: (country code, national number generator)
    "US": lambda r: f"{r.choice(['212', '415', '617', '312', '206', '303', '512', '919'])}"
                    f"{r.randint(2, 9)}{r.randint(0, 9)}{r.randint(0, 9)}{r.randint(0, 9999):04d}",
    "GB": lambda r: f"20{r.choice('378')}{r.randint(0, 9999999):07d}",
    "DE": lambda r: f"30{r.randint(1000000, 9999999)}",
    "FR": lambda r: f"{r.choice('1234567')}{r.randint(10000000, 99999999)}",
}


def phone(rng: random.Random, region: str | None = None) -> str:
    """A number phonenumbers calls valid, in a national or international format."""
    region = region or rng.choice(["US", "US", "GB", "DE", "FR"])
    while True:
        num = phonenumbers.parse(_PHONE_FORMATS[region](rng), region)
        if phonenumbers.is_valid_number(num):
            break
    if region == "US":
        fmt = rng.choice(["({a}) {b}-{c}", "{a}-{b}-{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}"])
        n = str(num.national_number)
        return fmt.format(a=n[:3], b=n[3:6], c=n[6:])
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


WELL_KNOWN_SSNS = {"123456789", "078051120", "219099999", "457555462", "111111111", "987654320"}


def ssn(rng: random.Random) -> str:
    """A valid-looking SSN: area not 000/666/9xx, group not 00, serial not 0000, not a famous sample."""
    while True:
        area, group, serial = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        digits = f"{area:03d}{group:02d}{serial:04d}"
        if area != 666 and digits not in WELL_KNOWN_SSNS and len(set(digits)) > 2:
            return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def card(rng: random.Random, valid: bool = True) -> str:
    """A Luhn-valid (or deliberately invalid) Visa/Mastercard/Amex number, grouped as printed."""
    kind = rng.choice(["visa", "visa", "mc", "amex"])
    prefix, length = {"visa": ("4", 16), "mc": (str(rng.randint(51, 55)), 16),
                      "amex": (rng.choice(["34", "37"]), 15)}[kind]
    num = _luhn_complete(prefix, length, rng)
    if not valid:
        num = num[:-1] + str((int(num[-1]) + rng.randint(1, 9)) % 10)
    sep = rng.choice([" ", " ", "-", ""])
    groups = [num[:4], num[4:10], num[10:]] if length == 15 else [num[i:i + 4] for i in range(0, 16, 4)]
    return sep.join(groups)


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def iban(rng: random.Random, country: str | None = None) -> str:
    """A mod-97-valid DE/GB/FR IBAN printed in groups of four."""
    country = country or rng.choice(["DE", "GB", "FR"])
    digits = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    if country == "DE":
        bban = digits(18)
    elif country == "GB":
        bban = rng.choice(["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]) + digits(14)
    else:
        bank, branch, account = digits(5), digits(5), digits(11)
        rib = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
        bban = f"{bank}{branch}{account}{rib:02d}"
    rearranged = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(rearranged) % 97
    raw = f"{country}{check:02d}{bban}"
    assert iban_ok(raw)
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def address(rng: random.Random) -> str:
    kind = rng.choice(["US", "US", "UK", "DE", "FR"])
    if kind == "US":
        city, state, zip3 = rng.choice(US_CITIES)
        return (f"{rng.randint(12, 9870)} {rng.choice(US_STREETS)} {rng.choice(US_SUFFIX)}, {city}, {state} "
                f"{zip3}{rng.randint(1, 99):02d}")
    if kind == "UK":
        street, city, pc = rng.choice(UK_ADDR)
        return f"{rng.randint(1, 180)} {street}, {city} {pc}"
    if kind == "DE":
        street, plz, city = rng.choice(DE_ADDR)
        return f"{street} {rng.randint(1, 140)}, {plz} {city}"
    street, cp, city = rng.choice(FR_ADDR)
    return f"{rng.randint(1, 90)} {street}, {cp} {city}"


def public_ip(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "2001:db8:" + ":".join(f"{rng.randint(0, 65535):x}" for _ in range(6))
    first = rng.choice([23, 31, 45, 52, 63, 78, 84, 91, 104, 141, 185, 198, 203])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def birth_date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28)


def dob_text(rng: random.Random, ymd: tuple[int, int, int]) -> str:
    y, m, d = ymd
    return rng.choice([f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}", f"{y}-{m:02d}-{d:02d}",
                       f"{MONTHS[m - 1]} {d}, {y}", f"{d} {MONTHS[m - 1][:3]} {y}"])


# --- secrets

def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def secret(rng: random.Random, kind: str) -> str:
    if kind == "aws_key":
        return "AKIA" + _rand(rng, string.ascii_uppercase + "234567", 16)
    if kind == "aws_secret":
        return _rand(rng, ALNUM + "/+", 40)
    if kind == "github":
        return "ghp_" + _rand(rng, ALNUM, 36)
    if kind == "slack":
        return f"xoxb-{rng.randint(10**10, 10**12)}-{rng.randint(10**11, 10**13)}-{_rand(rng, ALNUM, 24)}"
    if kind == "stripe":
        return "sk_live_" + _rand(rng, ALNUM, 24)
    if kind == "openai":
        return "sk-proj-" + _rand(rng, B64URL, 48)
    if kind == "anthropic":
        return "sk-ant-api03-" + _rand(rng, B64URL, 80) + "AA"
    if kind == "google":
        return "AIza" + _rand(rng, B64URL, 35)
    if kind == "jwt":
        header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
        payload = _b64url(json.dumps({"sub": str(rng.randint(1000, 99999)), "iat": rng.randint(1.6e9, 1.8e9)},
                                     separators=(",", ":")).encode())
        return f"{header}.{payload}.{_rand(rng, B64URL, 43)}"
    if kind == "postgres":
        user = rng.choice(["app", "svc_billing", "admin", "etl_user"])
        host = rng.choice(["db.prod.internal", "10.20.4.17", "pg-main.corp.lan", "billing-db.eu-west-1.rds.net"])
        return f"postgres://{user}:{_rand(rng, ALNUM, rng.randint(12, 18))}@{host}:5432/{rng.choice(['app', 'billing'])}"
    raise ValueError(kind)


SECRET_KINDS = ["aws_key", "aws_secret", "github", "slack", "stripe", "openai", "anthropic", "google", "jwt",
                "postgres"]


def pem_lines(rng: random.Random) -> list[str]:
    body = [_rand(rng, ALNUM + "+/", 64) for _ in range(rng.randint(4, 7))]
    body[0] = "MIIE" + body[0][4:]
    return ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"]


# --- MRZ (ICAO 9303)

def mrz_check(field_: str) -> str:
    total = 0
    for i, c in enumerate(field_):
        v = 0 if c == "<" else int(c) if c.isdigit() else ord(c) - 55
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def _mrz_name(last: str, first: str, width: int) -> str:
    name = f"{last.upper()}<<{first.upper()}".replace(" ", "<").replace("'", "")
    return (name + "<" * width)[:width]


def mrz_td3(issuer: str, last: str, first: str, number: str, nationality: str, dob: str, sex: str,
            expiry: str) -> tuple[str, str]:
    """Passport MRZ, 2 x 44. Dates are YYMMDD, number up to 9 characters."""
    line1 = ("P<" + issuer + _mrz_name(last, first, 39))[:44]
    num = (number + "<" * 9)[:9]
    personal = "<" * 14
    parts = [num + mrz_check(num), nationality, dob + mrz_check(dob), sex, expiry + mrz_check(expiry),
             personal + mrz_check(personal)]
    line2 = "".join(parts)
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1, line2 + mrz_check(composite)


def mrz_td1(issuer: str, last: str, first: str, number: str, nationality: str, dob: str, sex: str,
            expiry: str) -> tuple[str, str, str]:
    """ID-card MRZ, 3 x 30."""
    num = (number + "<" * 9)[:9]
    line1 = ("I<" + issuer + num + mrz_check(num) + "<" * 15)[:30]
    line2 = dob + mrz_check(dob) + sex + expiry + mrz_check(expiry) + nationality + "<" * 11
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += mrz_check(composite)
    return line1, line2, _mrz_name(last, first, 30)


def mrz_valid(lines: list[str]) -> bool:
    """Recompute every check digit of a TD3 (2x44) or TD1 (3x30) MRZ."""
    if len(lines) == 2 and all(len(x) == 44 for x in lines):
        l2 = lines[1]
        pairs = [(l2[0:9], l2[9]), (l2[13:19], l2[19]), (l2[21:27], l2[27]), (l2[28:42], l2[42]),
                 (l2[0:10] + l2[13:20] + l2[21:43], l2[43])]
    elif len(lines) == 3 and all(len(x) == 30 for x in lines):
        l1, l2 = lines[0], lines[1]
        pairs = [(l1[5:14], l1[14]), (l2[0:6], l2[6]), (l2[8:14], l2[14]),
                 (l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])]
    else:
        return False
    return all(mrz_check(f) == c for f, c in pairs)


# --------------------------------------------------------------------------------------------- drawing

@dataclass
class Item:
    entity: str
    box: list[int] | None
    text: str | None
    source: str = "text"  # text | face | barcode | metadata

    def to_json(self) -> dict:
        return {"entity": self.entity, "box": self.box, "text": self.text, "source": self.source}


@dataclass
class Scene:
    img: Image.Image
    items: list[Item] = field(default_factory=list)
    exif: Image.Exif | None = None
    photo: bool = False  # camera photo: saved as JPEG, never geometrically transformed


Seg = tuple[str, str | None]  # (text, entity or None)


class Page:
    """A canvas that records the pixel box of every labelled text span it draws."""

    def __init__(self, w: int, h: int, bg: tuple[int, int, int]) -> None:
        self.img = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.img)
        self.items: list[Item] = []

    def label(self, entity: str, box, text: str | None, source: str = "text") -> None:
        self.items.append(Item(entity, [int(round(v)) for v in box] if box is not None else None, text, source))

    def text(self, xy, s: str, f, fill, entity: str | None = None) -> tuple[int, int, int, int]:
        self.draw.text(xy, s, font=f, fill=fill)
        box = self.draw.textbbox(xy, s, font=f)
        if entity:
            self.label(entity, box, s)
        return box

    def line(self, x: float, y: float, segs: list[Seg], f, fill) -> float:
        """Draw segments left to right on one line; returns the x after the last one."""
        for s, ent in segs:
            if s:
                self.text((x, y), s, f, fill, ent)
                x += self.draw.textlength(s, font=f)
        return x

    def flow(self, x0: float, y: float, width: float, segs: list[Seg], f, fill, line_h: float) -> float:
        """Word-wrap segments into a column; labelled spans are never split. Returns the y below the text."""
        return self.flow_extent(x0, y, width, segs, f, fill, line_h)[0]

    def flow_extent(self, x0: float, y: float, width: float, segs: list[Seg], f, fill,
                    line_h: float) -> tuple[float, float]:
        """Like flow(); also returns the right-most x drawn."""
        full = "".join(s for s, _ in segs)
        tokens: list[tuple[str, str | None, bool]] = []
        pos = 0
        for s, ent in segs:
            if ent:
                tokens.append((s, ent, pos == 0 or full[pos - 1].isspace()))
            else:
                for m in re.finditer(r"\S+", s):
                    start = pos + m.start()
                    tokens.append((m.group(), None, start == 0 or full[start - 1].isspace()))
            pos += len(s)
        space = self.draw.textlength(" ", font=f)
        x = right = x0
        for tok, ent, space_before in tokens:
            w = self.draw.textlength(tok, font=f)
            gap = space if space_before and x > x0 else 0
            if space_before and x > x0 and x + gap + w > x0 + width:
                x, y, gap = x0, y + line_h, 0
            self.text((x + gap, y), tok, f, fill, ent)
            x += gap + w
            right = max(right, x)
        return y + line_h, right


def _rgb_jitter(rng: random.Random, base: tuple[int, int, int], amount: int = 12) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in base)  # type: ignore[return-value]


def face_crop(rng: random.Random, name: str, size: tuple[int, int]) -> tuple[Image.Image, list[int]]:
    """A portrait crop of a sample photo resized to `size`, and the face box inside it."""
    img = photo(name)
    fx0, fy0, fx1, fy1 = FACE_BOXES[name]
    s = fx1 - fx0
    cx = (fx0 + fx1) / 2
    w = s * rng.uniform(1.7, 2.1)
    h = w * size[1] / size[0]
    x0 = max(0, cx - w / 2)
    y0 = max(0, fy0 - s * rng.uniform(0.45, 0.65))
    x1, y1 = min(img.width, x0 + w), min(img.height, y0 + h)
    crop = img.crop((int(x0), int(y0), int(x1), int(y1)))
    sx, sy = size[0] / crop.width, size[1] / crop.height
    flip = rng.random() < 0.5
    crop = crop.resize(size, Image.LANCZOS)
    box = [(fx0 - int(x0)) * sx, (fy0 - int(y0)) * sy, (fx1 - int(x0)) * sx, (fy1 - int(y0)) * sy]
    if flip:
        crop = ImageOps.mirror(crop)
        box = [size[0] - box[2], box[1], size[0] - box[0], box[3]]
    return crop, [int(round(v)) for v in box]


# --------------------------------------------------------------------------------------------- categories

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
        return Scene(p.img, p.items)
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
    return Scene(p.img, p.items)


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
    return Scene(p.img, p.items)


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
    return Scene(p.img, p.items)


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
    return Scene(p.img, p.items)


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
    return Scene(p.img, p.items)


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
    return Scene(p.img, p.items)


CODE_BG = [(30, 30, 30), (40, 44, 52), (13, 17, 23), (39, 40, 34)]
SYN = {"kw": (197, 134, 192), "str": (206, 145, 120), "var": (156, 220, 254), "com": (106, 153, 85),
       "txt": (212, 212, 212), "num": (181, 206, 168), "prompt": (80, 250, 123)}

_SECRET_VARS = {"aws_key": "AWS_ACCESS_KEY_ID", "aws_secret": "AWS_SECRET_ACCESS_KEY", "github": "GITHUB_TOKEN",
                "slack": "SLACK_BOT_TOKEN", "stripe": "STRIPE_SECRET_KEY", "openai": "OPENAI_API_KEY",
                "anthropic": "ANTHROPIC_API_KEY", "google": "GOOGLE_API_KEY", "jwt": "AUTH_TOKEN",
                "postgres": "DATABASE_URL"}


def _code_lines(rng: random.Random, clean: bool, terminal: bool) -> list[list[tuple[str, str, str | None]]]:
    """Lines of (text, syntax colour, entity) runs."""
    lines: list[list[tuple[str, str, str | None]]] = []
    kinds = rng.sample(SECRET_KINDS, k=rng.randint(2, 5))
    if terminal:
        lines.append([("$ ", "prompt", None), ("git log -1", "txt", None)])
        lines.append([(f"commit {_rand(rng, '0123456789abcdef', 40)}", "num", None)])
        if clean:
            lines.append([("Author: release-bot <noreply@example.com>", "txt", None)])
        else:
            first, last = person(rng)
            lines += [[("Author: ", "txt", None), (f"{first} {last}", "txt", "PERSON"), (" <", "txt", None),
                       (email_for(rng, first, last), "txt", "EMAIL_ADDRESS"), (">", "txt", None)]]
        lines.append([(f"    Bump version to {rng.randint(1, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", "txt", None)])
        if clean:
            lines += [[("$ ", "prompt", None), ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "txt", None)],
                      [("$ ", "prompt", None), ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "txt", None)],
                      [("$ ", "prompt", None), ('export OPENAI_API_KEY="$(pass show openai)"', "txt", None)],
                      [("$ ", "prompt", None), ("pip install torch==2.14.1 numpy==2.4.6", "txt", None)],
                      [("Successfully installed numpy-2.4.6 torch-2.14.1", "txt", None)],
                      [("$ ", "prompt", None), ("psql postgres://localhost:5432/app", "txt", None)]]
        else:
            for k in kinds:
                v = secret(rng, k)
                if k == "postgres":
                    lines.append([("$ ", "prompt", None), ("psql ", "txt", None), (v, "txt", "SECRET")])
                elif k == "jwt":
                    lines.append([("$ ", "prompt", None), ('curl -H "Authorization: Bearer ', "txt", None),
                                  (v, "txt", "SECRET"), ('" api/v1/me', "txt", None)])
                else:
                    lines.append([("$ ", "prompt", None), (f"export {_SECRET_VARS[k]}=", "txt", None),
                                  (v, "txt", "SECRET")])
            if rng.random() < 0.5:
                lines.append([("$ ", "prompt", None), ("cat ~/.ssh/id_rsa", "txt", None)])
                pem = pem_lines(rng)
                for i, ln in enumerate(pem):
                    lines.append([(ln, "txt", "PEM" if i == 0 else "PEM+")])
        lines.append([("$ ", "prompt", None), ("_", "txt", None)])
        return lines
    lines += [[("# settings.py", "com", None)], [("import ", "kw", None), ("os", "txt", None)], []]
    if clean:
        lines += [[("OPENAI_API_KEY", "var", None), (" = ", "txt", None), ('os.environ["OPENAI_API_KEY"]', "txt", None)],
                  [("AWS_ACCESS_KEY_ID", "var", None), (" = ", "txt", None), ('"AKIAIOSFODNN7EXAMPLE"', "str", None),
                   ("  # AWS docs example", "com", None)],
                  [("GITHUB_TOKEN", "var", None), (" = ", "txt", None), ('"<your-github-token>"', "str", None)],
                  [("STRIPE_KEY", "var", None), (" = ", "txt", None), ('"sk_live_" + "*" * 24', "str", None)],
                  [("BUILD_SHA", "var", None), (" = ", "txt", None), (f'"{_rand(rng, "0123456789abcdef", 40)}"', "str", None)],
                  [("REQUEST_ID", "var", None), (" = ", "txt", None), (f'"{_rand(rng, "0123456789abcdef", 8)}-4e1b-9a2c-{_rand(rng, "0123456789abcdef", 12)}"', "str", None)],
                  [("VERSION", "var", None), (" = ", "txt", None), (f'"{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"', "str", None)],
                  [("DATABASE_URL", "var", None), (" = ", "txt", None), ('"postgres://localhost:5432/dev"', "str", None)]]
    else:
        for k in kinds:
            v = secret(rng, k)
            lines.append([(_SECRET_VARS[k], "var", None), (' = "', "str", None), (v, "str", "SECRET"),
                          ('"', "str", None)])
    lines += [[], [("def ", "kw", None), ("connect", "txt", None), ("(timeout=", "txt", None), ("30", "num", None),
                                                                     ("):", "txt", None)],
              [("    return ", "kw", None), ("Client(OPENAI_API_KEY, timeout=timeout)", "txt", None)]]
    return lines


def code(rng: random.Random, clean: bool, terminal: bool) -> Scene:
    size = rng.randint(13, 20)
    f = font("mono", size, rng)
    lh = int(size * 1.45)
    lines = _code_lines(rng, clean, terminal)
    w = max(1100, int(max((f.getlength("".join(t for t, _, _ in ln)) for ln in lines if ln), default=0)) + 140)
    h = 80 + lh * (len(lines) + 2)
    bg = rng.choice(CODE_BG)
    p = Page(w, h, bg)
    p.draw.rectangle([0, 0, w, 36], fill=tuple(max(0, c - 12) for c in bg))
    for i, c in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
        p.draw.ellipse([14 + i * 22, 11, 28 + i * 22, 25], fill=c)
    p.text((w // 2 - 60, 9), "zsh" if terminal else "settings.py", font("sans", 14), (180, 180, 180))
    y, x0 = 56, 20 if terminal else 70
    pem_box: list[float] | None = None
    pem_first = ""
    for i, ln in enumerate(lines):
        if not terminal:
            p.text((16, y), f"{i + 1:>3}", f, (110, 110, 110))
        x = x0
        for text, color, ent in ln:
            label = ent if ent in ("SECRET", "PERSON", "EMAIL_ADDRESS") else None
            box = p.text((x, y), text, f, SYN[color], label)
            if ent == "PEM":
                pem_box = list(box)
            elif ent == "PEM+" and pem_box is not None:
                pem_box = [min(pem_box[0], box[0]), pem_box[1], max(pem_box[2], box[2]), box[3]]
                pem_first = pem_first or text
            x += p.draw.textlength(text, font=f)
        y += lh
    if pem_box is not None:
        p.label("SECRET", pem_box, pem_first)  # the whole block; its first key line is the leak probe
    return Scene(p.img, p.items)


ISSUERS = [("D<<", "BUNDESREPUBLIK DEUTSCHLAND", "DEUTSCH"), ("GBR", "UNITED KINGDOM", "BRITISH CITIZEN"),
           ("FRA", "REPUBLIQUE FRANCAISE", "FRANCAISE"), ("NLD", "KONINKRIJK DER NEDERLANDEN", "NEDERLANDSE"),
           ("ITA", "REPUBBLICA ITALIANA", "ITALIANA"), ("CAN", "CANADA", "CANADIAN")]


def id_document(rng: random.Random, clean: bool, passport: bool) -> Scene:
    w, h = (1250, 880) if passport else (1012, 638)
    base = rng.choice([(232, 240, 246), (241, 236, 226), (236, 242, 232), (245, 236, 240)])
    p = Page(w, h, base)
    for k in range(0, w + h, 14):  # guilloche-ish security pattern
        p.draw.line([k, 0, k - h, h], fill=_rgb_jitter(rng, base, 10), width=1)
    issuer, country, nationality_word = rng.choice(ISSUERS)
    head = font("sans-bold", 28 if passport else 22, rng)
    p.text((40, 24), country, head, (40, 50, 90))
    p.text((40, 24 + head.size + 6), "PASSPORT / PASSEPORT" if passport else "IDENTITY CARD / CARTE D'IDENTITE",
           font("sans", 18 if passport else 15, rng), (60, 60, 90))
    photo_size = (300, 390) if passport else (240, 310)
    px, py = 40, 120 if passport else 96
    img, fbox = face_crop(rng, rng.choice(["astronaut", "grace_hopper"]), photo_size)
    p.img.paste(img, (px, py))
    p.label("FACE", [fbox[0] + px, fbox[1] + py, fbox[2] + px, fbox[3] + py], None, "face")
    first, last = person(rng)
    y0, m0, d0 = birth_date(rng)
    sex = rng.choice("MF")
    number = rng.choice("CFGHJKLMNPRTVWXYZ") + "".join(rng.choice("CFGHJKLMNPRTVWXYZ" + string.digits) for _ in range(8))
    expiry = (rng.randint(2027, 2034), rng.randint(1, 12), rng.randint(1, 28))
    lab, val = font("sans", 13 if passport else 12, rng), font("sans-bold", 22 if passport else 19, rng)
    fx, fy = px + photo_size[0] + 40, py
    dob_s = f"{d0:02d} {MONTHS[m0 - 1][:3].upper()} {y0}"
    fields = [("Surname / Nom", last.upper(), "PERSON"), ("Given names / Prenoms", first.upper(), "PERSON"),
              ("Nationality", nationality_word, None), ("Date of birth", dob_s, "DATE_OF_BIRTH"),
              ("Sex", sex, None),
              ("Date of expiry", f"{expiry[2]:02d} {MONTHS[expiry[1] - 1][:3].upper()} {expiry[0]}", None),
              ("Document No.", number, "ID_DOCUMENT_NUMBER")]
    for label, value, ent in fields:
        p.text((fx, fy), label, lab, (90, 90, 110))
        p.text((fx, fy + lab.size + 3), value, val, (10, 10, 20), ent)
        fy += lab.size + val.size + (18 if passport else 12)
    yymmdd = lambda ymd: f"{ymd[0] % 100:02d}{ymd[1]:02d}{ymd[2]:02d}"  # noqa: E731
    nat = issuer
    if passport:
        lines = list(mrz_td3(issuer, last, first, number, nat, yymmdd((y0, m0, d0)), sex, yymmdd(expiry)))
    else:
        lines = list(mrz_td1(issuer, last, first, number, nat, yymmdd((y0, m0, d0)), sex, yymmdd(expiry)))
    mf = font("mono-bold", 30 if passport else 30, rng)
    mrz_h = int(mf.size * 1.35)
    y = h - 30 - mrz_h * len(lines)
    p.draw.rectangle([0, y - 16, w, h], fill=_rgb_jitter(rng, (250, 250, 250), 3))
    for ln in lines:
        lw = mf.getlength(ln)
        p.text(((w - lw) / 2, y), ln, mf, (0, 0, 0), "MRZ")
        y += mrz_h
    return Scene(p.img, p.items)


def _gps_exif(rng: random.Random, with_gps: bool) -> Image.Exif:
    ex = Image.Exif()
    ex[0x010F], ex[0x0110] = rng.choice([("Apple", "iPhone 14 Pro"), ("Google", "Pixel 8"), ("samsung", "SM-S918B"),
                                         ("Canon", "Canon EOS R6")])
    ex[0x0132] = f"2024:{rng.randint(1, 12):02d}:{rng.randint(1, 28):02d} {rng.randint(7, 20):02d}:14:03"
    if with_gps:
        lat, lon = rng.uniform(-60, 65), rng.uniform(-150, 150)
        dms = lambda v: (float(int(abs(v))), float(int(abs(v) * 60 % 60)), round(abs(v) * 3600 % 60, 2))  # noqa: E731
        ex.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W",
                                   4: dms(lon), 5: 0, 6: float(rng.randint(2, 900))})
    return ex


def face_photo(rng: random.Random, clean: bool) -> Scene:
    """A real photo with a face, rescaled, sometimes cropped, sometimes with GPS EXIF."""
    name = rng.choice(["astronaut", "grace_hopper", "messi"])
    img = photo(name)
    box = list(FACE_BOXES[name])
    if rng.random() < 0.4:  # crop around the face
        s = box[2] - box[0]
        x0 = max(0, box[0] - rng.randint(int(s * 0.5), int(s * 2)))
        y0 = max(0, box[1] - rng.randint(int(s * 0.5), int(s * 1.5)))
        x1 = min(img.width, box[2] + rng.randint(int(s * 0.5), int(s * 2)))
        y1 = min(img.height, box[3] + rng.randint(int(s * 0.5), int(s * 2)))
        img = img.crop((x0, y0, x1, y1))
        box = [box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0]
    scale = rng.uniform(0.8, 2.5) if name == "messi" else rng.uniform(0.6, 2.2)
    img = img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
    box = [int(round(v * scale)) for v in box]
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
        box = [img.width - box[2], box[1], img.width - box[0], box[3]]
    items = [Item("FACE", box, None, "face")]
    gps = rng.random() < 0.4
    if gps:
        items.append(Item("EXIF_GPS", None, None, "metadata"))
    return Scene(img, items, _gps_exif(rng, gps), photo=True)


def _landscape(rng: random.Random) -> Image.Image:
    w, h = rng.choice([(1600, 1200), (1200, 900), (2000, 1500)])
    top, bottom = np.array(_rgb_jitter(rng, (90, 150, 230), 30)), np.array(_rgb_jitter(rng, (230, 200, 160), 30))
    t = np.linspace(0, 1, h)[:, None, None]
    arr = (top * (1 - t) + bottom * t).repeat(w, axis=1).astype(np.uint8)
    img = Image.fromarray(arr)
    d = ImageDraw.Draw(img)
    sx, sy = rng.randint(100, w - 100), rng.randint(60, h // 3)
    d.ellipse([sx - 50, sy - 50, sx + 50, sy + 50], fill=(255, 230, 150))
    for layer in range(3):
        base = h * (0.45 + 0.15 * layer)
        pts = [(0, h)] + [(x, base - rng.randint(0, int(h * 0.25))) for x in range(0, w + 200, 200)] + [(w, h)]
        col = _rgb_jitter(rng, (60 - 15 * layer, 100 - 20 * layer, 70 - 15 * layer), 15)
        d.polygon(pts, fill=col)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(1.5))).astype(np.int16)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, arr.shape)
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8))


def gps_photo(rng: random.Random, clean: bool) -> Scene:
    """A photo without people; with GPS EXIF (PII) or only camera EXIF (clean)."""
    if rng.random() < 0.4:
        img = _landscape(rng)
    else:
        img = photo(rng.choice(NO_FACE_PHOTOS))
        scale = rng.uniform(1.0, 2.5)
        img = img.resize((int(img.width * scale), int(img.height * scale)), Image.LANCZOS)
    items = [] if clean else [Item("EXIF_GPS", None, None, "metadata")]
    return Scene(img, items, _gps_exif(rng, not clean), photo=True)


def qr_card(rng: random.Random, clean: bool) -> Scene:
    """Business card / flyer with a QR code: a vCard (email + phone) or, clean, a URL."""
    w, h = rng.choice([(1050, 600), (1200, 700)])
    p = Page(w, h, _rgb_jitter(rng, (250, 250, 248), 5))
    p.draw.rectangle([0, 0, 18, h], fill=_rgb_jitter(rng, (30, 80, 160), 40))
    company = rng.choice(COMPANIES)
    p.text((60, 50), company, font("sans-bold", 30, rng), (30, 40, 70))
    if clean:
        content = rng.choice(["https://example.com/menu", "https://example.com/app?ref=flyer",
                              f"https://example.org/events/{rng.randint(100, 999)}"])
        p.text((60, 140), rng.choice(["Scan for our menu", "Download the app", "Event details"]),
               font("sans", 26, rng), (40, 40, 40))
    else:
        first, last = person(rng)
        mail, tel = email_for(rng, first, last), phone(rng)
        content = (f"BEGIN:VCARD\nVERSION:3.0\nN:{last};{first}\nFN:{first} {last}\nORG:{company}\n"
                   f"TEL;TYPE=CELL:{tel}\nEMAIL:{mail}\nEND:VCARD")
        p.line(60, 140, [(f"{first} {last}", "PERSON")], font("sans-bold", 34, rng), (20, 20, 20))
        p.text((60, 195), rng.choice(["Account Manager", "Senior Engineer", "Head of Sales", "Recruiter"]),
               font("sans", 24, rng), (70, 70, 70))
        p.text((60, h - 90), "Scan to save my contact", font("sans", 20, rng), (90, 90, 90))
    code_img = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.QRCode),
                                               scale=rng.choice([5, 6, 7]))
    qr = Image.fromarray(np.asarray(code_img)).convert("RGB")
    qx, qy = w - qr.width - 50, (h - qr.height) // 2
    p.img.paste(qr, (qx, qy))
    if not clean:
        qbox = [qx, qy, qx + qr.width, qy + qr.height]
        p.label("EMAIL_ADDRESS", qbox, mail, "barcode")
        p.label("PHONE_NUMBER", qbox, tel, "barcode")
    return Scene(p.img, p.items)


CATEGORIES: dict[str, tuple] = {  # name: (renderer, pii count, clean count, text-like (transformable))
    "letter": (letter, 14, 5, True),
    "invoice": (invoice, 14, 4, True),
    "hr_form": (hr_form, 14, 4, True),
    "it_ticket": (it_ticket, 8, 0, True),
    "directory": (directory, 6, 0, False),
    "chat_light": (lambda r, c: chat(r, c, dark=False), 12, 4, True),
    "chat_dark": (lambda r, c: chat(r, c, dark=True), 12, 4, True),
    "code_editor": (lambda r, c: code(r, c, terminal=False), 12, 6, True),
    "terminal": (lambda r, c: code(r, c, terminal=True), 12, 6, True),
    "passport": (lambda r, c: id_document(r, c, passport=True), 10, 0, True),
    "id_card": (lambda r, c: id_document(r, c, passport=False), 10, 0, True),
    "face_photo": (face_photo, 12, 0, False),
    "gps_photo": (gps_photo, 8, 14, False),
    "qr_card": (qr_card, 8, 4, False),
}


# --------------------------------------------------------------------------------------------- transforms

def _map_items(items: list[Item], fn, size: tuple[int, int]) -> list[Item]:
    """Map each box through a point transform; the new box is the bounding box of the mapped corners."""
    out = []
    for it in items:
        if it.box is None:
            out.append(it)
            continue
        x0, y0, x1, y1 = it.box
        pts = np.array(fn(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)))
        bx0, by0 = np.floor(pts.min(axis=0))
        bx1, by1 = np.ceil(pts.max(axis=0))
        box = [int(max(0, bx0)), int(max(0, by0)), int(min(size[0], bx1)), int(min(size[1], by1))]
        out.append(Item(it.entity, box, it.text, it.source))
    return out


def _bg(img: Image.Image) -> tuple[int, int, int]:
    return img.getpixel((2, img.height - 3))  # type: ignore[return-value]


def rotate_small(scene: Scene, angle: float) -> Scene:
    img = np.asarray(scene.img)
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=_bg(scene.img))
    fn = lambda pts: pts @ m[:, :2].T + m[:, 2]  # noqa: E731
    return Scene(Image.fromarray(out), _map_items(scene.items, fn, (nw, nh)), scene.exif)


def rotate_90(scene: Scene) -> Scene:
    """Rotate 90 degrees counter-clockwise: the text now runs bottom-to-top."""
    w = scene.img.width
    out = scene.img.transpose(Image.Transpose.ROTATE_90)
    fn = lambda pts: np.stack([pts[:, 1], w - pts[:, 0]], axis=1)  # noqa: E731
    return Scene(out, _map_items(scene.items, fn, out.size), scene.exif)


def phone_shot(scene: Scene, rng: random.Random) -> Scene:
    """Phone photo of a screen: perspective, blur, noise, uneven light."""
    src = np.asarray(scene.img)
    h, w = src.shape[:2]
    margin = int(max(w, h) * 0.08)
    ow, oh = w + 2 * margin, h + 2 * margin
    j = lambda: rng.uniform(-0.6, 0.6) * margin  # noqa: E731
    dst = np.float32([[margin + j(), margin + j()], [margin + w + j(), margin + j()],
                      [margin + w + j(), margin + h + j()], [margin + j(), margin + h + j()]])
    hm = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    out = cv2.warpPerspective(src, hm, (ow, oh), flags=cv2.INTER_LINEAR, borderValue=(40, 40, 45))
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.7, 1.3))
    gen = np.random.default_rng(rng.randint(0, 2**31))
    shade = np.linspace(rng.uniform(0.8, 0.95), rng.uniform(1.0, 1.1), ow)[None, :, None]
    out = np.clip(out.astype(np.float32) * shade + gen.normal(0, 6, out.shape), 0, 255).astype(np.uint8)
    fn = lambda pts: cv2.perspectiveTransform(pts.reshape(-1, 1, 2), hm).reshape(-1, 2)  # noqa: E731
    return Scene(Image.fromarray(out), _map_items(scene.items, fn, (ow, oh)), scene.exif)


def make_large(scene: Scene, rng: random.Random) -> Scene:
    """3000x2000: either an upscaled page or the page as a window on a big desktop screenshot."""
    W, H = 3000, 2000
    img = scene.img
    if rng.random() < 0.5:
        s = min(W / img.width, H / img.height)
        big = img.resize((int(img.width * s), int(img.height * s)), Image.LANCZOS)
        canvas = Image.new("RGB", (W, H), _bg(img))
        ox, oy = (W - big.width) // 2, (H - big.height) // 2
        canvas.paste(big, (ox, oy))
        fn = lambda pts: pts * s + [ox, oy]  # noqa: E731
    else:
        canvas = Image.fromarray(np.asarray(_landscape(rng).resize((W, H))))
        if img.height > H - 100:
            s = (H - 100) / img.height
            img = img.resize((int(img.width * s), int(img.height * s)), Image.LANCZOS)
        else:
            s = 1.0
        ox, oy = rng.randint(0, W - img.width), rng.randint(40, H - img.height)
        canvas.paste(img, (ox, oy))
        fn = lambda pts: pts * s + [ox, oy]  # noqa: E731
    return Scene(canvas, _map_items(scene.items, fn, (W, H)), scene.exif)


# --------------------------------------------------------------------------------------------- corpus

@dataclass
class Spec:
    index: int
    category: str
    clean: bool
    geometry: str = "none"  # none | rotate | rot90 | phone | large | exif_orient
    jpeg_quality: int | None = None


def build_specs(seed: int = DEFAULT_SEED) -> list[Spec]:
    """The full, interleaved list of images to render. Transforms are assigned from the seed."""
    rng = random.Random(f"specs-{seed}")
    per_cat: list[list[Spec]] = []
    for cat, (_, n_pii, n_clean, _) in CATEGORIES.items():
        flags = [False] * n_pii + [True] * n_clean
        rng.shuffle(flags)
        per_cat.append([Spec(0, cat, c) for c in flags])
    specs: list[Spec] = []
    while any(per_cat):
        for lst in per_cat:
            if lst:
                specs.append(lst.pop(0))
    for i, s in enumerate(specs):
        s.index = i
    text_like = [s for s in specs if CATEGORIES[s.category][3]]
    order = text_like[:]
    rng.shuffle(order)
    plan = ["rotate"] * 8 + ["rot90"] * 5 + ["phone"] * 6 + ["large"] * 5 + ["exif_orient"] * 3
    for s, g in zip(order, plan):
        s.geometry = g
    for s in text_like:
        if s.geometry == "phone" or rng.random() < 0.3:
            s.jpeg_quality = rng.randint(40, 70)
    for s in specs:
        if not CATEGORIES[s.category][3]:
            s.jpeg_quality = rng.randint(45, 92) if CATEGORIES[s.category][0] in (face_photo, gps_photo) else None
    return specs


def render(spec: Spec, seed: int = DEFAULT_SEED) -> tuple[bytes, str, dict]:
    """Render one image: (file bytes, file extension, manifest entry without the file name)."""
    rng = random.Random(f"img-{seed}-{spec.index}")
    scene: Scene = CATEGORIES[spec.category][0](rng, spec.clean)
    if spec.geometry == "rotate":
        scene = rotate_small(scene, rng.choice([-1, 1]) * rng.uniform(1.0, 4.0))
    elif spec.geometry == "rot90":
        scene = rotate_90(scene)
    elif spec.geometry == "phone":
        scene = phone_shot(scene, rng)
    elif spec.geometry == "large":
        scene = make_large(scene, rng)
    img, exif = scene.img, scene.exif
    stored = img
    if spec.geometry == "exif_orient":  # stored sideways; Orientation=6 tells viewers to turn it upright
        stored = img.transpose(Image.Transpose.ROTATE_90)
        exif = exif or Image.Exif()
        exif[0x0112] = 6
    buf = io.BytesIO()
    if spec.jpeg_quality is not None or exif is not None:
        ext = "jpg"
        kw = {"exif": exif} if exif is not None else {}
        stored.save(buf, "JPEG", quality=spec.jpeg_quality or 90, **kw)
    else:
        ext = "png"
        stored.save(buf, "PNG", compress_level=1)
    for it in scene.items:
        if it.box is not None:
            x0, y0, x1, y1 = it.box
            assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height, (spec, it)
    entry = {
        "category": spec.category, "clean": spec.clean, "width": img.width, "height": img.height,
        "geometry": spec.geometry, "jpeg_quality": spec.jpeg_quality,
        "items": [it.to_json() for it in scene.items],
    }
    assert spec.clean == (not scene.items), spec
    return buf.getvalue(), ext, entry


def generate(out: Path, seed: int = DEFAULT_SEED, limit: int | None = None) -> dict:
    """Write the images and manifest.json into `out`; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    images = []
    for spec in build_specs(seed)[:limit]:
        data, ext, entry = render(spec, seed)
        name = f"{spec.index:04d}_{spec.category}.{ext}"
        (out / name).write_bytes(data)
        images.append({"file": name, **entry})
    manifest = {"version": MANIFEST_VERSION, "seed": seed, "images": images}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("bench/out/corpus"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    m = generate(args.out, args.seed, args.limit)
    n_items = sum(len(i["items"]) for i in m["images"])
    n_clean = sum(i["clean"] for i in m["images"])
    print(f"{len(m['images'])} images ({n_clean} clean), {n_items} labelled items -> {args.out} "
          f"in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
