"""What inspecting every plane costs on clean images: `Inspector().inspect(data)` with and without the extra planes
(colours under transparency, frames, EXIF thumbnails and other embedded pictures), in the same process, requests
interleaved, on clean transparent PNGs and clean JPEGs that carry a thumbnail.

    python -m bench.hidden_planes [--repeats 3] [--quick]

"Without" replaces `DecodedImage.planes` by an empty iterator: the inspection of frame 0 only, as before the
planes existed. "Finding the planes" times `list(decoded.planes())` alone (the alpha test, decoding and comparing
thumbnails): on a clean image that inspects no plane, it is all the planes add, and it is far less noisy on a
shared machine than the difference of two whole inspections. Writes bench/out/hidden_planes.json and prints a
markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.inspection_speed import FONT, OUT, photo_like, screenshot

# ------------------------------------------------------------------------------------------- clean images


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _rounded(image: Image.Image, radius: int) -> Image.Image:
    """`image` with transparent rounded corners (colours there zeroed, as screenshot tools write them)."""
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, image.size[0] - 1, image.size[1] - 1), radius=radius, fill=255)
    out = Image.composite(image.convert("RGBA"), Image.new("RGBA", image.size, (0, 0, 0, 0)), mask)
    out.putalpha(mask)
    return out


def window_with_shadow() -> bytes:
    """A macOS-style window capture: a 1024x768 screenshot with rounded corners on a soft transparent shadow."""
    window = _rounded(Image.open(io.BytesIO(screenshot(1))), 10)
    size = (1024 + 176, 768 + 176)
    shadow = Image.new("L", size, 0)
    ImageDraw.Draw(shadow).rounded_rectangle((88, 100, 88 + 1024, 100 + 768), radius=10, fill=140)
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    canvas.putalpha(shadow.filter(ImageFilter.GaussianBlur(28)))
    canvas.alpha_composite(window, (88, 80))
    return _png(canvas)


def rounded_screenshot() -> bytes:
    return _png(_rounded(Image.open(io.BytesIO(screenshot(2))), 12))


def logo() -> bytes:
    image = Image.new("RGBA", (900, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((30, 60), "Northwind Traders", font=ImageFont.truetype(FONT, 64), fill=(20, 40, 90))
    return _png(image)


def chart() -> bytes:
    """A line chart exported with a transparent background: axes, grid, labels, two antialiased series."""
    w, h = 1200, 700
    image = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    d = ImageDraw.Draw(image)
    f = ImageFont.truetype(FONT, 18)
    for i in range(6):
        y = 80 + i * 100
        d.line((100, y, w - 40, y), fill=(200, 200, 200, 255), width=1)
        d.text((30, y - 10), f"{(5 - i) * 20}%", font=f, fill=(60, 60, 60, 255))
    rng = np.random.default_rng(3)
    for colour in ((40, 100, 200, 255), (220, 90, 40, 255)):
        ys = 380 + np.cumsum(rng.normal(0, 25, 24))
        d.line([(100 + i * 45, float(y)) for i, y in enumerate(ys)], fill=colour, width=3)
    for i, month in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]):
        d.text((100 + i * 90, h - 70), month, font=f, fill=(60, 60, 60, 255))
    return _png(image)


def cutout_photo() -> bytes:
    """A background-removed photo: a round cut-out whose colours outside are zeroed."""
    photo = Image.open(io.BytesIO(photo_like((1000, 1000)))).convert("RGB")
    mask = Image.new("L", photo.size, 0)
    ImageDraw.Draw(mask).ellipse((40, 40, 960, 960), fill=255)
    return _png(Image.composite(photo.convert("RGBA"), Image.new("RGBA", photo.size, (0, 0, 0, 0)),
                                mask.filter(ImageFilter.GaussianBlur(2))))


def white_text_sticker() -> bytes:
    """White text on a transparent ground: invisible composited over white, so its plane IS inspected."""
    image = Image.new("RGBA", (900, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((30, 60), "Northwind Traders", font=ImageFont.truetype(FONT, 64), fill="white")
    return _png(image)


def with_thumbnail(data: bytes, thumb_size: tuple[int, int], cropped: bool = False) -> bytes:
    """A JPEG of `data` carrying its own downscaled copy as EXIF thumbnail, as cameras and phones write it
    (cropped: a thumbnail of the top-left quarter instead, which is no copy and so is read)."""
    from tests.support.images import jpeg_with_thumbnail

    image = Image.open(io.BytesIO(data)).convert("RGB")
    source = image.crop((0, 0, image.width // 2, image.height // 2)) if cropped else image
    return jpeg_with_thumbnail(image, source.resize(thumb_size))


def images(quick: bool) -> dict[str, bytes]:
    out = {
        "window_with_shadow_1200x944.png": window_with_shadow(),
        "rounded_screenshot_1024x768.png": rounded_screenshot(),
        "chart_1200x700.png": chart(),
        "logo_900x200.png": logo(),
        "cutout_photo_1000x1000.png": cutout_photo(),
        "white_text_sticker_900x200.png (plane inspected)": white_text_sticker(),
        "camera_photo_2000x1500.jpg + 160x120 thumbnail": with_thumbnail(photo_like((2000, 1500)), (160, 120)),
        "screenshot_1024x768.jpg + 256x192 thumbnail": with_thumbnail(screenshot(3), (256, 192)),
        "camera_photo_2000x1500.jpg + cropped 160x120 thumbnail (plane inspected)":
            with_thumbnail(photo_like((2000, 1500)), (160, 120), cropped=True),
    }
    if quick:
        keep = ("window_with_shadow", "chart", "white_text", "camera_photo", "screenshot")
        out = {k: v for k, v in out.items() if k.startswith(keep)}
    return out


# ------------------------------------------------------------------------------------------- measurement


@contextmanager
def planes_off():
    from gateway.inspection.decode import DecodedImage

    original = DecodedImage.planes
    DecodedImage.planes = lambda self: iter(())
    try:
        yield
    finally:
        DecodedImage.planes = original


def measure(inspector, data: bytes, repeats: int) -> dict:
    from gateway.inspection.decode import decode_image

    with_planes, without, check = [], [], []
    plane_names: list[str] = []
    for i in range(repeats):
        for on in ((True, False) if i % 2 == 0 else (False, True)):  # alternate which goes first
            start = time.perf_counter()
            if on:
                report = inspector.inspect(data)
            else:
                with planes_off():
                    report = inspector.inspect(data)
            (with_planes if on else without).append(time.perf_counter() - start)
            assert report.ok and not [f for f in report.findings if f.plane], report.findings
        decoded = decode_image(data, inspector.options.limits)
        start = time.perf_counter()
        plane_names = [p.name for p in decoded.planes()]
        check.append(time.perf_counter() - start)
    on_s, off_s = statistics.median(with_planes), statistics.median(without)
    return {"with_planes_s": on_s, "without_planes_s": off_s, "ratio": on_s / off_s,
            "planes_only_s": statistics.median(check), "planes": plane_names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="6 of the 9 images")
    args = parser.parse_args(argv)
    from gateway.inspection import Inspector

    inspector = Inspector()
    inspector.inspect(_png(Image.new("RGB", (64, 64), "white")))  # warm-up
    load_before = os.getloadavg()
    results = {name: measure(inspector, data, args.repeats) for name, data in images(args.quick).items()}
    out = {"repeats": args.repeats, "load_before": load_before, "load_after": os.getloadavg(),
           "cpu": os.cpu_count(), "images": results}
    OUT.mkdir(parents=True, exist_ok=True)
    Path(OUT / "hidden_planes.json").write_text(json.dumps(out, indent=2))
    print(markdown(out))
    return 0


def markdown(r: dict) -> str:
    header = ("| image | planes inspected | with planes median s | without median s | ratio | finding the planes s "
              "| that / without |")
    rows = [header, "|---|---|---|---|---|---|---|"]
    for name, m in r["images"].items():
        rows.append(f"| {name} | {', '.join(m['planes']) or '-'} | {m['with_planes_s']:.3f} | "
                    f"{m['without_planes_s']:.3f} | {m['ratio']:.2f} | {m['planes_only_s']:.3f} | "
                    f"{m['planes_only_s'] / m['without_planes_s']:.1%} |")
    load = ", ".join(f"{v:.1f}" for v in r["load_before"]) + " → " + ", ".join(f"{v:.1f}" for v in r["load_after"])
    rows.append(f"\n{r['repeats']} repeats each, interleaved; load average {load}.")
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
