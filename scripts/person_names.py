"""Build gateway/inspection/data/given_names.txt.gz and surnames.txt.gz: people's names in Latin script.

    pip install 'faker==40.63.0' && python scripts/person_names.py [--out-dir DIR]

From Faker's person providers (MIT licence, copyright Daniele Faraglia and contributors; see
gateway/inspection/data/README.md): every first and last name, and their romanised forms, of every locale, split
at spaces, kept where it is two to twenty Latin letters and capitalised. A given name that is also a common English
word (`Among`, `Author`, `Can` in some locales' lists), a country or a language (`France`, `French`, `Jordan`) is
left out: the recogniser that reads these lists must not take `Author Guidelines`, `Paris, France` or `English,
French` for a person.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import pkgutil
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "gateway" / "inspection" / "data"
FAKER_VERSION = "40.63.0"
_LATIN_NAME = re.compile(r"[A-Z\xC0-\xD6\xD8-\xDE][A-Za-z\xC0-\xD6\xD8-\xF6\xF8-\xFF'’-]{1,19}")
_GIVEN = ("first_name", "first_romanized_name")
_LAST = ("last_name", "last_romanized_name")


def _names(values: object) -> list[str]:
    """The strings of a provider attribute: a tuple, a list or a weighted mapping of names."""
    names = list(values.keys()) if isinstance(values, dict) else list(values) if isinstance(values, (tuple, list)) else []
    return names if names and all(isinstance(n, str) for n in names) else []


def faker_places() -> set[str]:
    """Countries and languages, one word each, of Faker's English lists."""
    from faker.providers.address.en import Provider as Address
    from faker.providers.person.en import Provider as Person

    return {w for w in (*Address.countries, *Person.language_names) if _LATIN_NAME.fullmatch(w)}


def faker_names() -> tuple[set[str], set[str]]:
    """(given names that are no country or language, surnames) of every locale of the installed Faker."""
    import faker
    import faker.providers.person as person

    if faker.VERSION != FAKER_VERSION:
        sys.exit(f"faker {faker.VERSION} installed; the lists are derived from {FAKER_VERSION}")
    given: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attr in dir(provider):
            target = given if attr.startswith(_GIVEN) else last if attr.startswith(_LAST) else None
            if target is None:
                continue
            for name in _names(getattr(provider, attr)):
                target.update(p for p in name.split() if _LATIN_NAME.fullmatch(p))
    return given - faker_places(), last


def name_lists(given: set[str], last: set[str], common: frozenset[str]) -> tuple[list[str], list[str]]:
    """The lists as written: lower-case, sorted; given names that are common English words left out."""
    return (sorted({g.lower() for g in given} - common), sorted({s.lower() for s in last}))


def _write(path: Path, words: list[str]) -> None:
    path.write_bytes(gzip.compress(("\n".join(words) + "\n").encode(), mtime=0))  # mtime 0: same list, same bytes
    print(f"{len(words)} names -> {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from gateway.inspection.names import common_words

    given, last = name_lists(*faker_names(), common_words())
    _write(args.out_dir / "given_names.txt.gz", given)
    _write(args.out_dir / "surnames.txt.gz", last)


if __name__ == "__main__":
    main()
