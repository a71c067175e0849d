"""Placeholders and randomness: values that look like secrets or PII in documentation but are not."""

from __future__ import annotations

import regex as re

# ---------------------------------------------------------------------------------------------------------------
# Placeholders: values that look like secrets/PII in documentation but are not.

_PLACEHOLDER_WORDS = re.compile(
    r"exampl|sample|dummy|placeholder|your[_-]|redacted|xxxx|\*\*\*|\.\.\.|[<>{}]|\$\{|1234567890|abcdefgh",
    re.IGNORECASE,
)
_SAME_CHAR_RUN = re.compile(r"(.)\1{5,}")
PLACEHOLDER_PASSWORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "changeme", "user", "username", "admin", "xxx", "test", "mypassword"}
)
# RFC 2606 / 6761 documentation domains and TLDs.
DOC_DOMAINS = ("example.com", "example.org", "example.net")
DOC_TLDS = ("example", "test", "invalid", "localhost")


# A field's label and its value on one line: what parts them (`Name: `, `"name": "`, a tab between two cells) and
# where the value ends (its line's or cell's end, a quote, a comma, a bracket).
LABEL_SEP = r"[\"'’]?[ ]*(?:[:=][ \t]*|\t[ \t]*)[\"'’]?"
VALUE_END = r"(?=[ ]?(?:$|[\t\"'’,;<(\[{]|[ ]{2}))"


def is_placeholder(value: str) -> bool:
    """True for documentation placeholders: AKIAIOSFODNN7EXAMPLE, 'xxxx', masked '****', long runs, 1234567890."""
    return bool(_PLACEHOLDER_WORDS.search(value) or _SAME_CHAR_RUN.search(value))


# ---------------------------------------------------------------------------------------------------------------
# Secrets


def looks_random(value: str) -> bool:
    """A key/token rather than an identifier, a path or a word: mixed character classes, many distinct characters."""
    v = "".join(value.split())
    classes = sum(bool(re.search(p, v)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    if re.fullmatch(r"[A-Z0-9_]+|[a-z0-9_]+|[a-z]+(?:[._-][a-z]+)*", v) and sum(c.isdigit() for c in v) < 4:
        return False  # OPENAI_API_KEY, snake_case_name, some.dotted-name
    return classes >= 2 and len(set(v)) >= 10
