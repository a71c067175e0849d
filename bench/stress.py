"""Robustness probe: a corpus's images under degradations stronger than the corpus draws (turns, tilts, scales,
blur, JPEG, perspective, dim light), and on how many of them the Inspector still finds an entity.

    python -m bench.stress [--corpus bench/out/dev] [--entity MRZ] [--transforms rot4,rot-9,rot90,...] [--out F]

Counts images, not items: an image counts when any finding of the entity is reported, so a transform needs no
box mapping. Meant for the dev split (tune on it; the test split stays unseen).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

GREY = (200, 200, 200)


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _perspective(img: Image.Image, rng: random.Random, k: float) -> Image.Image:
    w, h = img.size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = [(rng.uniform(0, k) * w, rng.uniform(0, k) * h) for _ in range(4)]
    dst = np.float32([[jitter[0][0], jitter[0][1]], [w - jitter[1][0], jitter[1][1]],
                      [w - jitter[2][0], h - jitter[2][1]], [jitter[3][0], h - jitter[3][1]]])
    m = cv2.getPerspectiveTransform(src, dst)
    return Image.fromarray(cv2.warpPerspective(np.asarray(img), m, (w, h), borderValue=GREY))


TRANSFORMS: dict[str, Callable[[Image.Image, random.Random], Image.Image]] = {
    "rot4": lambda im, r: im.rotate(4, expand=True, fillcolor=GREY),
    "rot-9": lambda im, r: im.rotate(-9, expand=True, fillcolor=GREY),
    "rot90": lambda im, r: im.rotate(90, expand=True),
    "half": lambda im, r: im.resize((im.width // 2, im.height // 2), Image.LANCZOS),
    "two_fifths": lambda im, r: im.resize((im.width * 2 // 5, im.height * 2 // 5), Image.LANCZOS),
    "blur": lambda im, r: im.filter(ImageFilter.GaussianBlur(1.6)),
    "jpeg25": lambda im, r: _jpeg(im, 25),
    "perspective": lambda im, r: _perspective(im, r, 0.08),
    "dim": lambda im, r: Image.fromarray((np.asarray(im) * 0.45 + 90).astype(np.uint8)),
}


def probe(corpus: Path, entity: str, transforms: list[str], inspect: Callable[[bytes], set[str]]) -> dict:
    """{transform: [found, images]} over the corpus images labelled with `entity` ("none": as drawn)."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    images = [e for e in manifest["images"] if any(it["entity"] == entity for it in e["items"])]
    counts = {name: [0, 0] for name in ["none", *transforms]}
    for e in images:
        src = Image.open(corpus / e["file"]).convert("RGB")
        for name in counts:
            rng = random.Random(f"{e['file']}/{name}")
            img = src if name == "none" else TRANSFORMS[name](src, rng)
            buf = io.BytesIO()
            img.save(buf, "PNG")
            t = time.perf_counter()
            found = entity in inspect(buf.getvalue())
            counts[name][0] += found
            counts[name][1] += 1
            print(f"{e['file']} {name} {found} {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("bench/out/dev"))
    ap.add_argument("--entity", default="MRZ")
    ap.add_argument("--transforms", default=",".join(TRANSFORMS), help="comma-separated: " + ", ".join(TRANSFORMS))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    names = [t for t in args.transforms.split(",") if t]
    unknown = [t for t in names if t not in TRANSFORMS]
    if unknown:
        ap.error(f"unknown transforms: {', '.join(unknown)}")
    from gateway.inspection import Inspector

    inspector = Inspector()
    counts = probe(args.corpus, args.entity, names, lambda data: {f.entity for f in inspector.inspect(data).findings})
    print(f"| transform | images with {args.entity} found |\n|---|---|")
    for name, (found, total) in counts.items():
        print(f"| {name} | {found} / {total} |")
    if args.out:
        args.out.write_text(json.dumps({"corpus": str(args.corpus), "entity": args.entity, "counts": counts}, indent=1))


if __name__ == "__main__":
    main()
