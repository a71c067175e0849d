"""bench/stress.py: every transform yields an image the inspector is asked about, counted per transform."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from bench.stress import TRANSFORMS, probe


def test_probe_counts_each_transform(tmp_path: Path) -> None:
    Image.new("RGB", (120, 80), "white").save(tmp_path / "a.png")
    Image.new("RGB", (120, 80), "white").save(tmp_path / "b.png")
    items = [{"entity": "MRZ", "box": [0, 0, 10, 10], "text": "X"}]
    (tmp_path / "manifest.json").write_text(json.dumps({"images": [
        {"file": "a.png", "items": items}, {"file": "b.png", "items": items},
        {"file": "c.png", "items": [{"entity": "EMAIL_ADDRESS", "box": None, "text": "x@y.org"}]},  # not asked
    ]}))
    sizes: list[tuple[int, int]] = []

    def inspect(data: bytes) -> set[str]:
        import io

        sizes.append(Image.open(io.BytesIO(data)).size)
        return {"MRZ"} if len(sizes) % 2 else set()

    counts = probe(tmp_path, "MRZ", list(TRANSFORMS), inspect)
    assert set(counts) == {"none", *TRANSFORMS}
    assert all(total == 2 for _, total in counts.values())
    assert sum(found for found, _ in counts.values()) == (len(TRANSFORMS) + 1)
    assert (80, 120) in sizes and (60, 40) in sizes  # rot90 turned it, half halved it
