"""Camera photos: faces, GPS-tagged and camera-only EXIF (dev, manifest version 1) and the test split's photos."""

from __future__ import annotations

import random

from PIL import Image, ImageOps

from bench.corpus import FACE_BOXES, NO_FACE_PHOTOS, NO_FACE_PHOTOS_TEST, Item, Scene, _landscape, photo


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




# --------------------------------------------------------------------------------------------- test split

def snapshot(rng: random.Random, clean: bool) -> Scene:
    """A face photo as a framed print or picture-in-picture on another photo, sometimes with GPS EXIF."""
    name = rng.choice(["astronaut", "grace_hopper", "messi"])
    img = photo(name)
    box = list(FACE_BOXES[name])
    s = rng.uniform(0.7, 1.6) if name != "messi" else rng.uniform(1.2, 2.4)
    img = img.resize((int(img.width * s), int(img.height * s)), Image.LANCZOS)
    box = [int(round(v * s)) for v in box]
    back = photo(rng.choice(NO_FACE_PHOTOS_TEST))
    bs = max((img.width + 120) / back.width, (img.height + 120) / back.height, rng.uniform(1.2, 2.0))
    back = back.resize((int(back.width * bs), int(back.height * bs)), Image.LANCZOS)
    border = rng.randint(12, 40)
    framed = ImageOps.expand(img, border=border, fill=rng.choice([(255, 255, 255), (20, 20, 20), (240, 235, 220)]))
    ox, oy = rng.randint(0, back.width - framed.width), rng.randint(0, back.height - framed.height)
    back.paste(framed, (ox, oy))
    items = [Item("FACE", [box[0] + ox + border, box[1] + oy + border, box[2] + ox + border, box[3] + oy + border],
                  None, "face")]
    gps = rng.random() < 0.4
    if gps:
        items.append(Item("EXIF_GPS", None, None, "metadata"))
    return Scene(back, items, _gps_exif(rng, gps), photo=True, theme="photo-in-photo")


def gps_photo_test(rng: random.Random, clean: bool) -> Scene:
    """A photo without people from the test split's own set; GPS EXIF (PII) or camera-only EXIF (clean)."""
    img = photo(rng.choice(NO_FACE_PHOTOS_TEST))
    s = rng.uniform(1.2, 3.0)
    img = img.resize((int(img.width * s), int(img.height * s)), Image.LANCZOS)
    items = [] if clean else [Item("EXIF_GPS", None, None, "metadata")]
    return Scene(img, items, _gps_exif(rng, not clean), photo=True, theme="photo")
