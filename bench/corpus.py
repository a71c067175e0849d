"""Deterministic labelled image corpus for the detection benchmark: shared values, drawing, transforms and the CLI.

    python -m bench.corpus --split dev  --out bench/out/dev  [--seed 7]    [--limit N]
    python -m bench.corpus --split test --out bench/out/test [--seed 1729] [--limit N]

Two splits with disjoint scene templates (bench/scenes/*.py) and font families (FONT_ROLES): `dev` is tuned on,
`test` is scored only when a change is finished. Each split renders ~250 images (documents, forms, tables, chats,
mail, logs, code and terminal screenshots, passports and ID cards with valid MRZ, receipts, business cards,
handwriting, face and GPS photos, QR/PDF417 codes, ~25% clean look-alikes), some photographed, tilted, rescaled,
re-screenshotted or JPEG re-encoded, plus `manifest.json` (bench/BENCH_CONTRACT: version 2) with exact ground truth:
every labelled item and every drawn text run, boxed in the displayed image. All values are synthetic but valid.

Every image gets its own RNG (split, seed, index) and the category lists are interleaved, so `--limit N` yields
exactly the first N images of the full split, with every category represented early. The dev split's seed-7 images
0000-0202 are the corpus of manifest version 1, pixel for pixel and item for item.
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import phonenumbers
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

MANIFEST_VERSION = 2
DEFAULT_SEED = 7
SPLITS = ("dev", "test")
SPLIT_SEEDS = {"dev": DEFAULT_SEED, "test": 1729}

# --------------------------------------------------------------------------------------------- assets


class MissingAsset(RuntimeError):
    """A font or sample photo the corpus draws is not installed. Raised when generating, never at import."""


@dataclass(frozen=True)
class Face:
    """One font file. `family` is the unit the splits partition; `lineage` groups designs derived from one another
    (Liberation 2 from Croscore, FreeFont from URW, Carlito from Lato, Hack from DejaVu), which stay in one split."""

    name: str
    path: str  # under FONT_ROOT
    family: str
    lineage: str
    package: str  # the Debian package that installs it (scripts/install-system-deps.sh)
    caps: bool = False  # draws every letter as a capital (handwritten caps): runs are recorded as drawn


FONT_ROOT = Path("/usr/share/fonts")


def _faces(package: str, family: str, lineage: str, files: dict[str, str], caps: bool = False) -> list[Face]:
    return [Face(name, path, family, lineage, package, caps) for name, path in files.items()]


_T, _O = "truetype/", "opentype/"
FACES: dict[str, Face] = {f.name: f for f in [
    *_faces("fonts-dejavu-core", "DejaVu", "Vera", {
        "DejaVuSans": _T + "dejavu/DejaVuSans.ttf", "DejaVuSans-Bold": _T + "dejavu/DejaVuSans-Bold.ttf",
        "DejaVuSerif": _T + "dejavu/DejaVuSerif.ttf", "DejaVuSerif-Bold": _T + "dejavu/DejaVuSerif-Bold.ttf",
        "DejaVuSansMono": _T + "dejavu/DejaVuSansMono.ttf",
        "DejaVuSansMono-Bold": _T + "dejavu/DejaVuSansMono-Bold.ttf"}),
    *_faces("fonts-hack", "Hack", "Vera", {"Hack": _T + "hack/Hack-Regular.ttf", "Hack-Bold": _T + "hack/Hack-Bold.ttf"}),
    *_faces("fonts-liberation", "Liberation", "Liberation", {
        "LiberationSans-Regular": _T + "liberation/LiberationSans-Regular.ttf",
        "LiberationSans-Bold": _T + "liberation/LiberationSans-Bold.ttf",
        "LiberationSerif-Regular": _T + "liberation/LiberationSerif-Regular.ttf",
        "LiberationSerif-Bold": _T + "liberation/LiberationSerif-Bold.ttf",
        "LiberationMono-Regular": _T + "liberation/LiberationMono-Regular.ttf",
        "LiberationMono-Bold": _T + "liberation/LiberationMono-Bold.ttf",
        "LiberationSansNarrow-Regular": _T + "liberation/LiberationSansNarrow-Regular.ttf",
        "LiberationSansNarrow-Bold": _T + "liberation/LiberationSansNarrow-Bold.ttf"}),
    *_faces("fonts-croscore", "Croscore", "Liberation", {
        "Arimo": _T + "croscore/Arimo-Regular.ttf", "Arimo-Bold": _T + "croscore/Arimo-Bold.ttf",
        "Tinos": _T + "croscore/Tinos-Regular.ttf", "Tinos-Bold": _T + "croscore/Tinos-Bold.ttf",
        "Cousine": _T + "croscore/Cousine-Regular.ttf", "Cousine-Bold": _T + "croscore/Cousine-Bold.ttf"}),
    *_faces("fonts-noto-core", "Noto", "Droid", {
        "NotoSans": _T + "noto/NotoSans-Regular.ttf", "NotoSans-Bold": _T + "noto/NotoSans-Bold.ttf",
        "NotoSerif": _T + "noto/NotoSerif-Regular.ttf", "NotoSerif-Bold": _T + "noto/NotoSerif-Bold.ttf"}),
    *_faces("fonts-noto-mono", "Noto", "Droid", {
        "NotoSansMono": _T + "noto/NotoSansMono-Regular.ttf", "NotoSansMono-Bold": _T + "noto/NotoSansMono-Bold.ttf"}),
    *_faces("fonts-open-sans", "OpenSans", "Droid", {
        "OpenSans": _T + "open-sans/OpenSans-Regular.ttf", "OpenSans-Bold": _T + "open-sans/OpenSans-Bold.ttf",
        "OpenSans-CondLight": _T + "open-sans/OpenSans-CondLight.ttf",
        "OpenSans-CondBold": _T + "open-sans/OpenSans-CondBold.ttf"}),
    *_faces("fonts-roboto-unhinted", "Roboto", "Roboto", {
        "Roboto": _T + "roboto/unhinted/RobotoTTF/Roboto-Regular.ttf",
        "Roboto-Bold": _T + "roboto/unhinted/RobotoTTF/Roboto-Bold.ttf",
        "RobotoCondensed": _T + "roboto/unhinted/RobotoCondensed-Regular.ttf",
        "RobotoCondensed-Bold": _T + "roboto/unhinted/RobotoCondensed-Bold.ttf"}),
    *_faces("fonts-cantarell", "Cantarell", "Cantarell", {
        "Cantarell": _O + "cantarell/Cantarell-Regular.otf", "Cantarell-Bold": _O + "cantarell/Cantarell-Bold.otf"}),
    *_faces("fonts-crosextra-caladea", "Caladea", "Caladea", {
        "Caladea": _T + "crosextra/Caladea-Regular.ttf", "Caladea-Bold": _T + "crosextra/Caladea-Bold.ttf"}),
    *_faces("fonts-linuxlibertine", "LinuxLibertine", "LinuxLibertine", {
        "LinLibertine": _O + "linux-libertine/LinLibertine_R.otf",
        "LinLibertine-Bold": _O + "linux-libertine/LinLibertine_RB.otf"}),
    *_faces("fonts-inconsolata", "Inconsolata", "Inconsolata", {"Inconsolata": _T + "inconsolata/Inconsolata.otf"}),
    *_faces("fonts-mononoki", "mononoki", "mononoki", {
        "mononoki": _T + "mononoki/mononoki-Regular.ttf", "mononoki-Bold": _T + "mononoki/mononoki-Bold.ttf"}),
    *_faces("fonts-comic-neue", "ComicNeue", "ComicNeue", {
        "ComicNeue": _O + "comic-neue/ComicNeue-Regular.otf", "ComicNeue-Bold": _O + "comic-neue/ComicNeue-Bold.otf"}),
    *_faces("fonts-dkg-handwriting", "DkgHandwriting", "DkgHandwriting", {
        "DkgHandwriting": _T + "fifthhorseman/dkg.ttf", "DkgHandwriting-Bold": _T + "fifthhorseman/dkgBd.ttf"}),
    *_faces("fonts-breip", "Breip", "Breip", {"Breip": _T + "breip/Breip.ttf"}),
    *_faces("fonts-ocr-b", "OCR-B", "OCR-B", {"OCRB": _O + "ocr-b/OCRB.otf"}),
    # test-split families
    *_faces("fonts-urw-base35", "URW", "URW", {
        "NimbusSans": _O + "urw-base35/NimbusSans-Regular.otf", "NimbusSans-Bold": _O + "urw-base35/NimbusSans-Bold.otf",
        "NimbusRoman": _O + "urw-base35/NimbusRoman-Regular.otf",
        "NimbusRoman-Bold": _O + "urw-base35/NimbusRoman-Bold.otf",
        "NimbusMonoPS": _O + "urw-base35/NimbusMonoPS-Regular.otf",
        "NimbusMonoPS-Bold": _O + "urw-base35/NimbusMonoPS-Bold.otf",
        "NimbusSansNarrow": _O + "urw-base35/NimbusSansNarrow-Regular.otf",
        "NimbusSansNarrow-Bold": _O + "urw-base35/NimbusSansNarrow-Bold.otf",
        "C059": _O + "urw-base35/C059-Roman.otf", "C059-Bold": _O + "urw-base35/C059-Bold.otf",
        "P052": _O + "urw-base35/P052-Roman.otf", "P052-Bold": _O + "urw-base35/P052-Bold.otf",
        "URWBookman": _O + "urw-base35/URWBookman-Light.otf", "URWBookman-Bold": _O + "urw-base35/URWBookman-Demi.otf",
        "URWGothic": _O + "urw-base35/URWGothic-Book.otf", "URWGothic-Bold": _O + "urw-base35/URWGothic-Demi.otf"}),
    *_faces("fonts-freefont-ttf", "FreeFont", "URW", {
        "FreeSans": _T + "freefont/FreeSans.ttf", "FreeSans-Bold": _T + "freefont/FreeSansBold.ttf",
        "FreeSerif": _T + "freefont/FreeSerif.ttf", "FreeSerif-Bold": _T + "freefont/FreeSerifBold.ttf",
        "FreeMono": _T + "freefont/FreeMono.ttf", "FreeMono-Bold": _T + "freefont/FreeMonoBold.ttf"}),
    *_faces("fonts-lato", "Lato", "Lato", {"Lato": _T + "lato/Lato-Regular.ttf", "Lato-Bold": _T + "lato/Lato-Bold.ttf"}),
    *_faces("fonts-crosextra-carlito", "Carlito", "Lato", {
        "Carlito": _T + "crosextra/Carlito-Regular.ttf", "Carlito-Bold": _T + "crosextra/Carlito-Bold.ttf"}),
    *_faces("fonts-inter", "Inter", "Inter", {"Inter": _O + "inter/Inter-Regular.otf", "Inter-Bold": _O + "inter/Inter-Bold.otf"}),
    *_faces("fonts-cabin", "Cabin", "Cabin", {"Cabin": _O + "cabin/Cabin-Regular.otf", "Cabin-Bold": _O + "cabin/Cabin-Bold.otf"}),
    *_faces("fonts-go", "Go", "Go", {
        "Go": "fonts-go/Go-Regular.ttf", "Go-Bold": "fonts-go/Go-Bold.ttf",
        "GoMono": "fonts-go/Go-Mono.ttf", "GoMono-Bold": "fonts-go/Go-Mono-Bold.ttf"}),
    *_faces("fonts-ebgaramond", "EBGaramond", "EBGaramond", {
        "EBGaramond": _O + "ebgaramond/EBGaramond12-Regular.otf", "EBGaramond-Bold": _O + "ebgaramond/EBGaramond12-Bold.otf"}),
    *_faces("fonts-firacode", "FiraCode", "Fira", {
        "FiraCode": _T + "firacode/FiraCode-Regular.ttf", "FiraCode-Bold": _T + "firacode/FiraCode-Bold.ttf"}),
    *_faces("fonts-jetbrains-mono", "JetBrainsMono", "JetBrainsMono", {
        "JetBrainsMono": _T + "jetbrains-mono/JetBrainsMono-Regular.ttf",
        "JetBrainsMono-Bold": _T + "jetbrains-mono/JetBrainsMono-Bold.ttf"}),
    *_faces("fonts-yanone-kaffeesatz", "YanoneKaffeesatz", "YanoneKaffeesatz", {
        "YanoneKaffeesatz": _O + "yanone-kaffeesatz/YanoneKaffeesatz-Regular.otf",
        "YanoneKaffeesatz-Bold": _O + "yanone-kaffeesatz/YanoneKaffeesatz-Bold.otf"}),
    *_faces("fonts-humor-sans", "HumorSans", "HumorSans", {"HumorSans": _T + "humor-sans/Humor-Sans.ttf"}, caps=True),
    *_faces("fonts-rufscript", "Rufscript", "Rufscript", {"Rufscript": _T + "rufscript/Rufscript010.ttf"}),
    *_faces("fonts-bwht", "BecauseWeHadTo", "BecauseWeHadTo", {
        "BecauseWeBuild": _O + "bwht/BecauseWeBuild-Regular.otf", "BecauseWeCreate": _O + "bwht/BecauseWeCreate-Regular.otf",
        "BecauseWeLearn": _O + "bwht/BecauseWeLearn-Regular.otf",
        "BecauseWeOrganize": _O + "bwht/BecauseWeOrganize-Regular.otf"}, caps=True),
]}

# The manifest-version-1 templates' font kinds: one DejaVu and one Liberation face each, chosen by the image's RNG.
_LEGACY_KINDS = {
    "sans": ["DejaVuSans", "LiberationSans-Regular"],
    "sans-bold": ["DejaVuSans-Bold", "LiberationSans-Bold"],
    "serif": ["DejaVuSerif", "LiberationSerif-Regular"],
    "mono": ["DejaVuSansMono", "LiberationMono-Regular"],
    "mono-bold": ["DejaVuSansMono-Bold", "LiberationMono-Bold"],
}

# Font roles of the new templates, per split: (regular, bold). No family and no lineage appears in both splits,
# except OCR-B: ICAO 9303 prescribes it for every machine-readable zone, so both splits draw MRZ lines (and only
# MRZ lines, which Page.text enforces) in it.
FONT_ROLES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "dev": {
        "sans": [("DejaVuSans", "DejaVuSans-Bold"), ("LiberationSans-Regular", "LiberationSans-Bold"),
                 ("NotoSans", "NotoSans-Bold"), ("OpenSans", "OpenSans-Bold"), ("Roboto", "Roboto-Bold"),
                 ("Arimo", "Arimo-Bold"), ("Cantarell", "Cantarell-Bold")],
        "serif": [("DejaVuSerif", "DejaVuSerif-Bold"), ("LiberationSerif-Regular", "LiberationSerif-Bold"),
                  ("NotoSerif", "NotoSerif-Bold"), ("Tinos", "Tinos-Bold"), ("Caladea", "Caladea-Bold"),
                  ("LinLibertine", "LinLibertine-Bold")],
        "mono": [("DejaVuSansMono", "DejaVuSansMono-Bold"), ("LiberationMono-Regular", "LiberationMono-Bold"),
                 ("NotoSansMono", "NotoSansMono-Bold"), ("Cousine", "Cousine-Bold"), ("Hack", "Hack-Bold"),
                 ("Inconsolata", "Inconsolata"), ("mononoki", "mononoki-Bold")],
        "condensed": [("LiberationSansNarrow-Regular", "LiberationSansNarrow-Bold"),
                      ("RobotoCondensed", "RobotoCondensed-Bold"), ("OpenSans-CondLight", "OpenSans-CondBold")],
        "hand": [("ComicNeue", "ComicNeue-Bold"), ("DkgHandwriting", "DkgHandwriting-Bold"), ("Breip", "Breip")],
        "ocrb": [("OCRB", "OCRB")],
    },
    "test": {
        "sans": [("NimbusSans", "NimbusSans-Bold"), ("FreeSans", "FreeSans-Bold"), ("Lato", "Lato-Bold"),
                 ("Carlito", "Carlito-Bold"), ("Inter", "Inter-Bold"), ("Cabin", "Cabin-Bold"), ("Go", "Go-Bold"),
                 ("URWGothic", "URWGothic-Bold")],
        "serif": [("NimbusRoman", "NimbusRoman-Bold"), ("FreeSerif", "FreeSerif-Bold"), ("C059", "C059-Bold"),
                  ("P052", "P052-Bold"), ("URWBookman", "URWBookman-Bold"), ("EBGaramond", "EBGaramond-Bold")],
        "mono": [("NimbusMonoPS", "NimbusMonoPS-Bold"), ("FreeMono", "FreeMono-Bold"), ("FiraCode", "FiraCode-Bold"),
                 ("JetBrainsMono", "JetBrainsMono-Bold"), ("GoMono", "GoMono-Bold")],
        "condensed": [("NimbusSansNarrow", "NimbusSansNarrow-Bold"), ("YanoneKaffeesatz", "YanoneKaffeesatz-Bold")],
        "hand": [("Rufscript", "Rufscript"), ("HumorSans", "HumorSans"), ("BecauseWeBuild", "BecauseWeCreate"),
                 ("BecauseWeLearn", "BecauseWeOrganize")],
        "ocrb": [("OCRB", "OCRB")],
    },
}
SHARED_FAMILIES = {"OCR-B"}  # the only family both splits draw (MRZ lines only)


def split_faces(split: str) -> set[str]:
    """Every face name a split may draw with."""
    names = {n for pairs in FONT_ROLES[split].values() for pair in pairs for n in pair}
    if split == "dev":
        names |= {n for kind in _LEGACY_KINDS.values() for n in kind}
    return names


def split_families(split: str) -> set[str]:
    return {FACES[n].family for n in split_faces(split)}


_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
_FACE_BY_PATH: dict[str, Face] = {str(FONT_ROOT / f.path): f for f in FACES.values()}


def load_font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    """A face at a pixel size; a clear error naming the Debian package when its file is missing."""
    path = str(FONT_ROOT / face.path)
    key = (path, size)
    if key not in _font_cache:
        if not Path(path).exists():
            raise MissingAsset(f"font {path} is missing: apt-get install {face.package} "
                               "(bash scripts/install-system-deps.sh installs every corpus font)")
        _font_cache[key] = ImageFont.truetype(path, size)
    return _font_cache[key]


def face_of(f: ImageFont.FreeTypeFont) -> Face:
    return _FACE_BY_PATH[str(f.path)]


def font(kind: str, size: int, rng: random.Random | None = None) -> ImageFont.FreeTypeFont:
    """A manifest-version-1 font kind; with an rng, one of the kind's DejaVu/Liberation faces."""
    faces = [FACES[n] for n in _LEGACY_KINDS[kind]]
    return load_font(rng.choice(faces) if rng else faces[0], size)


