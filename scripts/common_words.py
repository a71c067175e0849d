"""Build gateway/inspection/data/common_words.txt.gz: English words that are never proper nouns.

    python scripts/common_words.py [--dict /usr/share/dict/american-english] [--out FILE]

From SCOWL's American list (Debian `wamerican`; copyright Kevin Atkinson and others, permission to use, copy,
modify, distribute and sell granted without fee, see gateway/inspection/data/README.md): every all-lower-case word
of three or more letters whose capitalised form is not in the list too. `customer`, `success` and `migration` are
in it; `grace`, `baker`, `stone`, `rose` are not (`Grace`, `Baker`, ... are listed as names).
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

DICT = Path("/usr/share/dict/american-english")
OUT = Path(__file__).resolve().parents[1] / "gateway" / "inspection" / "data" / "common_words.txt.gz"


def common_words(lines: list[str]) -> list[str]:
    """The lower-case words of `lines` (one word per line) that no capitalised line repeats."""
    words = {w.strip() for w in lines}
    capitalised = {w.lower() for w in words if w[:1].isupper()}
    return sorted(w for w in words if re.fullmatch(r"[a-z]{3,}", w) and w not in capitalised)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dict", type=Path, default=DICT)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    words = common_words(args.dict.read_text(encoding="utf-8").splitlines())
    # mtime 0: the same list gives the same bytes
    args.out.write_bytes(gzip.compress(("\n".join(words) + "\n").encode(), mtime=0))
    print(f"{len(words)} words -> {args.out}")


if __name__ == "__main__":
    main()
