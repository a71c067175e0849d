"""IP addresses as OCR reads them, without version numbers: `f-spot version 0.5.0.3` is a dotted quad, not an
address; `10.4.0.130port=443` and `Source84.205.217.72` (the space next to a word lost) are, and so is
`IP:2c0f:bc00::218a` (the space after a label's colon lost)."""

from __future__ import annotations

import regex as re
from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.predefined_recognizers import IpRecognizer

# What precedes a version number on its line: "version", "ver.", "release", "build", "firmware", "kernel".
_VERSION_BEFORE = re.compile(
    r"(?i)\b(?:version|ver|release|build|rev|revision|firmware|fw|kernel|v)\.?[ \t]*[:=]?[ \t]*\Z"
)

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
# A dotted quad run into the next word: its last octet ends where three or more letters begin.
_GLUED_IPV4 = Pattern("IPv4_glued", rf"\b{_OCTET}(?:\.{_OCTET}){{3}}(?=[A-Za-z]{{3,}})", 0.6)
# ... or run into the word before it (a label: "Source", "Host"); digits or a dot before it would make it longer.
_LABEL_GLUED_IPV4 = Pattern("IPv4_after_word", rf"(?<=[A-Za-z]{{3}}){_OCTET}(?:\.{_OCTET}){{3}}\b(?!\.\d)", 0.6)
# Presidio's IPv6 pattern refuses a ':' before the address; a label's colon may be right there ("IP:2c0f:...").
_IPV6 = next(p.regex for p in IpRecognizer.PATTERNS if p.name == "IPv6")
_LABEL_GLUED_IPV6 = Pattern("IPv6_after_label", "(?<=\\b[A-Za-z]{2,12}:)" + _IPV6.removeprefix("(?<![\\w:])"), 0.6)


class VersionAwareIpRecognizer(IpRecognizer):
    """Presidio's IpRecognizer, plus a dotted quad glued to the next word; one right after a version word is a
    version, not an address."""

    def __init__(self) -> None:
        super().__init__(patterns=[*IpRecognizer.PATTERNS, _GLUED_IPV4, _LABEL_GLUED_IPV4, _LABEL_GLUED_IPV6], name="IpRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _after_version_word(text, r.start) and not _in_dotted_chain(text, r)]


def _in_dotted_chain(text: str, r: RecognizerResult) -> bool:
    """Four numbers of a longer dotted run (an SNMP OID `1.3.6.1.4.1.311`, a build `10.0.2.15.1`) are no IPv4."""
    if ":" in text[r.start : r.end]:
        return False
    return bool(_CHAIN_BEFORE.search(text, 0, r.start) or _CHAIN_AFTER.match(text, r.end))


_CHAIN_BEFORE = re.compile(r"\d\.\Z")
_CHAIN_AFTER = re.compile(r"\.\d")


def _after_version_word(text: str, start: int) -> bool:
    return bool(_VERSION_BEFORE.search(text[max(0, start - 24) : start].rsplit("\n", 1)[-1]))
