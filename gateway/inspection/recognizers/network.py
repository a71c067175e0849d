"""IP addresses as OCR reads them, without version numbers: `f-spot version 0.5.0.3` is a dotted quad, not an
address; `10.4.0.130port=443` (the space before the next word lost) is one."""

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


class VersionAwareIpRecognizer(IpRecognizer):
    """Presidio's IpRecognizer, plus a dotted quad glued to the next word; one right after a version word is a
    version, not an address."""

    def __init__(self) -> None:
        super().__init__(patterns=[*IpRecognizer.PATTERNS, _GLUED_IPV4], name="IpRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _after_version_word(text, r.start)]


def _after_version_word(text: str, start: int) -> bool:
    return bool(_VERSION_BEFORE.search(text[max(0, start - 24) : start].rsplit("\n", 1)[-1]))
