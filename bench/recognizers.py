"""Which line recogniser reads PII best: EasyOCR's english_g2 CRNN (torch, as EasyOCR runs it on CPU) against
PaddleOCR's PP-OCRv6 (gateway/inspection/ppocr.py) on the same ground-truth line crops.

`python -m bench.recognizers [--seed 1]` renders lines of e-mails (with `_ . - +`), log lines, IPv4/IPv6, AWS
secrets, GitHub tokens, spaced IBANs, cards + SSNs, DB URLs with symbols and street addresses in the dev split's
fonts (DejaVu and Liberation: never the test split's), at 11-34 px on light, dark, blue-on-dark and low-contrast
themes, crops each line at its drawn box (plus 15% of its height), and reports the character error rate (CER:
Levenshtein distance / ground-truth length, whitespace runs collapsed), lines read exactly, and recognition time
(one thread each, lines one at a time) for both recognisers.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from collections.abc import Callable, Iterator

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.reading import edit_distance

FONT_ROOT = "/usr/share/fonts/truetype/"
FONTS = ["dejavu/DejaVuSans.ttf", "dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSansMono.ttf",
         "liberation/LiberationSans-Regular.ttf", "liberation/LiberationSerif-Regular.ttf",
         "liberation/LiberationMono-Regular.ttf"]
SIZES = [11, 14, 18, 24, 34]
THEMES = {"light": ((255, 255, 255), (25, 25, 25)), "dark": ((20, 21, 24), (205, 205, 205)),
          "blue": ((30, 30, 36), (97, 175, 239)), "low": ((232, 232, 232), (120, 120, 120))}
FIRST = ["omar", "li", "sara", "fatima", "jon", "k", "marie", "ahmed", "yuki", "olga", "pat"]
LAST = ["petrova", "wei", "o_neill", "okafor", "smith", "van_der", "dubois", "khan", "tanaka", "berg", "lee"]
DOMAINS = ["protonmail.com", "gmail.com", "outlook.com", "web.de", "northwind-traders.com", "fastmail.fm",
           "corp.example.org", "mail.co.uk"]
LINES_PER_PAGE = 8


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}{rng.choice(['_', '.', '-', '+', ''])}{rng.choice(LAST)}@{rng.choice(DOMAINS)}"


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _ipv6(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return ":".join(f"{rng.randint(0, 65535):x}" for _ in range(8))
    return f"2001:db8:{rng.randint(0, 4095):x}::{rng.randint(1, 65535):x}:{rng.randint(1, 65535):x}"


def pii_line(rng: random.Random) -> str:
    """One line of PII-shaped text (values are random, not valid: this measures reading, not detection)."""
    digits = string.digits
    kind = rng.randrange(9)
    if kind == 0:
        return f"Email: {_email(rng)}"
    if kind == 1:
        return (f"{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)} INFO user={_email(rng)} "
                f"from {_ipv4(rng)}")
    if kind == 2:
        return f"src={_ipv6(rng)} dst={_ipv4(rng)}"
    if kind == 3:
        return f"AWS_SECRET_ACCESS_KEY={_chars(rng, string.ascii_letters + digits + '/+', 40)}"
    if kind == 4:
        return f"token: ghp_{_chars(rng, string.ascii_letters + digits, 36)}"
    if kind == 5:
        return "IBAN " + " ".join(_chars(rng, digits, 4) for _ in range(5))
    if kind == 6:
        card = " ".join(_chars(rng, digits, 4) for _ in range(4))
        return f"Card {card} SSN {_chars(rng, digits, 3)}-{_chars(rng, digits, 2)}-{_chars(rng, digits, 4)}"
    if kind == 7:
        return f"postgres://admin:{_chars(rng, string.ascii_letters + '%!#$', 10)}@db{rng.randint(1, 9)}.internal:5432/prod"
    return (f"{rng.randint(100, 9999)} {rng.choice(['Pine', 'Oak', 'Maple', 'Cedar'])} "
            f"{rng.choice(['Court', 'Street', 'Avenue'])}, {rng.choice(['Boulder, CO', 'Austin, TX', 'Salem, OR'])} "
            f"{rng.randint(10000, 99999)}")


def line_crops(seed: int) -> Iterator[tuple[str, str, np.ndarray]]:
    """(page name, ground truth, dark-on-light grey crop) for every rendered line."""
    rng = random.Random(seed)
    for font_file in FONTS:
        for size in SIZES:
            for theme in ("light", "dark") if size % 2 else ("blue", "low"):
                bg, fg = THEMES[theme]
                font = ImageFont.truetype(FONT_ROOT + font_file, size)
                lines = [pii_line(rng) for _ in range(LINES_PER_PAGE)]
                page = Image.new("RGB", (int(max(font.getlength(t) for t in lines) + 80), int(size * 1.7 * 9)), bg)
                draw = ImageDraw.Draw(page)
                grey = None
                boxes = []
                for i, text in enumerate(lines):
                    xy = (40, 20 + int(i * size * 1.7))
                    draw.text(xy, text, font=font, fill=fg)
                    boxes.append(draw.textbbox(xy, text, font=font))
                grey = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2GRAY)
                if np.median(grey) < 128:
                    grey = 255 - grey
                name = f"{font_file.split('/')[1][:-4]}-{size}-{theme}"
                for text, (x0, y0, x1, y1) in zip(lines, boxes):
                    m = max(2, int(0.15 * (y1 - y0)))
                    yield name, text, grey[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m]


def easyocr_reader() -> Callable[[np.ndarray], str]:
    """EasyOCR's own CPU recogniser (english_g2, torch dynamic int8), from the packaged weights, offline."""
    import tempfile

    import easyocr
    import easyocr_en_models
    import torch

    torch.set_num_threads(1)
    reader = easyocr.Reader(["en"], gpu=False, download_enabled=False, verbose=False, detector=False,
                            model_storage_directory=easyocr_en_models.model_dir(),
                            user_network_directory=tempfile.mkdtemp(prefix="easyocr-"))

    def read(crop: np.ndarray) -> str:
        h, w = crop.shape
        return " ".join(t for _, t, _ in reader.recognize(crop, horizontal_list=[[0, w, 0, h]], free_list=[],
                                                          detail=1))

    return read


def ppocr_reader() -> Callable[[np.ndarray], str]:
    from gateway.inspection.ppocr import PpOcrRecognizer

    rec = PpOcrRecognizer(1)
    return lambda crop: rec.read([crop])[0].text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    crops = list(line_crops(args.seed))
    print(f"{len(crops)} lines, {len({n for n, _, _ in crops})} pages", file=sys.stderr)
    print("| recogniser | CER | lines read exactly | seconds (1 thread) |\n|---|---|---|---|")
    for name, make in (("EasyOCR english_g2 (torch)", easyocr_reader), ("PP-OCRv6 (ONNX Runtime)", ppocr_reader)):
        read = make()
        read(crops[0][2])  # warm-up
        dist = total = exact = 0
        start = time.perf_counter()
        for _, truth, crop in crops:
            got, want = " ".join(read(crop).split()), " ".join(truth.split())
            d = edit_distance(want, got)
            dist, total, exact = dist + d, total + len(want), exact + (d == 0)
        print(f"| {name} | {dist / total:.2%} | {exact}/{len(crops)} | {time.perf_counter() - start:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