def _site_packages() -> Path:
    try:
        import skimage
    except ImportError as err:
        raise MissingAsset("sample photos need scikit-image and matplotlib: pip install -e '.[test]'") from err
    return Path(skimage.__file__).parent.parent


_OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
_SKIMAGE_PHOTOS = ["chelsea.png", "coffee.png", "rocket.jpg", "horse.png", "motorcycle_left.png",
                   "hubble_deep_field.jpg"]
_OPENCV_PHOTOS = ["baboon.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg", "home.jpg", "orange.jpg",
                  # test-split GPS photos
                  "aero3.jpg", "leuvenA.jpg", "smarties.png", "squirrel_cls.jpg", "stuff.jpg", "rubberwhale1.png",
                  "ela_original.jpg"]
_photo_paths_cache: dict[str, Path] = {}


def _photo_path(name: str) -> Path:
    if not _photo_paths_cache:
        sp = _site_packages()
        paths = {"astronaut": sp / "skimage/data/astronaut.png",
                 "grace_hopper": sp / "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
                 "messi": _OPENCV_DATA / "messi5.jpg"}
        paths.update({n.split(".")[0]: sp / "skimage/data" / n for n in _SKIMAGE_PHOTOS})
        paths.update({n.split(".")[0]: _OPENCV_DATA / n for n in _OPENCV_PHOTOS})
        _photo_paths_cache.update(paths)
    path = _photo_paths_cache[name]
    if not path.exists():
        hint = ("apt-get install opencv-doc (bash scripts/install-system-deps.sh)" if _OPENCV_DATA in path.parents
                else "pip install -e '.[test]' (scikit-image, matplotlib)")
        raise MissingAsset(f"sample photo {path} is missing: {hint}")
    return path


