"""Names where the page says they are names: after a salutation, before an address in angle brackets, after a name
field's label, spelled by the page's own e-mail addresses."""

from __future__ import annotations

import regex as re
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)

from gateway.inspection.names import NOT_NAME_WORDS, ORG_SUFFIXES, is_common_word
from gateway.inspection.recognizers.common import LABEL_SEP, VALUE_END


class NameCueRecognizer(PatternRecognizer):
    """Names the small spaCy model misses where the layout says it is a name: after a salutation ("Dear Lukas,",
    "Hi Ms Grace Becker!") and before an address in angle brackets ("Author: Sofia Okafor <sofia@...>")."""

    _NAME = r"[A-Z](?:[a-z]{1,20}|[A-Z]{1,20})(?:[ -][A-Z](?:[a-z]{1,20}|[A-Z]{1,20})){0,2}"  # "Lukas", "MIRELA DELACROIX"

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="NameCueRecognizer",
            patterns=[
                Pattern("salutation", r"(?<=\b(?:Dear|Hi|Hello|Hey)[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+)?)"
                        + self._NAME + r"(?=[ \t]*[,!:])", 0.85),
                Pattern("name_before_address", r"(?=[A-Z][a-z]{2})" + self._NAME
                        + rf"(?=[ \t]*<(?!(?i:{_ROLE_ACCOUNTS})@)[^<>\s]{{1,64}}@)", 0.8),
            ],
            global_regex_flags=re.MULTILINE,  # case-sensitive: names are capitalised
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        # "Dear Customer,", "Hi Team!", "Dear Sir or Madam": roles, not names
        return pattern_text.split()[0].lower() in _NOT_NAMES


# Mailboxes of a role or a machine, not a person: the display name before them is no person's name either.
_ROLE_ACCOUNTS = ("ci|cd|build|builds|bot|jenkins|github|gitlab|noreply|no-reply|do-not-reply|donotreply|"
                  "notifications?|alerts?|support|help|info|team|admin|billing|sales|hello|contact|news|"
                  "newsletter|mailer-daemon|postmaster|security|hr|jobs|careers")

_NOT_NAMES = frozenset("""
    customer customers team all everyone sir madam colleague colleagues friend friends there folks user users
    member members client clients partner partners applicant candidate support admin hiring manager recipient
    valued guest guests sales billing
""".split())


# Labels of fields whose value is a person's name (forms, ID cards in several languages, table headers, JSON keys).
# A strong label names a person whatever the value looks like ("Surname: PETROVA", "First name | Adrian"); a bare
# "Name" also heads file, product and project names, so its value must be two or three capitalised words.
STRONG_NAME_LABEL = (
    r"(?:(?:first|last|given|family|middle|maiden|full|legal|birth|christian|contact|customer|client|patient|employee|"
    r"account[ ]?holder|card[ ]?holder|holder|passenger|applicant|student|member|beneficiary|payee|spouse|"
    r"father|mother|guardian|parent|emergency[ ]contact)(?:'?s)?[ _-]?names?|firstname|lastname|surnames?|forenames?|"
    r"pr[ée]noms?|nom[ ]de[ ]famille|nachname|vornamen?|familienname|geburtsname|apellidos?|cognome|"
    r"achternaam|voorna(?:a)?m(?:en)?|nazwisko|imi[ęe]|imiona|efternamn|f[öo]rnamn|etternavn|fornavn|sukunimi|"
    r"etunimet|patient)"
)
# What a bare "Name" names when a word before it says so: a file, a host, a product.
_NOT_PERSON_NAME = (
    r"file|host|product|project|company|business|brand|item|app|application|service|device|domain|server|network|"
    r"user|team|group|org|organi[sz]ation|street|city|country|package|module|class|function|method|variable|key|"
    r"bucket|database|db|table|column|field|branch|repo|repository|model|trade|event|course|store|shop|site|job|"
    r"task|queue|topic|image|container|pod|cluster|node|role|plan|bank|ship|vessel|hotel|venue|school|university|"
    r"department|folder|document|sheet|tab|font|theme|layer|profile|network|wifi|printer|scanner|display"
)
# Who a person is on a form, a card or a letter: the value after it is a name when it is shaped like one.
_ROLE_LABEL = (r"account[ ]?holder|card[ ]?holder|policy[ ]?holder|holder|employee|passenger|applicant|beneficiary|"
               r"payee|insured|signed(?:[ ]by)?|signature|attn|attention")
