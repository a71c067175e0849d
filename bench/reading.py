"""Reading quality: character error rate (CER) of an OCR engine's words against the manifest's ground-truth text.

Two measures (definitions in bench/README.md, "Scoring"):

* text runs (`texts` in the manifest): per run, the OCR words whose box centres fall inside the run's box padded a
  little, each word given to the nearest such run only, joined in reading order (the engine's own word order) with
  single spaces; Levenshtein distance to the run's text. CER = summed distances / summed lengths.
* labelled values (the `text` of items with source "text"): the same words of the item's box, but the distance is to
  the best-matching stretch of them (what else the box holds, like a label or the rest of a PEM block, is free).

Comparison is case-sensitive, with runs of whitespace collapsed to one space on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

Box = Sequence[float]  # x0, y0, x1, y1
Word = tuple[str, Box]  # an OCR word and its box, in reading order
PAD_SHARE = 0.3  # a run's box grows by this share of its smaller side ...
PAD_MIN = 3  # ... and at least this many pixels: OCR boxes and drawn boxes differ by a few pixels


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(ref: str, hyp: str, *, partial: bool = False) -> int:
    """Levenshtein distance between ref and hyp; with `partial`, between ref and the closest substring of hyp."""
    n = len(hyp)
    if not ref:
        return 0 if partial else n
    if not hyp:
        return len(ref)
    h = np.frombuffer(hyp.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(n + 1)
    row = np.zeros(n + 1, dtype=np.int64) if partial else idx.astype(np.int64)
    for i, ch in enumerate(ref, start=1):
        cost = (h != ord(ch)).astype(np.int64)
        best = np.empty(n + 1, dtype=np.int64)
        best[0] = i
        best[1:] = np.minimum(row[:-1] + cost, row[1:] + 1)  # substitute/match, or delete ref's character
        # inserting hyp characters: best[j] = min over k <= j of best[k] + (j - k)
        row = np.minimum.accumulate(best - idx) + idx
    return int(row.min() if partial else row[-1])


def _padded(box: Box) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    pad = max(PAD_MIN, PAD_SHARE * min(x1 - x0, y1 - y0))
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _distance(point: tuple[float, float], box: Box) -> float:
    dx = max(box[0] - point[0], 0.0, point[0] - box[2])
    dy = max(box[1] - point[1], 0.0, point[1] - box[3])
    return float(np.hypot(dx, dy))


def words_in(box: Box, words: Sequence[Word]) -> str:
    """The words whose centres fall inside the padded box, joined in reading order."""
    area = _padded(box)
    return normalize(" ".join(t for t, b in words if _inside(_centre(b), area)))


def assign_words(boxes: Sequence[Box], words: Sequence[Word]) -> list[str]:
    """The text read in each box: every word goes to the nearest box whose padded area holds its centre."""
    areas = [_padded(b) for b in boxes]
    picked: list[list[str]] = [[] for _ in boxes]
    for text, wbox in words:
        c = _centre(wbox)
        holders = [i for i, a in enumerate(areas) if _inside(c, a)]
        if holders:
            picked[min(holders, key=lambda i: (_distance(c, boxes[i]), i))].append(text)
    return [normalize(" ".join(p)) for p in picked]


@dataclass(frozen=True)
class RunRead:
    """One ground-truth run and what the engine read there. A run scored with the one before it (one OCR word
    covers both) is `joined`: its text, read and distance are counted in that first run's."""

    hyp: str
    distance: int
    length: int
    joined: bool = False

    def to_json(self) -> dict:
        out = {"hyp": self.hyp, "distance": self.distance, "length": self.length}
        if self.joined:
            out["joined"] = True
        return out


def run_groups(boxes: Sequence[Box], words: Sequence[Word]) -> list[list[int]]:
    """Runs that one OCR word covers (its box holds their centres) form a group, in run order; others stand alone.

    A drawing tool draws `KEY`, `=` and `value` (or syntax-coloured tokens) as runs of their own; a reader that
    reads `KEY=value` as one word is right, and scoring it against the nearest run alone would count the other
    runs as unread and the word as mostly wrong."""
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i] = parent[parent[i]]
        return i

    for _, wbox in words:
        covered = [i for i, b in enumerate(boxes) if _inside(_centre(b), wbox)]
        for i in covered[1:]:
            parent[root(i)] = root(covered[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _joined_text(texts: Sequence[dict], group: Sequence[int]) -> str:
    """The group's runs as one text: no space where one run ends within a fifth of a line height of the next."""
    out = normalize(texts[group[0]]["text"])
    for a, b in pairwise(group):
        ba, bb = texts[a]["box"], texts[b]["box"]
        tight = abs(bb[0] - ba[2]) <= 0.2 * (ba[3] - ba[1]) and abs(bb[1] - ba[1]) <= 0.5 * (ba[3] - ba[1])
        out += ("" if tight else " ") + normalize(texts[b]["text"])
    return out


def read_runs(texts: Sequence[dict], words: Sequence[Word]) -> list[RunRead]:
    """Score every ground-truth text run ({"text", "box"}) of one image; runs one word covers are scored together."""
    boxes = [t["box"] for t in texts]
    hyps = assign_words(boxes, words)
    reads = [RunRead("", 0, 0, joined=True)] * len(texts)  # every group's first run is scored below
    for group in run_groups(boxes, words):
        ref, hyp = _joined_text(texts, group), normalize(" ".join(hyps[i] for i in group))
        reads[group[0]] = RunRead(hyp, edit_distance(ref, hyp), len(ref))
    return reads


def read_items(items: Sequence[dict], words: Sequence[Word]) -> dict[int, RunRead]:
    """Score the labelled text values of one image (item index -> read), best-matching stretch of the box's words."""
    out = {}
    for i, it in enumerate(items):
        if it.get("source", "text") != "text" or not it.get("text") or not it.get("box"):
            continue
        ref, hyp = normalize(it["text"]), words_in(it["box"], words)
        out[i] = RunRead(hyp, edit_distance(ref, hyp, partial=True), len(ref))
    return out


@dataclass
class CerTally:
    """Summed distances and lengths of a group of runs."""

    distance: int = 0
    length: int = 0
    runs: int = 0
    exact: int = 0

    def add(self, read: dict) -> None:
        if read.get("joined"):
            return  # scored in its group's first run
        self.distance += read["distance"]
        self.length += read["length"]
        self.runs += 1
        self.exact += read["distance"] == 0

    def to_json(self) -> dict:
        return {"cer": self.distance / self.length if self.length else None, "distance": self.distance,
                "length": self.length, "runs": self.runs, "exact": self.exact,
                "exact_share": self.exact / self.runs if self.runs else None}


def tally(groups: Iterable[tuple[str, dict]]) -> dict[str, dict]:
    """CER per group and overall ("all") from (group, read-as-json) pairs."""
    by: dict[str, CerTally] = {}
    total = CerTally()
    for group, read in groups:
        by.setdefault(group, CerTally()).add(read)
        total.add(read)
    out = {g: t.to_json() for g, t in sorted(by.items())}
    if total.runs:
        out["all"] = total.to_json()
    return out