# Face boxes in the source photos (x0, y0, x1, y1), measured once with OpenCV's frontal-face Haar cascade.
FACE_BOXES = {"astronaut": (177, 66, 272, 161), "grace_hopper": (155, 105, 377, 327), "messi": (226, 94, 264, 132)}
NO_FACE_PHOTOS = ["chelsea", "coffee", "rocket", "horse", "motorcycle_left", "hubble_deep_field", "baboon",
                  "fruits", "building", "butterfly", "home", "orange"]
NO_FACE_PHOTOS_TEST = ["aero3", "leuvenA", "smarties", "squirrel_cls", "stuff", "rubberwhale1", "ela_original"]
_photo_cache: dict[str, Image.Image] = {}


def photo(name: str) -> Image.Image:
    if name not in _photo_cache:
        _photo_cache[name] = Image.open(_photo_path(name)).convert("RGB")
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
        payload = _b64url(json.dumps({"sub": str(rng.randint(1000, 99999)), "iat": rng.randint(1_600_000_000, 1_800_000_000)},
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
            expiry: str, personal: str = "") -> tuple[str, str]:
    """Passport MRZ, 2 x 44. Dates are YYMMDD, number up to 9 characters, personal number up to 14."""
    line1 = ("P<" + issuer + _mrz_name(last, first, 39))[:44]
    num = (number + "<" * 9)[:9]
    personal = (personal + "<" * 14)[:14]
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


def mrz_td2(issuer: str, last: str, first: str, number: str, nationality: str, dob: str, sex: str,
            expiry: str, kind: str = "I<") -> tuple[str, str]:
    """ID-card / visa MRZ, 2 x 36 (ICAO 9303 part 6)."""
    line1 = (kind + issuer + _mrz_name(last, first, 31))[:36]
    num = (number + "<" * 9)[:9]
    line2 = num + mrz_check(num) + nationality + dob + mrz_check(dob) + sex + expiry + mrz_check(expiry) + "<" * 7
    composite = line2[0:10] + line2[13:20] + line2[21:35]
    return line1, line2 + mrz_check(composite)


def mrz_mrvb(issuer: str, last: str, first: str, number: str, nationality: str, dob: str, sex: str,
             expiry: str, optional: str = "") -> tuple[str, str]:
    """Visa MRZ (MRV-B), 2 x 36: like TD2 with 8 optional characters and no composite check digit."""
    line1 = ("V<" + issuer + _mrz_name(last, first, 31))[:36]
    num = (number + "<" * 9)[:9]
    return line1, (num + mrz_check(num) + nationality + dob + mrz_check(dob) + sex + expiry + mrz_check(expiry)
                   + (optional + "<" * 8)[:8])


def mrz_valid(lines: list[str]) -> bool:
    """Recompute every check digit of a TD3 (2x44), TD2 or MRV-B visa (2x36) or TD1 (3x30) MRZ."""
    if len(lines) == 2 and all(len(x) == 36 for x in lines) and lines[0].startswith("V"):
        l2 = lines[1]
        pairs = [(l2[0:9], l2[9]), (l2[13:19], l2[19]), (l2[21:27], l2[27])]
    elif len(lines) == 2 and all(len(x) == 44 for x in lines):
        l2 = lines[1]
        pairs = [(l2[0:9], l2[9]), (l2[13:19], l2[19]), (l2[21:27], l2[27]), (l2[28:42], l2[42]),
                 (l2[0:10] + l2[13:20] + l2[21:43], l2[43])]
    elif len(lines) == 2 and all(len(x) == 36 for x in lines):
        l2 = lines[1]
        pairs = [(l2[0:9], l2[9]), (l2[13:19], l2[19]), (l2[21:27], l2[27]),
                 (l2[0:10] + l2[13:20] + l2[21:35], l2[35])]
    elif len(lines) == 3 and all(len(x) == 30 for x in lines):
        l1, l2 = lines[0], lines[1]
        pairs = [(l1[5:14], l1[14]), (l2[0:6], l2[6]), (l2[8:14], l2[14]),
                 (l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])]
    else:
        return False
    return all(mrz_check(f) == c for f, c in pairs)




# --- values of the widened templates: generators shared by both splits, name and place pools per split

@dataclass(frozen=True)
class Vocab:
    """What one split's new templates write: people, mail domains, companies, addresses, phone and IBAN countries."""

    first: list[str]
    last: list[str]
    domains: list[str]
    companies: list[str]
    countries: list[str]  # address formats, see ADDRESS_POOLS
    phone_regions: list[str]
    iban_countries: list[str]
    issuers: list[tuple[str, str, str]]  # (ICAO code, country name as printed, nationality as printed)