BARE_NAME_LABEL = rf"(?:(?<!(?:{_NOT_PERSON_NAME})[ _-]?)(?:names?|nom|nome|nombre|naam)|{_ROLE_LABEL})"
_WORD_STRONG = r"[A-Z\xC0-\xDE][A-Za-z\xC0-\xFF'’-]{1,24}"
_WORD_TITLE = (r"[A-Z\xC0-\xDE](?:[a-z]{0,2}['’]?[A-Z])?[a-z\xDF-\xFF'’]{1,20}"  # "O'Brien", "McDonald" too
               r"(?:-[A-Z\xC0-\xDE][a-z\xDF-\xFF]{1,20})?")
_WORD_CAPS = r"[A-Z\xC0-\xDE][A-Z\xC0-\xDE'’]{1,20}(?:-[A-Z\xC0-\xDE]{2,20})?"
_INITIAL = r"[A-Z]\.[ ]"
# A name value: strong, one to four words (upper or title case, "DOE, JANE" and DICOM's "DOE^JANE" too); bare, two
# or three words as forms print them: title case with a middle initial or not, "Last, First", capitals, or the
# surname in capitals first ("FONTAINE Radu").
STRONG_NAME_VALUE = rf"{_WORD_STRONG}(?:(?:[ ]|,[ ]?|\^)(?:{_INITIAL})?{_WORD_STRONG}){{0,3}}"
BARE_NAME_VALUE = (rf"(?:{_WORD_TITLE}(?:[ ](?:{_INITIAL})?{_WORD_TITLE}){{1,2}}|{_WORD_TITLE},[ ]{_WORD_TITLE}|"
                   rf"{_WORD_CAPS}(?:[ ](?:{_INITIAL})?{_WORD_CAPS}){{1,2}}|{_WORD_CAPS},[ ]{_WORD_CAPS}|"
                   rf"{_WORD_CAPS}[ ]{_WORD_TITLE}(?:[ ]{_WORD_TITLE})?)")
_ANY_LABEL = rf"(?:{STRONG_NAME_LABEL}|{BARE_NAME_LABEL})"
# Labels in two languages ("Surname / Nom"): strong when one of them is.
_STRONG_LABELS = rf"(?:{_ANY_LABEL}[ ]?[/|][ ]?)*{STRONG_NAME_LABEL}(?:[ ]?[/|][ ]?{_ANY_LABEL})*"


class LabelledNameRecognizer(PatternRecognizer):
    """The value after a name field's label on its line: `Name: Leanne Graham`, `"name": "Leanne Graham"`,
    `Surname<tab>PETROVA`, `PATIENT: DOE^JANE`. Values under their label are layout's (gateway.inspection.fields)."""

    # Above spaCy's 0.85: of two results on one span Presidio keeps one, and an all-caps NER name is dropped later.
    SCORE = 0.9

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="LabelledNameRecognizer",
            patterns=[
                Pattern("strong_label", rf"(?<=(?i:\b{_STRONG_LABELS}){LABEL_SEP}){STRONG_NAME_VALUE}{VALUE_END}",
                        self.SCORE),
                Pattern("bare_label", rf"(?<=(?i:(?<![\w-]){BARE_NAME_LABEL}){LABEL_SEP}){BARE_NAME_VALUE}{VALUE_END}",
                        self.SCORE),
            ],
            global_regex_flags=re.MULTILINE,  # case-sensitive values: names are capitalised
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return not is_name_value(pattern_text)


