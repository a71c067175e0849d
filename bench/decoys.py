"""Look-alikes of personal data that are none: the clean half of the reading probe (`python -m bench.probe --decoys`).

Each kind has the shape of something the gateway looks for (digit groups, dotted numbers, long hex or base64 runs,
capitalised word pairs, number-and-street-word, dates) under a label that says what it really is. A finding the
default policy acts on (score >= bench.detection.FLAG_SCORE) on a decoy page is a false positive; which kinds draw
them says which recogniser is too eager. Values are random per page; no kind is a string of either split.
"""

from __future__ import annotations

import base64
import random
import string
import uuid

from bench import corpus as C


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _not_luhn(rng: random.Random, n: int) -> str:
    while True:
        d = rng.choice("123456789") + _digits(rng, n - 1)
        if not C.luhn_ok(d):
            return d


def _grouped(digits: str) -> str:
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return C.dob_wide(rng, (y, m, d))


PRODUCTS = ["Quarterly Report", "Release Notes", "Project Phoenix", "Sprint Review", "Data Retention Policy",
            "Annual General Meeting", "Network Diagram", "Cloud Migration", "Onboarding Checklist", "Budget Forecast",
            "Support Portal", "Service Desk", "Customer Success", "Operations Manual", "Marketing Plan"]
PLACES = ["Room", "Floor", "Gate", "Building", "Hall", "Level", "Desk", "Bay", "Dock", "Aisle"]
IDENTIFIERS = ["getUserById", "MAX_RETRY_COUNT", "session_token", "api_key_env", "parse_config", "AuthProvider",
               "retryBackoffMs", "DEFAULT_TIMEOUT", "load_secrets_from_vault", "PasswordResetForm"]


def decoy(rng: random.Random, kind: str) -> tuple[str, tuple[str, ...], str]:
    """(text, labels, sentence with {}) of one look-alike of `kind` (a key of KINDS)."""
    return KINDS[kind](rng)


KINDS = {
    "order_number": lambda r: (_grouped(_not_luhn(r, 16)),
                               ("Order no.", "Reference", "Tracking"), "Your order {} has shipped."),
    "part_number": lambda r: (f"{_digits(r, 3)}-{_digits(r, 2)}-{_digits(r, 3)}{r.choice(['', 'A', 'B'])}",
                              ("Part no.", "SKU", "Item"), "Replace filter {} every year."),
    "version": lambda r: (r.choice([f"{r.randint(1, 12)}.{r.randint(0, 20)}.{r.randint(0, 30000)}.{r.randint(0, 9999)}",
                                    f"v{r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 99)}",
                                    f"{r.randint(3, 6)}.{r.randint(0, 20)}.0-{r.randint(100, 999)}.el{r.randint(7, 9)}.x86_64"]),
                          ("Version", "Build", "Kernel"), "Upgrade to {} before the freeze."),
    "oid": lambda r: (".".join(["1", "3", "6", "1", "4", "1"] + [str(r.randint(1, 60000)) for _ in range(r.randint(1, 3))]),
                      ("OID", "Object"), "The SNMP object {} reports uptime."),
    "commit": lambda r: (r.choice([_hex(r, 40), _hex(r, 7), _hex(r, 12)]), ("Commit", "Revision", "SHA"),
                         "Fixed in commit {} on main."),
    "digest": lambda r: (r.choice([f"sha256:{_hex(r, 64)}", _hex(r, 32), "sha512-" + base64.b64encode(r.randbytes(48)).decode()]),
                         ("Digest", "Checksum", "Integrity"), "The image digest is {} today."),
    "uuid": lambda r: (str(uuid.UUID(int=r.getrandbits(128))), ("Request ID", "Trace", "UUID"),
                       "Request {} took 38 ms."),
    "amount": lambda r: (r.choice([f"€{r.randint(1, 99)},{r.randint(100, 999)}.{r.randint(10, 99)}",
                                   f"$ {r.randint(10, 999)} {r.randint(100, 999)}.{r.randint(10, 99)}",
                                   f"{r.randint(1, 9)} {r.randint(100, 999)},{r.randint(10, 99)} EUR"]),
                         ("Total", "Amount due", "Balance"), "The total of {} is due now."),
    "timestamp": lambda r: (r.choice([f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} {r.randint(0, 23):02d}:"
                                      f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}",
                                      f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}/2026 {r.randint(0, 23):02d}:"
                                      f"{r.randint(0, 59):02d}"]),
                            ("Created", "Last login", "Updated"), "The job ran at {} without errors."),
    "date": lambda r: (_date(r), ("Due date", "Issued", "Valid until", "Invoice date"), "Payment is due on {} at noon."),
    "title": lambda r: (r.choice(PRODUCTS), ("Subject", "Project", "Document"), "Please review the {} draft."),
    "place": lambda r: (f"{r.choice(PLACES)} {r.randint(1, 40)}{r.choice(['', 'B', 'C'])}", ("Location", "Meeting"),
                        "The workshop is in {} this week."),
    "identifier": lambda r: (r.choice(IDENTIFIERS), ("Symbol", "Function", "Variable"), "Rename {} in the next pull request."),
    "handle": lambda r: (r.choice(["@channel", "@here", "@types/node", "@Override", "@dataclass", "@angular/core",
                                   "git@github.com:acme/infra.git"]), ("Mention", "Import", "Remote"),
                         "Add {} to the file."),
    "serial": lambda r: ("".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(r.choice([10, 12]))),
                         ("Serial", "S/N", "Asset tag"), "Laptop {} is due for return."),
    "isbn": lambda r: (f"978-{r.randint(0, 9)}-{_digits(r, 3)}-{_digits(r, 5)}-{r.randint(0, 9)}", ("ISBN",),
                       "The handbook ({}) is in the library."),
}