ADDRESS_POOLS: dict[str, dict[str, tuple[list, list]]] = {  # split: country: (streets, cities)
    "dev": {
        "US": (["Maple", "Oak", "Cedar", "Lakeview", "Washington", "Hillcrest", "Sunset", "Willow", "Chestnut"],
               US_CITIES),
        "CA": (["Bay", "Yonge", "Granville", "Jasper", "Sparks", "Portage"],
               [("Toronto", "ON", "M"), ("Vancouver", "BC", "V"), ("Calgary", "AB", "T"), ("Ottawa", "ON", "K")]),
        "UK": (["Kingsley Road", "Albert Street", "Victoria Road", "Church Lane", "Mill Lane", "Station Road"],
               [("Manchester", "M"), ("Leeds", "LS"), ("Bristol", "BS"), ("Oxford", "OX")]),
        "DE": (["Hauptstrasse", "Lindenallee", "Goethestrasse", "Schillerweg", "Bahnhofstrasse", "Gartenweg"],
               [("10115", "Berlin"), ("80331", "Muenchen"), ("50667", "Koeln"), ("20095", "Hamburg")]),
        "FR": (["rue de la Paix", "avenue Jean Jaures", "boulevard Victor Hugo", "rue Nationale", "place Bellecour"],
               [("75002", "Paris"), ("69007", "Lyon"), ("06000", "Nice"), ("33000", "Bordeaux")]),
        "NL": (["Keizersgracht", "Prinsengracht", "Stationsweg", "Kerkstraat", "Dorpsstraat"],
               [("1015", "Amsterdam"), ("3011", "Rotterdam"), ("3512", "Utrecht"), ("2511", "Den Haag")]),
    },
    "test": {
        "US": (["Pine", "Elm", "Ridge", "Meadow", "Franklin", "Highland", "Park", "Birch", "Juniper"],
               [("Boulder", "CO", "803"), ("Madison", "WI", "537"), ("Savannah", "GA", "314"), ("Boise", "ID", "837"),
                ("Burlington", "VT", "054"), ("Sacramento", "CA", "958"), ("Omaha", "NE", "681")]),
        "UK": (["High Street", "Queens Road", "Park Avenue", "Green Lane", "Manor Road", "King Street"],
               [("Cambridge", "CB"), ("Glasgow", "G"), ("Cardiff", "CF"), ("Brighton", "BN")]),
        "DE": (["Am Markt", "Rosenweg", "Kirchgasse", "Ringstrasse", "Bergstrasse", "Feldweg"],
               [("01067", "Dresden"), ("04109", "Leipzig"), ("70173", "Stuttgart"), ("28195", "Bremen")]),
        "IT": (["Roma", "Garibaldi", "Dante Alighieri", "Mazzini", "Cavour", "Verdi"],
               [("00184", "Roma", "RM"), ("20121", "Milano", "MI"), ("50123", "Firenze", "FI"), ("10121", "Torino", "TO")]),
        "ES": (["Mayor", "de Alcala", "Gran Via", "del Sol", "de la Princesa", "Real"],
               [("28013", "Madrid"), ("08002", "Barcelona"), ("41004", "Sevilla"), ("46002", "Valencia")]),
        "AU": (["George Street", "Collins Street", "Queen Street", "Hay Street", "Rundle Mall"],
               [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000"), ("Brisbane", "QLD", "4000"),
                ("Perth", "WA", "6000")]),
        "CH": (["Bahnhofstrasse", "Seestrasse", "Dorfstrasse", "Rue du Rhone", "Via Nassa"],
               [("8001", "Zuerich"), ("3011", "Bern"), ("1204", "Geneve"), ("6900", "Lugano")]),
    },
}

VOCABS: dict[str, Vocab] = {
    "dev": Vocab(
        first=FIRST, last=LAST, domains=MAIL_DOMAINS + ["posteo.de", "hey.com", "mailbox.org"],
        companies=COMPANIES, countries=["US", "US", "CA", "UK", "DE", "FR", "NL"],
        phone_regions=["US", "US", "GB", "DE", "FR", "NL", "CA"], iban_countries=["DE", "GB", "FR", "NL", "BE"],
        issuers=[("D<<", "BUNDESREPUBLIK DEUTSCHLAND", "DEUTSCH"), ("FRA", "REPUBLIQUE FRANCAISE", "FRANCAISE"),
                 ("NLD", "KONINKRIJK DER NEDERLANDEN", "NEDERLANDSE"), ("CAN", "CANADA", "CANADIAN"),
                 ("BEL", "BELGIQUE - BELGIE", "BELGE")]),
    "test": Vocab(
        first=["Amara", "Bjorn", "Chiara", "Dmitri", "Esther", "Farid", "Gabriela", "Henrik", "Ines", "Jamal",
               "Keiko", "Lars", "Maya", "Nikolai", "Oksana", "Pablo", "Quinn", "Rosa", "Samir", "Tamara", "Umar",
               "Valentina", "Wei", "Ximena", "Yusuf", "Zara", "Beatriz", "Cormac", "Dalia", "Emil", "Freya",
               "Goran", "Helga", "Ivan", "Jasmin", "Kwame", "Leila", "Mikko", "Nadia", "Omar"],
        last=["Abernathy", "Bergstrom", "Castellano", "Dimitrov", "Eze", "Fitzgerald", "Gonzalez", "Halvorsen",
              "Ivanova", "Jovanovic", "Kaur", "Lindqvist", "Mendoza", "Nieminen", "Ortega", "Papadopoulos",
              "Quispe", "Romano", "Sato", "Takahashi", "Urquhart", "Van Dijk", "Wojcik", "Yilmaz", "Zhang",
              "Mensah", "Lefebvre", "Horvath", "Nakashima", "Oyelaran", "Petrovic", "Sorensen", "Vasquez"],
        domains=["protonmail.com", "icloud.com", "hotmail.com", "gmx.de", "t-online.de", "libero.it", "laposte.net",
                 "zoho.com", "aol.com", "btinternet.com", "uni-heidelberg.de", "hooli-mail.net", "bigpond.com"],
        companies=["Vandelay Industries", "Hooli", "Cyberdyne Systems", "Soylent Foods", "Umbrella Logistics",
                   "Stark Freight", "Wayne Biotech", "Pied Piper", "Massive Dynamic", "Oscorp Energy"],
        countries=["US", "US", "UK", "DE", "IT", "ES", "AU", "CH"],
        phone_regions=["US", "US", "GB", "IT", "ES", "AU", "CH", "DE"],
        iban_countries=["ES", "AT", "CH", "NL", "BE", "DE", "GB"],
        issuers=[("ESP", "REINO DE ESPANA", "ESPANOLA"), ("SWE", "SVERIGE", "SVENSK"), ("AUT", "REPUBLIK OESTERREICH",
                 "OESTERREICH"), ("POL", "RZECZPOSPOLITA POLSKA", "POLSKIE"), ("IRL", "EIRE - IRELAND", "IRISH"),
                 ("NOR", "NORGE", "NORSK"), ("USA", "UNITED STATES OF AMERICA", "USA")]),
}

_PHONE_FORMATS.update({
    "NL": lambda r: f"6{r.randint(10000000, 99999999)}",
    "IT": lambda r: f"3{r.choice('234789')}{r.randint(10000000, 99999999)}",
    "ES": lambda r: f"6{r.randint(10000000, 99999999)}",
    "CA": lambda r: f"{r.choice(['416', '604', '514', '403', '613'])}{r.randint(2, 9)}{r.randint(100000, 999999)}",
    "AU": lambda r: f"4{r.randint(10000000, 99999999)}",
    "CH": lambda r: f"7{r.choice('6789')}{r.randint(1000000, 9999999)}",
})


def phone_wide(rng: random.Random, region: str) -> str:
    """A phonenumbers-valid number of any supported region, in an international, national or E.164 format."""
    if region == "US" and rng.random() < 0.6:
        return phone(rng, "US")
    while True:
        num = phonenumbers.parse(_PHONE_FORMATS[region](rng), region)
        if phonenumbers.is_valid_number(num):
            break
    fmt = rng.choice([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                      phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.E164])
    return phonenumbers.format_number(num, fmt)


def email_wide(rng: random.Random, first: str, last: str, domains: list[str]) -> str:
    """An address whose local part has `.`, `_`, `-` or `+` as often as not."""
    f, lst = first.lower(), re.sub(r"[^a-z]", "", last.lower())
    n = rng.randint(1, 99)
    tag = rng.choice(["work", "news", "billing", "shop", "hr", "2024", "jobs"])
    local = rng.choice([f"{f}.{lst}", f"{f}_{lst}", f"{f}-{lst}", f"{f}.{lst}+{tag}", f"{f[0]}.{lst}{n}",
                        f"{lst}_{f[0]}{n}", f"{f}{n}", f"{f}.{lst[0]}-{n}", f"{f}+{tag}", f"{f[0]}{lst}"])
    return f"{local}@{rng.choice(domains)}"


def _postcode(rng: random.Random, country: str, city: tuple) -> str:
    if country == "US":
        return f"{city[2]}{rng.randint(1, 99):02d}"
    if country == "CA":
        L = "ABCEGHJKLMNPRSTVXY"
        return f"{city[2]}{rng.randint(1, 9)}{rng.choice(L)} {rng.randint(1, 9)}{rng.choice(L)}{rng.randint(0, 9)}"
    if country == "UK":
        return f"{city[1]}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
               f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    if country == "NL":
        return f"{city[0]} {rng.choice('ABCEGHJKLMNPRSTVWXZ')}{rng.choice('ABCEGHJKLMNPRSTVWXZ')}"
    return ""


