"""Reading probe: labelled values in fonts, sizes, themes, layouts and degradations that neither corpus split draws,
and which of those factors lose them.

    python -m bench.probe [--images 300] [--seed 11] [--entities IBAN_CODE,EMAIL_ADDRESS,...] [--only xheight=5,6]
                          [--out F] [--save DIR]

Each probe image is a small page of four values (an IBAN of one of 18 countries, a card, an e-mail, a key, ...),
drawn in one face (third faces: families neither split draws, light, condensed and italic cuts of dev families), at
one x-height (5-30 px), one theme and one layout (`Label: value` lines, the value in a sentence, ruled table rows,
the value alone, two columns of fields with the label above the value), then maybe degraded. The Inspector reads it; an item counts as found
as in bench.detection (IoU or coverage). The report is the found rate per level of every factor, so a factor that
loses values shows as a low row; and the character error rate of the values as read. Values come from bench.corpus's
generators with the probe's own seed; nothing here is drawn from the test split's templates or faces.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import string
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench import corpus as C
from bench import decoys
from bench.detection import FLAG_SCORE, match_image
from bench.reading import edit_distance, normalize, words_in

_T, _O = "/usr/share/fonts/truetype/", "/usr/share/fonts/opentype/"
FACES = {  # name: path; none of them is a face of either split (bench.corpus FONT_ROLES)
    "Biolinum": _O + "linux-libertine/LinBiolinum_R.otf", "Biolinum-Italic": _O + "linux-libertine/LinBiolinum_RI.otf",
    "LibertineMono": _O + "linux-libertine/LinLibertine_M.otf",
    "NotoSansDisplay": _T + "noto/NotoSansDisplay-Regular.ttf", "NotoMono": _T + "noto/NotoMono-Regular.ttf",
    "DejaVuSansCondensed": _T + "dejavu/DejaVuSansCondensed.ttf", "DejaVuSans-ExtraLight": _T + "dejavu/DejaVuSans-ExtraLight.ttf",
    "Roboto-Light": _T + "roboto/unhinted/RobotoTTF/Roboto-Light.ttf",
    "Roboto-MediumItalic": _T + "roboto/unhinted/RobotoTTF/Roboto-MediumItalic.ttf",
    "OpenSans-Semibold": _T + "open-sans/OpenSans-Semibold.ttf", "OpenSans-LightItalic": _T + "open-sans/OpenSans-LightItalic.ttf",
    "Cantarell-Light": _O + "cantarell/Cantarell-Light.otf", "Cantarell-ExtraBold": _O + "cantarell/Cantarell-ExtraBold.otf",
}
XHEIGHTS = (5, 6, 8, 11, 16, 22, 30)
THEMES = {  # (background, ink)
    "light": ((255, 255, 255), (20, 20, 20)), "paper": ((244, 240, 228), (60, 52, 45)),
    "dark": ((24, 26, 30), (210, 212, 214)), "low_contrast": ((236, 236, 236), (150, 150, 150)),
    "blue_link": ((255, 255, 255), (25, 90, 200)), "night_blue": ((18, 32, 64), (240, 200, 90)),
}
LAYOUTS = ("label", "sentence", "table", "bare", "card")  # card: an ID card's or form's label above its value
DEGRADATIONS = ("none", "none", "jpeg40", "blur", "half_up")
IBAN_BBAN = {  # country: BBAN layout (n: digits, a: capital letters, c: either), from the IBAN registry
    "DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "NL": "4a10n", "BE": "12n", "ES": "20n", "AT": "16n", "CH": "17n",
    "IT": "1a10n12c", "PL": "24n", "SE": "20n", "DK": "14n", "FI": "14n", "PT": "21n", "IE": "4a14n", "NO": "11n",
    "LU": "3n13c", "CZ": "20n",
}
NAMES = (["Aiko", "Bartholomew", "Chidi", "Dagny", "Eamon", "Fatima", "Giorgos", "Hana", "Idris", "Joaquim",
          "Katarzyna", "Luca", "Mirela", "Noor", "Oskar", "Priya", "Radu", "Siobhan", "Teodor", "Yara"],
         ["Achterberg", "Barros", "Cieslak", "Delacroix", "Ekwueme", "Fontaine", "Grabowski", "Haddad", "Iversen",
          "Jaramillo", "Kowalczyk", "Lindgren", "Moreau", "Nwosu", "O'Brien", "Pereira", "Rasmussen", "Szabo"])
DOMAINS = ["fastmail.fm", "web.de", "orange.fr", "seznam.cz", "yahoo.co.uk", "outlook.com", "kpnmail.nl", "wp.pl"]


def _bban(rng: random.Random, layout: str) -> str:
    out, count = "", ""
    for ch in layout:
        if ch.isdigit():
            count += ch
            continue
        pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[ch]
        out += "".join(rng.choice(pool) for _ in range(int(count)))
        count = ""
    return out


def iban_any(rng: random.Random, country: str) -> str:
    """A mod-97-valid IBAN of `country` (national check digits not computed), printed in groups of four or not."""
    bban = _bban(rng, IBAN_BBAN[country])
    check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
    raw = f"{country}{check:02d}{bban}"
    assert C.iban_ok(raw)
    return raw if rng.random() < 0.25 else " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def person_form(rng: random.Random, first: str, last: str) -> str:
    """A name as forms, lists and cards print it."""
    middle = rng.choice(string.ascii_uppercase)
    return rng.choice([f"{first} {last}", f"{first} {last}", f"{last}, {first}", f"{first} {middle}. {last}",
                       f"{last.upper()} {first}", f"{first.upper()} {last.upper()}", f"{first}-{rng.choice(NAMES[0])} {last}"])


def dob_form(rng: random.Random, ymd: tuple[int, int, int]) -> str:
    """A birth date in the numeric forms of bench.corpus or as ID cards and letters spell it."""
    y, m, d = ymd
    month = C.MONTHS[m - 1]
    return rng.choice([C.dob_wide(rng, ymd), C.dob_wide(rng, ymd), f"{d:02d} {month[:3].upper()} {y}",
                       f"{d:02d} {m:02d} {y}", f"{month} {d}, {y}", f"{d} {month} {y}", f"{y}/{m:02d}/{d:02d}"])


@dataclass
class Value:
    entity: str
    text: str
    labels: tuple[str, ...]
    sentence: str  # with {} for the value


def value(rng: random.Random, entity: str) -> Value:
    first, last = rng.choice(NAMES[0]), rng.choice(NAMES[1])
    vocab = C.VOCABS["dev"]
    if entity == "IBAN_CODE":
        return Value(entity, iban_any(rng, rng.choice(sorted(IBAN_BBAN))), ("IBAN", "Account (IBAN)", "Bank account"),
                     "Please transfer the deposit to {} before Friday.")
    if entity == "CREDIT_CARD":
        return Value(entity, C.card(rng), ("Card number", "Card", "PAN"), "The card {} was charged twice.")
    if entity == "US_SSN":
        return Value(entity, C.ssn(rng), ("SSN", "Social Security No."), "My social security number is {} as asked.")
    if entity == "EMAIL_ADDRESS":
        return Value(entity, C.email_wide(rng, first, last, DOMAINS), ("E-mail", "Email", "Contact"),
                     "Write to {} for the invoice.")
    if entity == "IP_ADDRESS":
        ip = C.ipv6_global(rng) if rng.random() < 0.35 else C.ipv4_public(rng)
        return Value(entity, ip, ("Host", "Server IP", "Source"), "Connection refused from {} at 09:14.")
    if entity == "SECRET":
        kind = rng.choice(["aws_key", "aws_secret", "github", "slack", "stripe", "openai", "gitlab", "npm", "db_url"])
        return Value(entity, C.secret_wide(rng, kind), ("Token", "API key", "Secret"), "export KEY={}")
    if entity == "PHONE_NUMBER":
        return Value(entity, C.phone_wide(rng, rng.choice(["US", "GB", "DE", "FR", "NL", "CA"])),
                     ("Phone", "Tel.", "Mobile"), "Call me on {} after six.")
    if entity == "PERSON":
        return Value(entity, person_form(rng, first, last),
                     ("Name", "Full name", "Patient", "Surname / Given names", "Account holder", "Cardholder", "Employee",
                      "From", "Attn", "Signed"),
                     rng.choice(["Dear {}, thank you for your letter.", "Meeting with {} moved to Monday.",
                                 "Approved by {} on behalf of the board."]))
    if entity == "LOCATION":
        street, _ = C.address_lines(rng, vocab)
        return Value(entity, street, ("Address", "Street"), "We moved to {} last spring.")
    if entity == "DATE_OF_BIRTH":
        return Value(entity, dob_form(rng, C.birth_date(rng)),
                     ("Date of birth", "DOB", "Born", "Birth date", "D.O.B.", "Birthday", "Date of Birth / Date de naissance"),
                     rng.choice(["Born on {} in a small town.", "The patient (born {}) was admitted."]))
    raise ValueError(entity)


NEEDS_LABEL = {"DATE_OF_BIRTH"}  # a date alone is no date of birth: the bare layout keeps its label
ENTITIES = ("IBAN_CODE", "CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "IP_ADDRESS", "SECRET", "PHONE_NUMBER", "PERSON",
            "LOCATION", "DATE_OF_BIRTH")


@dataclass
class Sample:
    factors: dict[str, str]
    png: bytes
    items: list[dict]  # entity, box, text


def _font_at_xheight(path: str, xh: int) -> ImageFont.FreeTypeFont:
    size = max(4, round(xh * 2))
    f = ImageFont.truetype(path, size)
    actual = C.xheight(f) or xh
    return ImageFont.truetype(path, max(4, round(size * xh / actual)))


def _degrade(img: Image.Image, how: str) -> Image.Image:
    if how == "jpeg40":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=40)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if how == "blur":
        return img.filter(ImageFilter.GaussianBlur(0.9))
    if how == "half_up":  # shared at half size and scaled back up (a chat app's preview)
        small = img.resize((max(1, img.width // 2), max(1, img.height // 2)), Image.LANCZOS)
        return small.resize(img.size, Image.BICUBIC)
    return img


def decoy_value(rng: random.Random, kind: str) -> Value:
    """A look-alike of personal data (bench.decoys) as a probe value; its entity is `decoy:<kind>`."""
    text, labels, sentence = decoys.decoy(rng, kind)
    return Value(f"decoy:{kind}", text, labels, sentence)


def sample(rng: random.Random, entities: tuple[str, ...], decoy_kinds: tuple[str, ...] = ()) -> Sample:
    """One probe image of four labelled lines; its factors chosen independently at random. With `decoy_kinds`
    the values are look-alikes of those kinds instead of `entities`."""
    factors = {"face": rng.choice(sorted(FACES)), "xheight": str(rng.choice(XHEIGHTS)),
               "theme": rng.choice(sorted(THEMES)), "layout": rng.choice(LAYOUTS), "degrade": rng.choice(DEGRADATIONS)}
    f = _font_at_xheight(FACES[factors["face"]], int(factors["xheight"]))
    bg, ink = THEMES[factors["theme"]]
    values = [decoy_value(rng, rng.choice(decoy_kinds)) if decoy_kinds else value(rng, rng.choice(entities))
              for _ in range(4)]
    if factors["layout"] == "card":
        img, items = _card(values, [rng.choice(v.labels) for v in values], f, bg, ink)
        return _sample(factors, img, items)
    pad, line_h = int(f.size * 1.2), int(f.size * 2.2)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    labels = [rng.choice(v.labels) for v in values]
    label_w = max(probe.textlength(label + ": ", font=f) for label in labels) + f.size
    texts = []
    for v, label in zip(values, labels):
        if factors["layout"] == "label":
            texts.append([(f"{label}: ", None), (v.text, v.entity)])
        elif factors["layout"] == "sentence":
            head, tail = v.sentence.split("{}")
            texts.append([(head, None), (v.text, v.entity), (tail, None)])
        elif factors["layout"] == "table":
            texts.append([(label, None), (v.text, v.entity)])
        elif v.entity in NEEDS_LABEL:
            texts.append([(f"{label} ", None), (v.text, v.entity)])
        else:
            texts.append([(v.text, v.entity)])
    width = int(max(sum(probe.textlength(s, font=f) for s, _ in t) for t in texts) + label_w + 2 * pad)
    img = Image.new("RGB", (width, pad * 2 + line_h * len(texts)), bg)
    draw = ImageDraw.Draw(img)
    items = []
    for row, segs in enumerate(texts):
        x, y = pad, pad + row * line_h
        if factors["layout"] == "table":
            top, bottom = y - (line_h - f.size) // 2, y - (line_h - f.size) // 2 + line_h
            draw.rectangle((pad // 2, top, width - pad // 2, bottom), outline=ink)
            draw.line((pad + label_w - f.size // 2, top, pad + label_w - f.size // 2, bottom), fill=ink)
        for i, (s, entity) in enumerate(segs):
            if factors["layout"] == "table" and i == 1:
                x = pad + label_w
            draw.text((x, y), s, font=f, fill=ink)
            if entity:
                items.append({"entity": entity, "box": list(draw.textbbox((x, y), s, font=f)), "text": s,
                              "line": "".join(t for t, _ in segs)})
            x += draw.textlength(s, font=f)
    return _sample(factors, img, items)


def _card(values: list[Value], labels: list[str], f: ImageFont.FreeTypeFont, bg, ink) -> tuple[Image.Image, list]:
    """Two columns of fields, each a small capitals label with its value on the line below (ID cards, forms)."""
    small = ImageFont.truetype(f.path, max(4, round(f.size * 0.7)))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pad, gap = int(f.size * 1.2), int(f.size * 2.5)
    col_w = max(probe.textlength(v.text, font=f) for v in values) + gap
    row_h = int(small.size * 1.4 + f.size * 2.0)
    img = Image.new("RGB", (int(2 * pad + 2 * col_w), 2 * pad + 2 * row_h), bg)
    draw = ImageDraw.Draw(img)
    dim = tuple((2 * a + b) // 3 for a, b in zip(ink, bg))
    items = []
    for i, (v, label) in enumerate(zip(values, labels)):
        x, y = pad + (i % 2) * col_w, pad + (i // 2) * row_h
        draw.text((x, y), label.upper(), font=small, fill=dim)
        vy = y + int(small.size * 1.4)
        draw.text((x, vy), v.text, font=f, fill=ink)
        items.append({"entity": v.entity, "box": list(draw.textbbox((x, vy), v.text, font=f)), "text": v.text,
                      "line": f"{label.upper()} / {v.text}"})
    return img, items


MRZ_FACES = {"OCRB": _O + "ocr-b/OCRB.otf", "NotoMono": FACES["NotoMono"], "LibertineMono": FACES["LibertineMono"]}
MRZ_KINDS = ("TD1", "TD2", "TD3")


def mrz_lines(rng: random.Random, kind: str) -> tuple[str, ...]:
    """A valid machine-readable zone of `kind` for a probe person (bench.corpus builds the check digits)."""
    first, last = rng.choice(NAMES[0]), rng.choice(NAMES[1])
    issuer = rng.choice(["D<<", "FRA", "NLD", "POL", "SWE", "ITA", "GBR", "ESP"])
    nationality = rng.choice(["NOR", "DNK", "AUT", "CZE"])
    dob, expiry = C.yymmdd(C.birth_date(rng)), f"{rng.randint(27, 35)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    args = (issuer, last, first, C.mrz_number(rng), nationality, dob, rng.choice("MF"), expiry)
    lines = {"TD1": C.mrz_td1, "TD2": C.mrz_td2, "TD3": C.mrz_td3}[kind](*args)
    assert C.mrz_valid(list(lines)), lines
    return lines


def mrz_sample(rng: random.Random) -> Sample:
    """A page with one machine-readable zone in a monospace face (OCR-B, or a photocopy's look-alike), alone or
    at the foot of a card's printed fields; the same x-heights, themes and degradations as the value pages."""
    factors = {"face": rng.choice(sorted(MRZ_FACES)), "xheight": str(rng.choice(XHEIGHTS)),
               "theme": rng.choice(sorted(THEMES)), "layout": rng.choice(["zone", "card"]),
               "degrade": rng.choice(DEGRADATIONS), "kind": rng.choice(MRZ_KINDS)}
    f = _font_at_xheight(MRZ_FACES[factors["face"]], int(factors["xheight"]))
    label_font = _font_at_xheight(FACES["NotoSansDisplay"], int(factors["xheight"]))
    bg, ink = THEMES[factors["theme"]]
    lines = mrz_lines(rng, factors["kind"])
    head = (["IDENTITY CARD", f"Surname  {rng.choice(NAMES[1]).upper()}", "Document no.  see below"]
            if factors["layout"] == "card" else [])
    pad, line_h = int(f.size * 1.2), int(f.size * 1.6)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = int(max(probe.textlength(t, font=f) for t in lines) + 2 * pad)
    img = Image.new("RGB", (width, 2 * pad + line_h * (len(head) + len(lines)) + (line_h if head else 0)), bg)
    draw = ImageDraw.Draw(img)
    for i, t in enumerate(head):
        draw.text((pad, pad + i * line_h), t, font=label_font, fill=ink)
    top = pad + (len(head) + (1 if head else 0)) * line_h
    boxes = [draw.textbbox((pad, top + i * line_h), t, font=f) for i, t in enumerate(lines)]
    for i, t in enumerate(lines):
        draw.text((pad, top + i * line_h), t, font=f, fill=ink)
    box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    return _sample(factors, img, [{"entity": "MRZ", "box": box, "text": " ".join(lines), "line": " / ".join(lines)}])


def _sample(factors: dict[str, str], img: Image.Image, items: list[dict]) -> Sample:
    img = _degrade(img, factors["degrade"])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return Sample(factors, buf.getvalue(), items)


def run(samples: list[Sample], inspect: Callable[[bytes], tuple[list[dict], list]]) -> dict:
    """{factor: {level: [found, items]}} plus per-entity rows, the values' character error rate and every miss
    (image index, entity, the value, what was read in its box)."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    errors = chars = 0
    misses = []
    for n, s in enumerate(samples):
        findings, words = inspect(s.png)
        found, _ = match_image(s.items, findings)
        for item, ok in zip(s.items, found):
            for factor, level in [*s.factors.items(), ("entity", item["entity"])]:
                table[factor][level][0] += ok
                table[factor][level][1] += 1
            table["all"]["all"][0] += ok
            table["all"]["all"][1] += 1
            ref, read = normalize(item["text"]), words_in(item["box"], words)
            errors += edit_distance(ref, read, partial=True)
            chars += len(ref)
            if not ok:
                misses.append({"image": n, "entity": item["entity"], "text": item["text"], "read": read,
                               "line": item.get("line", ""), "layout": s.factors["layout"]})
        print(f"{n} {s.factors} {sum(found)}/{len(found)}", file=sys.stderr, flush=True)
    return {"found": {k: dict(v) for k, v in table.items()}, "value_cer": errors / max(1, chars), "misses": misses}


def _overlaps(item_box: list[int], box: list[int] | None) -> bool:
    if box is None:
        return False
    w = min(item_box[2], box[2]) - max(item_box[0], box[0])
    h = min(item_box[3], box[3]) - max(item_box[1], box[1])
    return w > 0 and h > 0


def run_decoys(samples: list[Sample], inspect: Callable[[bytes], tuple[list[dict], list]]) -> dict:
    """Decoy pages: {factor: {level: [flagged, total]}} (a page is flagged by any finding the default policy acts
    on; a decoy kind by such a finding on its box) and every false finding with what was read in its box."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    false = []
    for n, s in enumerate(samples):
        findings, words = inspect(s.png)
        acting = [f for f in findings if f.get("score", 1.0) >= FLAG_SCORE]
        for factor, level in [*s.factors.items(), ("all", "all")]:
            table[factor][level][0] += bool(acting)
            table[factor][level][1] += 1
        for item in s.items:
            hit = any(_overlaps(item["box"], f["box"]) for f in acting)
            table["kind"][item["entity"]][0] += hit
            table["kind"][item["entity"]][1] += 1
        for f in acting:
            on = [it["entity"] for it in s.items if _overlaps(it["box"], f["box"])]
            false.append({"image": n, "entity": f["entity"], "score": round(f.get("score", 1.0), 2),
                          "on": on[0] if on else "other text", "read": words_in(f["box"], words) if f["box"] else ""})
        print(f"{n} {s.factors} {len(acting)} acting", file=sys.stderr, flush=True)
    return {"found": {k: dict(v) for k, v in table.items()}, "false": false}


def markdown(result: dict) -> str:
    head = "flagged" if "false" in result else "found"
    lines = [f"value CER {100 * result['value_cer']:.1f} %", ""] if "value_cer" in result else []
    lines += [f"| factor | level | {head} | items |", "|---|---|---|---|"]
    for factor, levels in result["found"].items():
        for level, (ok, total) in sorted(levels.items(), key=lambda kv: kv[1][0] / kv[1][1]):
            lines.append(f"| {factor} | {level} | {ok / total:.2f} | {total} |")
    return "\n".join(lines)


def parse_only(spec: str) -> tuple[str, set[str]]:
    """`xheight=5,6` -> ("xheight", {"5", "6"})."""
    factor, _, levels = spec.partition("=")
    if factor not in ("face", "xheight", "theme", "layout", "degrade", "kind") or not levels:
        raise SystemExit(f"--only {spec}: FACTOR=LEVEL[,LEVEL] with FACTOR one of face, xheight, theme, layout, degrade, "
                         "kind (--mrz)")
    return factor, set(levels.split(","))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--entities", default=",".join(ENTITIES))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--only", action="append", default=[], metavar="FACTOR=LEVEL,...",
                    help="keep the pages of these levels only, e.g. --only xheight=5,6 (of the --images drawn)")
    ap.add_argument("--save", type=Path, help="write the probe images and their labels here")
    ap.add_argument("--mrz", action="store_true", help="pages of one machine-readable zone (TD1, TD2, TD3) instead")
    ap.add_argument("--decoys", nargs="?", const=",".join(decoys.KINDS), metavar="KIND,...",
                    help="pages of look-alikes of personal data instead (all kinds, or these): count what is flagged")
    args = ap.parse_args(argv)
    entities = tuple(e for e in args.entities.split(",") if e)
    unknown = [e for e in entities if e not in ENTITIES]
    if unknown:
        ap.error(f"unknown entities: {', '.join(unknown)}")
    kinds = tuple(k for k in (args.decoys or "").split(",") if k)
    if any(k not in decoys.KINDS for k in kinds):
        ap.error(f"unknown decoy kinds: {', '.join(k for k in kinds if k not in decoys.KINDS)}")
    only = dict(parse_only(o) for o in args.only)
    salt = "decoys/" if kinds else ""
    salt = "mrz/" if args.mrz else salt

    def draw(rng: random.Random) -> Sample:
        return mrz_sample(rng) if args.mrz else sample(rng, entities, kinds)

    samples = [s for s in (draw(random.Random(f"probe/{salt}{args.seed}/{i}")) for i in range(args.images))
               if all(s.factors[k] in levels for k, levels in only.items())]
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, s in enumerate(samples):
            (args.save / f"{i:04d}.png").write_bytes(s.png)
        (args.save / "labels.json").write_text(json.dumps([{"file": f"{i:04d}.png", **s.factors, "items": s.items}
                                                           for i, s in enumerate(samples)], indent=1))
    from bench.detection import RecordingOcr
    from gateway.inspection import Inspector
    from gateway.inspection.ocr import OcrEngine

    ocr = RecordingOcr(OcrEngine())
    inspector = Inspector(ocr=ocr)

    def inspect(data: bytes) -> tuple[list[dict], list]:
        ocr.reads.clear()
        report = inspector.inspect(data)
        words = [(w.text, w.box) for w in ocr.reads[0]] if ocr.reads else []
        return [{"entity": f.entity, "box": list(f.box) if f.box else None, "score": f.score}
                for f in report.findings], words

    result = (run_decoys if kinds else run)(samples, inspect)
    print(markdown(result))
    if args.out:
        args.out.write_text(json.dumps({"seed": args.seed, "images": args.images, **result}, indent=1))


if __name__ == "__main__":
    main()
