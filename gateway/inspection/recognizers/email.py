"""E-mail addresses: offline public-suffix check, documentation domains ignored, OCR-damaged forms."""

from __future__ import annotations

import difflib

import regex as re
import tldextract
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from gateway.inspection.recognizers.common import DOC_DOMAINS, DOC_TLDS

# ---------------------------------------------------------------------------------------------------------------
# Email without documentation domains, offline TLD list

_TLD = tldextract.TLDExtract(suffix_list_urls=())  # bundled public-suffix snapshot, never the network


def public_suffix(domain: str) -> str:
    """The public suffix of a host name ("co.uk" for "mail.yahoo.co.uk"), "" when it has none."""
    return _TLD(domain).suffix


# `user@host:path/...` or `user@host:~`: an scp-style git remote or a shell prompt, no mail address. A password
# after the colon (`jane@gmail.com:Passw0rd!`, a credential dump) has no slash and stays an address.
_SCP_PATH = re.compile(r":(?:~|[\w.-]*/)")


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer with an offline TLD check; example.com/.org/.net addresses are placeholders."""

    def __init__(self) -> None:
        super().__init__(name="EmailRecognizer")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _SCP_PATH.match(text, r.end)]

    def validate_result(self, pattern_text: str) -> bool:
        return _TLD(pattern_text).fqdn != ""

    def invalidate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rsplit("@", 1)[-1].lower().rstrip(".")
        if domain.rsplit(".", 1)[-1] in DOC_TLDS:
            return True
        if any(domain == d or domain.endswith("." + d) for d in DOC_DOMAINS):
            return True
        # OCR drops the last letters of a dot-separated word ("billing@exampl com" -> exampl.com): still a placeholder
        labels = domain.split(".")
        if len(labels) >= 2 and labels[-1] in ("com", "org", "net") and _looks_like_example(labels[-2]):
            return True
        # ... or lost its dot: "name@examplecom" (then glued to a following word)
        return any(len(x) > 7 and x[-3:] in ("com", "org", "net") and _looks_like_example(x[:-3]) for x in labels)


class DotlessEmailRecognizer(PatternRecognizer):
    """An email whose last dot OCR dropped ("jo@contoso-healthorg", "x@tradersCom"): a domain without any dot that
    ends in a common top-level domain, not a capitalised word (`Add @Override`, a Java annotation glued to the word
    before). Lower score than a well-formed address."""

    TLDS = ("com", "org", "net", "edu", "gov", "io", "de", "fr", "uk", "nl", "ch", "me", "info")

    def __init__(self) -> None:
        tlds = "|".join(self.TLDS)
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="DotlessEmailRecognizer",
            patterns=[Pattern("dotless_email", rf"\b[A-Za-z0-9][A-Za-z0-9._%+-]*@(?-i:(?![A-Z][a-z]))[A-Za-z0-9-]{{3,}}(?i:{tlds})\b(?![.@])", 0.6)],
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rsplit("@", 1)[-1].lower()
        return _looks_like_example(domain[:7]) or domain.startswith(("localhost", "example"))


class LostAtEmailRecognizer(PatternRecognizer):
    """An email whose '@' OCR read as a letter (c, d, a, e): at a big webmail provider ("erikssoncoutlook com",
    "fontaineeyahoo.co.uk"), or inside the angle brackets after a name, as mail headers and git logs write it
    ("Ahmed <ahmeddcontoso-health.org>").
    Lower score than a well-formed address."""

    PROVIDERS = ("gmail", "googlemail", "outlook", "hotmail", "yahoo", "protonmail", "proton", "icloud", "fastmail",
                 "gmx", "aol")

    def __init__(self) -> None:
        tlds = "|".join(DotlessEmailRecognizer.TLDS)
        providers = "|".join(self.PROVIDERS)
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="LostAtEmailRecognizer",
            patterns=[
                Pattern("webmail_lost_at", rf"\b[A-Za-z0-9][A-Za-z0-9._%+-]*[cdae@](?:{providers})[ \t]?[.,]?[ \t]?"
                        rf"(?:co[ \t]?\.?[ \t]?uk|{tlds})\b", 0.6),
                Pattern("bracketed_lost_at", rf"(?<=\b[A-Z][a-z]+[ \t]?<[ \t]?)[A-Za-z0-9][^<>@\s:/]*"
                        rf"(?:[ \t][^<>@\s:/]+){{0,3}}\.(?:{tlds})(?=[ \t]?>)", 0.6),
            ],
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        text = pattern_text.lower()  # a damaged documentation address ("noreplydexomple.com") is no one's
        return len(text) < 8 or any(_looks_like_example(text[i : i + 7]) for i in range(len(text) - 6))


def _looks_like_example(label: str) -> bool:
    return (len(label) >= 5 and "example".startswith(label)) or difflib.SequenceMatcher(None, label, "example").ratio() >= 0.8