def address_lines(rng: random.Random, vocab: Vocab, country: str | None = None) -> tuple[str, str]:
    """A street line and a city/postcode line in the country's own order."""
    country = country or rng.choice(vocab.countries)
    streets, cities = ADDRESS_POOLS["dev" if vocab is VOCABS["dev"] else "test"][country]
    street, city, num = rng.choice(streets), rng.choice(cities), rng.randint(2, 980)
    if country == "US":
        return (f"{num} {street} {rng.choice(US_SUFFIX)}" + rng.choice(["", "", f", Apt {rng.randint(1, 30)}"]),
                f"{city[0]}, {city[1]} {_postcode(rng, country, city)}")
    if country == "CA":
        return f"{num} {street} {rng.choice(['Street', 'Avenue', 'Road'])}", \
            f"{city[0]} {city[1]} {_postcode(rng, country, city)}"
    if country == "UK":
        return f"{num % 200 + 1} {street}", f"{city[0]} {_postcode(rng, country, city)}"
    if country in ("DE", "CH"):
        return f"{street} {num % 150 + 1}", f"{city[0]} {city[1]}"
    if country == "NL":
        return f"{street} {num % 300 + 1}", f"{_postcode(rng, country, city)} {city[1]}"
    if country == "FR":
        return f"{num % 120 + 1} {street}", f"{city[0]} {city[1].upper()}"
    if country == "IT":
        return f"Via {street} {num % 200 + 1}", f"{city[0]} {city[1]} {city[2]}"
    if country == "ES":
        return f"Calle {street} {num % 150 + 1}", f"{city[0]} {city[1]}"
    if country == "AU":
        return f"{num % 400 + 1} {street}", f"{city[0]} {city[1]} {city[2]}"
    raise ValueError(country)


def ipv4_public(rng: random.Random) -> str:
    first = rng.choice([23, 31, 37, 45, 52, 63, 78, 84, 91, 104, 141, 151, 185, 193, 198, 203, 212])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6_global(rng: random.Random) -> str:
    """A global-unicast IPv6 address, often with a `::` run, in canonical compressed form."""
    import ipaddress

    groups = [int(rng.choice(["2a01", "2a02", "2a0c", "2600", "2604", "2c0f", "2001"]), 16), rng.randint(0, 0xffff)]
    groups += [rng.randint(0, 0xffff) for _ in range(6)]
    if rng.random() < 0.5:
        start = rng.randint(2, 5)
        for i in range(start, start + rng.randint(2, 3)):
            groups[i] = 0
    return ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups)).compressed


def _es_check(digits: str) -> str:
    weights = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]
    d = 11 - sum(int(c) * w for c, w in zip(digits, weights)) % 11
    return str({11: 0, 10: 1}.get(d, d))