class SpacedLabelNameRecognizer(PatternRecognizer):
    """A person's label and a name-shaped value with only a space between (the colon or column gap lost at a small
    size: `Full name Siobhan Moreau`, `Signed  Priya Moreau`). Without the separator a title reads the same
    (`Employee Onboarding Form`), so no word of the value may be a common English word."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="SpacedLabelNameRecognizer",
            patterns=[Pattern("spaced_label", rf"(?<=(?i:\b(?:{STRONG_NAME_LABEL}|{_ROLE_LABEL}))[ ]{{1,3}})"
                              rf"{BARE_NAME_VALUE}{VALUE_END}", LabelledNameRecognizer.SCORE)],
            global_regex_flags=re.MULTILINE,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        words = [w.strip("'’-.") for w in re.split(r"[ ,]+", pattern_text) if len(w.strip("'’-.")) > 1]
        return not is_name_value(pattern_text) or any(is_common_word(w) for w in words)


def is_name_value(value: str) -> bool:
    """False when a word of `value` is a UI, code or letter word, a company suffix or a role: `Name: Build Status`,
    `First name<tab>Last name`, `Customer: Globex Corp`."""
    words = [w.lower().strip("'’-.") for w in re.split(r"[ ,^]+", value) if w]
    return (bool(words) and not any(w in NOT_NAME_WORDS or w in ORG_SUFFIXES or w in _NOT_NAMES for w in words)
            and not all(is_common_word(w) for w in words if len(w) > 1))


class EmailNameRecognizer(EntityRecognizer):
    """Capitalised names that the page's own e-mail addresses spell: `Anna Okafor` beside `anna_okafor@...` or
    `aokafor@...`. People's addresses are built from their names, so a word pair whose first or last word is a
    part of a local part (split at `.`, `_`, `-`, `+` and digits; or that part without its first letter, an
    initial) is a name, whatever its language. Role mailboxes (`support@`, `billing@`) name nobody."""

    _EMAIL = re.compile(r"([A-Za-z0-9._%+-]{1,64})@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
    _WORD = r"[A-Z][a-z]{1,20}(?:[-'][A-Z][a-z]{1,20})?"
    _CANDIDATE = re.compile(rf"(?<![\w@.]){_WORD}(?: {_WORD}){{1,2}}(?![\w@])")
    SCORE = 0.7

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="EmailNameRecognizer", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        parts = self._local_parts(text)
        if not parts:
            return []
        out = []
        for m in self._CANDIDATE.finditer(text):
            words = [w.lower() for w in m.group().split()]
            if words[0] in _NOT_NAMES or words[-1] in _NOT_NAMES:
                continue
            if words[0] in parts or words[-1] in parts:
                out.append(RecognizerResult("PERSON", m.start(), m.end(), self.SCORE,
                                            analysis_explanation=AnalysisExplanation(
                                                self.name, self.SCORE, textual_explanation="spelled by an e-mail")))
        return out

    def _local_parts(self, text: str) -> frozenset[str]:
        parts: set[str] = set()
        for m in self._EMAIL.finditer(text):
            for piece in re.split(r"[._%+\-\d]+", m.group(1).lower()):
                if len(piece) >= 3 and piece not in _ROLE_MAILBOXES:
                    parts.add(piece)
                    if len(piece) >= 5:
                        parts.add(piece[1:])  # "aokafor": an initial and the surname
        return frozenset(parts)


_ROLE_MAILBOXES = frozenset("""
    info admin support sales billing noreply reply hello contact office team help service services jobs careers hr
    news newsletter mail email marketing press media accounts accounting finance invoices invoice orders order shop
    security abuse postmaster webmaster root user users test demo dev ops devops it legal privacy compliance
    notifications notification alerts alert updates account payments payment booking bookings reservations work
""".split())
