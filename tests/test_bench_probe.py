"""bench/probe.py: probe pages label every value where it is drawn, with valid values, faces of neither split, and
the report counts found items per level of every factor."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from bench import corpus as C
from bench.probe import ENTITIES, FACES, IBAN_BBAN, iban_any, run, sample, value


def test_probe_faces_are_no_split_faces() -> None:
    drawn = {str(C.FONT_ROOT / C.FACES[name].path) for split in C.SPLITS for name in C.split_faces(split)
             if name in C.FACES}
    assert drawn and not set(FACES.values()) & drawn


@pytest.mark.parametrize("country", sorted(IBAN_BBAN))
def test_probe_ibans_are_valid(country: str) -> None:
    iban = iban_any(random.Random(country), country)
    assert C.iban_ok(iban.replace(" ", "")) and iban.startswith(country)


def test_values_have_their_entity() -> None:
    rng = random.Random(3)
    for entity in ENTITIES:
        v = value(rng, entity)
        assert v.entity == entity and v.text.strip() and "{}" in v.sentence


def test_items_are_boxed_on_ink() -> None:
    for i in range(12):
        s = sample(random.Random(f"t/{i}"), ENTITIES)
        grey = np.asarray(Image.open(io.BytesIO(s.png)).convert("L")).astype(int)
        assert len(s.items) == 4
        for item in s.items:
            x0, y0, x1, y1 = (int(round(v)) for v in item["box"])
            assert 0 <= x0 < x1 <= grey.shape[1] and 0 <= y0 < y1 <= grey.shape[0]
            inside, bg = grey[y0:y1, x0:x1], np.median(grey[:4])
            assert np.abs(inside - bg).max() > 40, (s.factors, item)  # the value's glyphs are there


def test_run_counts_found_items_per_factor_level() -> None:
    samples = [sample(random.Random(f"r/{i}"), ("US_SSN",)) for i in range(3)]

    def inspect(data: bytes):  # finds the first item of each page only, reads nothing
        s = next(s for s in samples if s.png == data)
        return [{"entity": "US_SSN", "box": s.items[0]["box"], "score": 1.0}], []

    result = run(samples, inspect)
    assert result["found"]["all"]["all"] == [3, 12]
    assert result["found"]["entity"]["US_SSN"] == [3, 12]
    assert sum(total for _, total in result["found"]["layout"].values()) == 12
    assert len(result["misses"]) == 9 and result["value_cer"] == 1.0


def test_decoys_are_not_the_data_they_look_like() -> None:
    from bench import decoys

    rng = random.Random(5)
    for _ in range(40):
        digits = decoys.decoy(rng, "order_number")[0].replace(" ", "")
        assert len(digits) == 16 and not C.luhn_ok(digits)
    for kind in decoys.KINDS:
        text, labels, sentence = decoys.decoy(rng, kind)
        assert text.strip() and labels and "{}" in sentence


def test_run_decoys_counts_pages_and_kinds_a_finding_acts_on() -> None:
    from bench.probe import run_decoys

    samples = [sample(random.Random(f"d/{i}"), ENTITIES, ("commit", "uuid")) for i in range(3)]
    assert all(it["entity"] in ("decoy:commit", "decoy:uuid") for s in samples for it in s.items)

    def inspect(data: bytes):  # page 0: one acting finding on its first decoy, one below the acting score
        s = next(s for s in samples if s.png == data)
        if s is not samples[0]:
            return [{"entity": "SECRET", "box": s.items[1]["box"], "score": 0.3}], []
        return [{"entity": "SECRET", "box": s.items[0]["box"], "score": 0.9}], []

    result = run_decoys(samples, inspect)
    assert result["found"]["all"]["all"] == [1, 3]
    assert sum(hit for hit, _ in result["found"]["kind"].values()) == 1
    assert [(f["image"], f["on"]) for f in result["false"]] == [(0, samples[0].items[0]["entity"])]


def test_mrz_pages_hold_one_valid_zone_boxed_on_ink() -> None:
    from bench.probe import MRZ_KINDS, mrz_sample

    kinds = set()
    for i in range(12):
        s = mrz_sample(random.Random(f"m/{i}"))
        kinds.add(s.factors["kind"])
        (item,) = s.items
        lines = item["line"].split(" / ")
        assert item["entity"] == "MRZ" and C.mrz_valid(lines) and len(lines) == (3 if s.factors["kind"] == "TD1" else 2)
        grey = np.asarray(Image.open(io.BytesIO(s.png)).convert("L")).astype(int)
        x0, y0, x1, y1 = (int(round(v)) for v in item["box"])
        assert np.abs(grey[y0:y1, x0:x1] - np.median(grey[:4])).max() > 40
    assert kinds == set(MRZ_KINDS)