def iban_wide(rng: random.Random, country: str) -> str:
    """A mod-97-valid IBAN (national check digits too where a country has them), in groups of four."""
    if country in ("DE", "GB", "FR"):
        return iban(rng, country)
    digits = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    if country == "NL":
        bban = rng.choice(["ABNA", "INGB", "RABO", "TRIO", "SNSB"]) + digits(10)
    elif country == "BE":
        head = digits(10)
        bban = head + f"{int(head) % 97 or 97:02d}"
    elif country == "ES":
        bank, branch, account = digits(4), digits(4), digits(10)
        bban = bank + branch + _es_check("00" + bank + branch) + _es_check(account) + account
    elif country == "AT":
        bban = digits(16)
    elif country == "CH":
        bban = digits(5) + digits(12)
    else:
        raise ValueError(country)
    rearranged = "".join(str(int(c, 36)) for c in bban + country + "00")
    raw = f"{country}{98 - int(rearranged) % 97:02d}{bban}"
    assert iban_ok(raw)
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def dob_wide(rng: random.Random, ymd: tuple[int, int, int]) -> str:
    y, m, d = ymd
    return rng.choice([f"{d:02d}.{m:02d}.{y}", f"{y}.{m:02d}.{d:02d}", f"{d:02d}-{MONTHS[m - 1][:3]}-{y}",
                       f"{MONTHS[m - 1][:3]} {d:02d} {y}", f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}"])


def _db_password(rng: random.Random) -> str:
    """A password with `!` and percent-encoded symbols, as it appears inside a connection URL."""
    parts = [_rand(rng, ALNUM, rng.randint(3, 6)) for _ in range(3)]
    return parts[0] + rng.choice(["!", "%21", "%40"]) + parts[1] + rng.choice(["%2F", "%23", "!", "%25"]) + parts[2]


def secret_wide(rng: random.Random, kind: str) -> str:
    """Every SECRET_KINDS value plus fine-grained GitHub/GitLab/npm/SendGrid tokens and connection URLs with
    symbols in the password."""
    if kind == "github_pat":
        return f"github_pat_11{_rand(rng, string.ascii_uppercase + string.digits, 20)}_{_rand(rng, ALNUM, 59)}"
    if kind == "github_oauth":
        return "gho_" + _rand(rng, ALNUM, 36)
    if kind == "gitlab":
        return "glpat-" + _rand(rng, ALNUM + "-_", 20)
    if kind == "npm":
        return "npm_" + _rand(rng, ALNUM, 36)
    if kind == "sendgrid":
        return f"SG.{_rand(rng, B64URL, 22)}.{_rand(rng, B64URL, 43)}"
    if kind == "jwt_claims":
        header = _b64url(b'{"alg":"HS512","typ":"JWT"}')
        claims = {"sub": _rand(rng, string.digits, 8), "email": f"{_rand(rng, string.ascii_lowercase, 6)}@corp.io",
                  "role": rng.choice(["admin", "user"]), "exp": rng.randint(1_700_000_000, 1_900_000_000)}
        return f"{header}.{_b64url(json.dumps(claims, separators=(',', ':')).encode())}.{_rand(rng, B64URL, 86)}"
    if kind == "db_url":
        scheme, port = rng.choice([("postgresql", 5432), ("mysql", 3306), ("mongodb+srv", None), ("redis", 6379),
                                   ("amqps", 5671)])
        user = rng.choice(["svc_orders", "admin", "reporting", "app-rw", "etl.loader"])
        host = rng.choice(["orders-db.internal", "db-2.prod.corp.lan", "cluster0.ab1cd.mongodb.net",
                           "cache-01.eu-central-1.cache.amazonaws.com", "mq.payments.svc"])
        port_s = f":{port}" if port else ""
        return f"{scheme}://{user}:{_db_password(rng)}@{host}{port_s}/{rng.choice(['orders', 'app', '0', 'prod'])}"
    return secret(rng, kind)


SECRET_KINDS_WIDE = SECRET_KINDS + ["github_pat", "github_oauth", "gitlab", "npm", "sendgrid", "jwt_claims",
                                    "db_url", "db_url"]


def mrz_number(rng: random.Random) -> str:
    letters = "CFGHJKLMNPRTVWXYZ"
    return rng.choice(letters) + "".join(rng.choice(letters + string.digits) for _ in range(8))


def yymmdd(ymd: tuple[int, int, int]) -> str:
    return f"{ymd[0] % 100:02d}{ymd[1]:02d}{ymd[2]:02d}"


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
class Text:
    """One drawn text run (a word, a line or a table cell) and its pixel box."""

    text: str
    box: list[int]

    def to_json(self) -> dict:
        return {"text": self.text, "box": self.box}


@dataclass
class Scene:
    img: Image.Image
    items: list[Item] = field(default_factory=list)
    exif: Image.Exif | None = None
    photo: bool = False  # camera photo: saved as JPEG, never geometrically transformed
    texts: list[Text] = field(default_factory=list)
    theme: str | None = None
    font: str | None = None  # the face that drew the most characters
    min_xheight: float | None = None  # smallest x-height drawn, px (a downscale keeps it readable)
    faces: set[str] = field(default_factory=set)  # every font face that drew a run


Seg = tuple[str, str | None]  # (text, entity or None)

_ACTIVE_SPLIT: list[str] = []  # the split being rendered: Page.text refuses another split's fonts
_xheight_cache: dict[tuple[str, int], float] = {}


def xheight(f: ImageFont.FreeTypeFont) -> float:
    key = (str(f.path), f.size)
    if key not in _xheight_cache:
        x0, y0, x1, y1 = f.getbbox("x")
        _xheight_cache[key] = float(y1 - y0)
    return _xheight_cache[key]


def _check_face(f: ImageFont.FreeTypeFont, entity: str | None) -> Face:
    face = face_of(f)
    if _ACTIVE_SPLIT:
        split = _ACTIVE_SPLIT[-1]
        assert face.name in _SPLIT_FACES[split], f"{face.name} is not a {split}-split font"
        assert face.family not in SHARED_FAMILIES or entity == "MRZ", f"{face.name} draws MRZ lines only"
    return face


class Page:
    """A canvas that records the pixel box of every text run it draws and of every labelled span."""

    def __init__(self, w: int, h: int, bg: tuple[int, int, int]) -> None:
        self.img = Image.new("RGB", (w, h), bg)
        self.draw = ImageDraw.Draw(self.img)
        self.items: list[Item] = []
        self.texts: list[Text] = []
        self.chars: Counter[str] = Counter()
        self.min_xh: float | None = None

    def label(self, entity: str, box, text: str | None, source: str = "text") -> None:
        self.items.append(Item(entity, [int(round(v)) for v in box] if box is not None else None, text, source))

    def text(self, xy, s: str, f, fill, entity: str | None = None) -> tuple[int, int, int, int]:
        face = _check_face(f, entity)
        self.draw.text(xy, s, font=f, fill=fill)
        box = self.draw.textbbox(xy, s, font=f)
        if face.caps:
            s = s.upper()
        if s.strip():
            self.texts.append(Text(s.strip(), [int(round(v)) for v in box]))
            self.chars[face.name] += len(s.strip())
            xh = xheight(f)
            self.min_xh = xh if self.min_xh is None else min(self.min_xh, xh)
        if entity:
            self.label(entity, box, s)
        return box

    def mark(self) -> int:
        """The number of runs drawn so far: `label_since(mark, ...)` labels the runs drawn after it as one item."""
        return len(self.texts)

    def label_since(self, mark: int, entity: str, text: str) -> None:
        """One item over several runs (an IBAN split across table cells); its text must be what they spell."""
        runs = self.texts[mark:]
        assert runs and _squash(text) == _squash("".join(t.text for t in runs)), (text, [t.text for t in runs])
        self.label(entity, [min(t.box[0] for t in runs), min(t.box[1] for t in runs),
                            max(t.box[2] for t in runs), max(t.box[3] for t in runs)], text)

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

    def paste(self, other: Page | Scene, xy: tuple[int, int]) -> None:
        """Paste another page (a card's back, a window) with its runs and items."""
        ox, oy = xy
        self.img.paste(other.img, (ox, oy))
        shift = lambda b: [b[0] + ox, b[1] + oy, b[2] + ox, b[3] + oy]  # noqa: E731
        self.texts += [Text(t.text, shift(t.box)) for t in other.texts]
        self.items += [Item(i.entity, shift(i.box) if i.box else None, i.text, i.source) for i in other.items]
        if isinstance(other, Page):
            self.chars.update(other.chars)
            if other.min_xh is not None:
                self.min_xh = other.min_xh if self.min_xh is None else min(self.min_xh, other.min_xh)

    def crop(self, w: int | None = None, h: int | None = None) -> None:
        """Cut the canvas to what the layout used (nothing drawn may lie outside)."""
        w, h = w or self.img.width, h or self.img.height
        assert all(t.box[2] <= w and t.box[3] <= h for t in self.texts), (w, h)
        self.img = self.img.crop((0, 0, w, h))
        self.draw = ImageDraw.Draw(self.img)

    def scene(self, theme: str | None = None, exif: Image.Exif | None = None) -> Scene:
        dominant = self.chars.most_common(1)[0][0] if self.chars else None
        return Scene(self.img, self.items, exif, texts=self.texts, theme=theme, font=dominant,
                     min_xheight=self.min_xh, faces=set(self.chars))


def _squash(s: str) -> str:
    """For comparing what an item says with the runs that draw it: digit boxes and cells drop spaces and dashes."""
    return re.sub(r"[\s-]+", "", s).upper()


def check_drawn(scene: Scene) -> None:
    """Every text item is spelled by the runs inside its box and its box is the union of theirs; boxes inside."""
    w, h = scene.img.size
    for it in scene.items:
        if it.box is None:
            continue
        x0, y0, x1, y1 = it.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, it
        if it.source != "text":
            continue
        runs = [t for t in scene.texts if _inside(t.box, it.box)]
        assert runs and _squash(it.text or "") in _squash("".join(t.text for t in runs)), (it, runs)
        union = [min(t.box[0] for t in runs), min(t.box[1] for t in runs), max(t.box[2] for t in runs),
                 max(t.box[3] for t in runs)]
        assert all(abs(a - b) <= 1 for a, b in zip(union, it.box)), (it, union)


def _inside(inner: list[int], outer: list[int], slack: int = 1) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


class Kit:
    """What one split's new templates draw with: its font roles and its value pools."""

    def __init__(self, split: str) -> None:
        self.split = split
        self.vocab = VOCABS[split]

    def faces(self, role: str, rng: random.Random) -> tuple[Face, Face]:
        regular, bold = rng.choice(FONT_ROLES[self.split][role])
        return FACES[regular], FACES[bold]

    def font(self, role: str, size: int, rng: random.Random, bold: bool = False) -> ImageFont.FreeTypeFont:
        regular, heavy = self.faces(role, rng)
        return load_font(heavy if bold else regular, size)

    def pair(self, role: str, size: int, rng: random.Random) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
        """A regular and a bold font of one face."""
        regular, heavy = self.faces(role, rng)
        return load_font(regular, size), load_font(heavy, size)

    def pair_xh(self, role: str, xh: float, rng: random.Random) -> tuple[ImageFont.FreeTypeFont,
                                                                          ImageFont.FreeTypeFont]:
        """A regular and a bold font of one face whose x-height is about `xh` pixels."""
        regular, heavy = self.faces(role, rng)
        probe = load_font(regular, 100)
        size = max(6, int(round(xh * 100 / xheight(probe))))
        return load_font(regular, size), load_font(heavy, size)

    def person(self, rng: random.Random) -> tuple[str, str]:
        return rng.choice(self.vocab.first), rng.choice(self.vocab.last)

    def email(self, rng: random.Random, first: str, last: str) -> str:
        return email_wide(rng, first, last, self.vocab.domains)

    def company(self, rng: random.Random) -> str:
        return rng.choice(self.vocab.companies)

    def address(self, rng: random.Random, country: str | None = None) -> tuple[str, str]:
        return address_lines(rng, self.vocab, country)

    def phone(self, rng: random.Random) -> str:
        return phone_wide(rng, rng.choice(self.vocab.phone_regions))

    def iban(self, rng: random.Random) -> str:
        return iban_wide(rng, rng.choice(self.vocab.iban_countries))


DEV, TEST = Kit("dev"), Kit("test")
_SPLIT_FACES = {s: split_faces(s) for s in SPLITS}


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


def luminance(rgb: tuple[int, int, int]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_for(rng: random.Random, bg: tuple[int, int, int], ratio: tuple[float, float]) -> tuple[int, int, int]:
    """A grey (slightly tinted) ink whose contrast with bg lies in `ratio`: low-contrast themes stay readable."""
    dark_bg = luminance(bg) < 0.2
    tint = [rng.randint(-8, 8) for _ in range(3)]
    for v in (range(255, -1, -3) if not dark_bg else range(0, 256, 3)):
        ink = tuple(max(0, min(255, v + t)) for t in tint)
        if ratio[0] <= contrast(ink, bg) <= ratio[1]:  # type: ignore[arg-type]
            return ink  # type: ignore[return-value]
    return (0, 0, 0) if not dark_bg else (255, 255, 255)


def window_chrome(p: Page, box: tuple[int, int, int, int], style: str, title: str, title_font,
                  bar: tuple[int, int, int], ink: tuple[int, int, int]) -> int:
    """A window title bar in a desktop style (mac, win, gnome); returns the bar's height."""
    x0, y0, x1, _ = box
    hgt = {"mac": 30, "win": 32, "gnome": 38}[style]
    p.draw.rectangle([x0, y0, x1, y0 + hgt], fill=bar)
    if style == "mac":
        for i, c in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
            p.draw.ellipse([x0 + 12 + i * 20, y0 + 9, x0 + 24 + i * 20, y0 + 21], fill=c)
        tx = (x0 + x1) / 2 - title_font.getlength(title) / 2
    elif style == "win":
        for i in range(3):
            cx = x1 - 24 - i * 46
            p.draw.line([cx - 6, y0 + 16, cx + 6, y0 + 16], fill=ink, width=1)
        tx = x0 + 12
    else:
        p.draw.ellipse([x1 - 30, y0 + 9, x1 - 10, y0 + 29], fill=tuple(min(255, c + 25) for c in bar))
        tx = (x0 + x1) / 2 - title_font.getlength(title) / 2
    p.text((tx, y0 + (hgt - title_font.size) / 2 - 1), title, title_font, ink)
    return hgt


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




# --------------------------------------------------------------------------------------------- transforms

def _map_box(box: list[int], fn, size: tuple[int, int]) -> list[int]:
    """A box through a point transform: the bounding box of its mapped corners, clipped to the image."""
    x0, y0, x1, y1 = box
    pts = np.array(fn(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)))
    bx0, by0 = np.floor(pts.min(axis=0))
    bx1, by1 = np.ceil(pts.max(axis=0))
    return [int(max(0, bx0)), int(max(0, by0)), int(min(size[0], bx1)), int(min(size[1], by1))]


def _map_items(items: list[Item], fn, size: tuple[int, int]) -> list[Item]:
    """Map each box through a point transform; the new box is the bounding box of the mapped corners."""
    return [it if it.box is None else Item(it.entity, _map_box(it.box, fn, size), it.text, it.source)
            for it in items]


def _map_texts(texts: list[Text], fn, size: tuple[int, int]) -> list[Text]:
    out = []
    for t in texts:
        box = _map_box(t.box, fn, size)
        if box[2] > box[0] and box[3] > box[1]:
            out.append(Text(t.text, box))
    return out


def _mapped(scene: Scene, img: Image.Image, fn, min_xh_scale: float = 1.0) -> Scene:
    """The scene drawn anew as `img`, its items and runs mapped by `fn` (image points to image points)."""
    size = img.size
    xh = scene.min_xheight * min_xh_scale if scene.min_xheight is not None else None
    return Scene(img, _map_items(scene.items, fn, size), scene.exif, scene.photo, _map_texts(scene.texts, fn, size),
                 scene.theme, scene.font, xh, scene.faces)


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
    return _mapped(scene, Image.fromarray(out), fn)


def rotate_90(scene: Scene) -> Scene:
    """Rotate 90 degrees counter-clockwise: the text now runs bottom-to-top."""
    w = scene.img.width
    out = scene.img.transpose(Image.Transpose.ROTATE_90)
    fn = lambda pts: np.stack([pts[:, 1], w - pts[:, 0]], axis=1)  # noqa: E731
    return _mapped(scene, out, fn)


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
    return _mapped(scene, Image.fromarray(out), fn)


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
    return _mapped(scene, canvas, fn, s)


def rescale(scene: Scene, factor: float) -> Scene:
    """Scaled down (area-averaged, as a downscaled screenshot) or up (bicubic, as a zoomed one)."""
    w, h = scene.img.size
    nw, nh = max(1, int(round(w * factor))), max(1, int(round(h * factor)))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    out = cv2.resize(np.asarray(scene.img), (nw, nh), interpolation=interp)
    sx, sy = nw / w, nh / h
    return _mapped(scene, Image.fromarray(out), lambda pts: pts * [sx, sy], factor)


def downscale_factor(scene: Scene, rng: random.Random, min_xh: float = 5.5) -> float:
    """A downscale that keeps the smallest x-height readable to a person (>= min_xh px)."""
    f = rng.uniform(0.45, 0.75)
    if scene.min_xheight:
        f = max(f, min(1.0, min_xh / scene.min_xheight))
    return f


def _desk(rng: random.Random, w: int, h: int) -> np.ndarray:
    """A desk or table top behind a photographed page: wood, fabric or dark laminate, softly lit."""
    gen = np.random.default_rng(rng.randint(0, 2**31))
    base = np.array(rng.choice([(120, 85, 55), (160, 125, 90), (70, 70, 75), (190, 185, 175), (40, 45, 55)]),
                    dtype=np.float32)
    grain = np.sin(np.linspace(0, rng.uniform(20, 60), w))[None, :] * rng.uniform(4, 12)
    noise = cv2.GaussianBlur(gen.normal(0, 10, (h, w)).astype(np.float32), (0, 0), 3)
    return np.clip(base[None, None, :] + (grain + noise)[:, :, None], 0, 255).astype(np.uint8)


def photograph(scene: Scene, rng: random.Random, screen: bool | None = None) -> Scene:
    """A camera photo of the page or screen: perspective, defocus, sensor noise, uneven light, moiré on screens,
    a colour cast and a desk around it."""
    src = np.asarray(scene.img)
    h, w = src.shape[:2]
    screen = rng.random() < 0.5 if screen is None else screen
    if screen:  # moiré: the camera samples the screen's pixel grid at a slightly different pitch
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        f1, f2, ang = rng.uniform(0.25, 0.45), rng.uniform(0.02, 0.06), rng.uniform(0, math.pi)
        beat = np.sin(2 * math.pi * f2 * (xx * math.cos(ang) + yy * math.sin(ang)))
        grid = 0.5 + 0.5 * np.sin(2 * math.pi * f1 * xx) * np.sin(2 * math.pi * f1 * yy)
        mod = 1 - rng.uniform(0.04, 0.1) * (0.5 + 0.5 * beat) * grid
        src = np.clip(src.astype(np.float32) * mod[:, :, None], 0, 255).astype(np.uint8)
    mx, my = int(w * rng.uniform(0.06, 0.12)), int(h * rng.uniform(0.06, 0.12))
    ow, oh = w + 2 * mx, h + 2 * my
    jx = lambda: rng.uniform(-0.8, 0.8) * mx  # noqa: E731
    jy = lambda: rng.uniform(-0.8, 0.8) * my  # noqa: E731
    dst = np.float32([[mx + jx(), my + jy()], [mx + w + jx(), my + jy()],
                      [mx + w + jx(), my + h + jy()], [mx + jx(), my + h + jy()]])
    hm = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    desk = _desk(rng, ow, oh)
    warped = cv2.warpPerspective(src, hm, (ow, oh), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), hm, (ow, oh), flags=cv2.INTER_LINEAR)
    out = np.where(mask[:, :, None] > 127, warped, desk).astype(np.float32)
    sigma = rng.uniform(0.6, 1.6)
    if scene.min_xheight:  # defocus a person could still read through
        sigma = min(sigma, max(0.6, 0.18 * scene.min_xheight))
    out = cv2.GaussianBlur(out, (0, 0), sigma)
    yy, xx = np.mgrid[0:oh, 0:ow].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * ow, rng.uniform(0.2, 0.8) * oh
    r = np.sqrt(((xx - cx) / ow) ** 2 + ((yy - cy) / oh) ** 2)
    light = rng.uniform(1.0, 1.12) - rng.uniform(0.2, 0.45) * r
    cast = np.array([rng.uniform(0.92, 1.05), rng.uniform(0.95, 1.03), rng.uniform(0.85, 1.02)], np.float32)
    gen = np.random.default_rng(rng.randint(0, 2**31))
    out = out * light[:, :, None] * cast + gen.normal(0, rng.uniform(3, 9), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    fn = lambda pts: cv2.perspectiveTransform(pts.reshape(-1, 1, 2), hm).reshape(-1, 2)  # noqa: E731
    return _mapped(scene, Image.fromarray(out), fn)


def rescreen(scene: Scene, rng: random.Random) -> Scene:
    """A screenshot of a screenshot: the image shown scaled in a viewer window on a desktop, captured again."""
    img = scene.img
    floor = min(1.0, 5.5 / scene.min_xheight) if scene.min_xheight else 0.0  # keep the smallest text readable
    s = max(rng.uniform(0.6, 0.9), floor)
    shown = img.resize((max(1, int(img.width * s)), max(1, int(img.height * s))), Image.BILINEAR)
    bar, pad = 34, rng.randint(30, 90)
    W, H = shown.width + 2 * pad + 40, shown.height + 2 * pad + bar + 60
    desk = rng.choice([(32, 74, 135), (58, 58, 64), (0, 120, 110), (95, 60, 120)])
    canvas = Image.new("RGB", (W, H), desk)
    d = ImageDraw.Draw(canvas)
    wx0, wy0 = 20, 20
    wx1, wy1 = W - 20, H - 40
    d.rectangle([wx0, wy0, wx1, wy1], fill=rng.choice([(45, 45, 48), (236, 236, 236), (20, 20, 22)]))
    d.rectangle([wx0, wy0, wx1, wy0 + bar], fill=rng.choice([(60, 60, 64), (220, 220, 222)]))
    d.rectangle([0, H - 34, W, H], fill=(25, 25, 30))  # task bar
    ox, oy = wx0 + pad, wy0 + bar + pad // 2
    canvas.paste(shown, (ox, oy))
    sx, sy = shown.width / img.width, shown.height / img.height
    out = _mapped(scene, canvas, lambda pts: pts * [sx, sy] + [ox, oy], s)
    if rng.random() < 0.5:  # captured on a screen of another resolution
        out = rescale(out, max(rng.uniform(0.8, 0.95), min(1.0, floor / s)))
    return out


# --------------------------------------------------------------------------------------------- corpus

GEOMETRIES = ("none", "rotate", "rot90", "phone", "large", "exif_orient",  # manifest version 1
              "tilt", "photo", "downscale", "upscale", "rescreen")


@dataclass
class Spec:
    index: int
    category: str
    clean: bool
    geometry: str = "none"  # one of GEOMETRIES
    jpeg_quality: int | None = None
    split: str = "dev"


def _legacy_specs(seed: int, categories: dict) -> list[Spec]:
    """The manifest-version-1 plan, unchanged: the dev split's images 0000-0202 at seed 7."""
    rng = random.Random(f"specs-{seed}")
    per_cat: list[list[Spec]] = []
    for cat, c in categories.items():
        flags = [False] * c.n_pii + [True] * c.n_clean
        rng.shuffle(flags)
        per_cat.append([Spec(0, cat, f) for f in flags])
    specs: list[Spec] = []
    while any(per_cat):
        for lst in per_cat:
            if lst:
                specs.append(lst.pop(0))
    for i, s in enumerate(specs):
        s.index = i
    text_like = [s for s in specs if categories[s.category].text_like]
    order = text_like[:]
    rng.shuffle(order)
    plan = ["rotate"] * 8 + ["rot90"] * 5 + ["phone"] * 6 + ["large"] * 5 + ["exif_orient"] * 3
    for s, g in zip(order, plan):
        s.geometry = g
    for s in text_like:
        if s.geometry == "phone" or rng.random() < 0.3:
            s.jpeg_quality = rng.randint(40, 70)
    for s in specs:
        if not categories[s.category].text_like:
            s.jpeg_quality = rng.randint(45, 92) if categories[s.category].photo else None
    return specs


def _block_specs(categories: dict, rng: random.Random, split: str, start: int) -> list[Spec]:
    """An interleaved plan for the widened templates: each picks its degradations from its own list."""
    per_cat: list[list[Spec]] = []
    for cat, c in categories.items():
        flags = [False] * c.n_pii + [True] * c.n_clean
        rng.shuffle(flags)
        per_cat.append([Spec(0, cat, f, split=split) for f in flags])
    specs: list[Spec] = []
    while any(per_cat):
        for lst in per_cat:
            if lst:
                specs.append(lst.pop(0))
    for i, s in enumerate(specs):
        s.index = start + i
        c = categories[s.category]
        if c.photo:
            s.jpeg_quality = rng.randint(45, 92)
            continue
        if not c.text_like:
            continue
        if c.geometries and rng.random() < c.degrade:
            names, weights = zip(*c.geometries)
            s.geometry = rng.choices(names, weights)[0]
        if s.geometry in ("phone", "photo") or rng.random() < 0.3:
            s.jpeg_quality = rng.randint(25, 75)
    return specs


def _merge(a: list[Spec], b: list[Spec]) -> list[Spec]:
    """Spread b evenly through a, keeping the order of each."""
    out: list[Spec] = []
    i = j = 0
    total = len(a) + len(b)
    for k in range(total):
        if j < len(b) and (k + 1) * len(b) // total > j:
            out.append(b[j])
            j += 1
        else:
            out.append(a[i])
            i += 1
    return out


def build_specs(seed: int | None = None, split: str = "dev") -> list[Spec]:
    """The full, interleaved list of a split's images. Transforms are assigned from the seed."""
    from bench import scenes

    seed = SPLIT_SEEDS[split] if seed is None else seed
    if split == "dev":
        legacy = _legacy_specs(seed, scenes.LEGACY)
        extra = _block_specs(scenes.DEV, random.Random(f"specs-dev-wide-{seed}"), "dev", len(legacy))
        return _merge(legacy, extra)
    if split == "test":
        return _block_specs(scenes.TEST, random.Random(f"specs-test-{seed}"), "test", 0)
    raise ValueError(f"unknown split {split!r}: one of {SPLITS}")


def _degrade(scene: Scene, geometry: str, rng: random.Random) -> Scene:
    if geometry == "rotate":
        return rotate_small(scene, rng.choice([-1, 1]) * rng.uniform(1.0, 4.0))
    if geometry == "rot90":
        return rotate_90(scene)
    if geometry == "phone":
        return phone_shot(scene, rng)
    if geometry == "large":
        return make_large(scene, rng)
    if geometry == "tilt":
        return rotate_small(scene, rng.choice([-1, 1]) * rng.uniform(4.0, 10.0))
    if geometry == "photo":
        return photograph(scene, rng)
    if geometry == "downscale":
        return rescale(scene, downscale_factor(scene, rng))
    if geometry == "upscale":
        return rescale(scene, rng.uniform(1.4, 2.2))
    if geometry == "rescreen":
        return rescreen(scene, rng)
    assert geometry in ("none", "exif_orient"), geometry
    return scene


def image_rng(spec: Spec, seed: int) -> random.Random:
    return random.Random(f"img-{seed}-{spec.index}" if spec.split == "dev" else f"img-{spec.split}-{seed}-{spec.index}")


def render_scene(spec: Spec, seed: int | None = None) -> Scene:
    """A spec's scene after its degradation, in displayed orientation, checked against what was drawn."""
    from bench import scenes

    seed = SPLIT_SEEDS[spec.split] if seed is None else seed
    rng = image_rng(spec, seed)
    _ACTIVE_SPLIT.append(spec.split)
    try:
        scene = scenes.category(spec.split, spec.category).render(rng, spec.clean)
    finally:
        _ACTIVE_SPLIT.pop()
    check_drawn(scene)
    scene = _degrade(scene, spec.geometry, rng)
    w, h = scene.img.size
    scene.texts = [Text(t.text, b) for t in scene.texts
                   if (b := [max(0, t.box[0]), max(0, t.box[1]), min(w, t.box[2]), min(h, t.box[3])])[2] > b[0]
                   and b[3] > b[1]]
    return scene


def render(spec: Spec, seed: int | None = None) -> tuple[bytes, str, dict]:
    """Render one image: (file bytes, file extension, manifest entry without the file name)."""
    seed = SPLIT_SEEDS[spec.split] if seed is None else seed
    scene = render_scene(spec, seed)
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
        "geometry": spec.geometry, "jpeg_quality": spec.jpeg_quality, "split": spec.split,
        "font": scene.font, "theme": scene.theme,
        "items": [it.to_json() for it in scene.items],
        "texts": [t.to_json() for t in scene.texts],
    }
    assert spec.clean == (not scene.items), spec
    return buf.getvalue(), ext, entry


def generate(out: Path, seed: int | None = None, limit: int | None = None, split: str = "dev") -> dict:
    """Write a split's images and manifest.json into `out`; returns the manifest."""
    seed = SPLIT_SEEDS[split] if seed is None else seed
    out.mkdir(parents=True, exist_ok=True)
    images = []
    for spec in build_specs(seed, split)[:limit]:
        data, ext, entry = render(spec, seed)
        name = f"{spec.index:04d}_{spec.category}.{ext}"
        (out / name).write_bytes(data)
        images.append({"file": name, **entry})
    manifest = {"version": MANIFEST_VERSION, "seed": seed, "split": split, "images": images}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def counts(manifest: dict) -> dict[str, Counter]:
    """Images per category, items per entity, images per geometry (for the CLI summary and the README)."""
    return {"category": Counter(e["category"] for e in manifest["images"]),
            "entity": Counter(it["entity"] for e in manifest["images"] for it in e["items"]),
            "geometry": Counter(e["geometry"] for e in manifest["images"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=SPLITS, default="dev")
    ap.add_argument("--out", type=Path, default=None, help="default: bench/out/SPLIT")
    ap.add_argument("--seed", type=int, default=None, help=f"default: {SPLIT_SEEDS}")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    out = args.out or Path("bench/out") / args.split
    t0 = time.perf_counter()
    try:
        m = generate(out, args.seed, args.limit, args.split)
    except MissingAsset as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    n_items = sum(len(i["items"]) for i in m["images"])
    n_clean = sum(i["clean"] for i in m["images"])
    print(f"{args.split}: {len(m['images'])} images ({n_clean} clean), {n_items} labelled items -> {out} "
          f"in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    for key, c in counts(m).items():
        print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    from bench.corpus import main as _main  # the module the scenes import, not this second copy run as __main__

    sys.exit(_main())
