"""Presidio recognizers the defaults lack: secrets, ICAO 9303 MRZ, placeholder-aware email, policy-defined ones."""

from __future__ import annotations

import difflib
import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass

import phonenumbers
import regex as re
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

from gateway.models import CustomRecognizer

# ---------------------------------------------------------------------------------------------------------------
# Placeholders: values that look like secrets/PII in documentation but are not.

_PLACEHOLDER_WORDS = re.compile(
    r"exampl|sample|dummy|placeholder|your[_-]|redacted|xxxx|\*\*\*|\.\.\.|[<>{}]|\$\{|1234567890|abcdefgh",
    re.IGNORECASE,
)
_SAME_CHAR_RUN = re.compile(r"(.)\1{5,}")
_PLACEHOLDER_PASSWORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "changeme", "user", "username", "admin", "xxx", "test", "mypassword"}
)
# RFC 2606 / 6761 documentation domains and TLDs.
_DOC_DOMAINS = ("example.com", "example.org", "example.net")
_DOC_TLDS = ("example", "test", "invalid", "localhost")


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


# The rest of a quoted key that OCR broke up with spaces: chunks up to the closing quote.
_QUOTED_TAIL = r"(?:(?:[ \t]{1,2}[A-Za-z0-9/+_.-]+)+(?=[\"'“”]))?"
# A secret value as OCR reads it: 16+ key characters, possibly continued after a space OCR put at '/', '+', '-'.
_VALUE = r"[A-Za-z0-9/+_.-]{16,}(?:[ \t](?=[/+_-])[A-Za-z0-9/+_.-]+|(?<=[/+_-])[ \t][A-Za-z0-9/+_.-]+)*"
_SP = r"[ \t]?"  # a space OCR puts after a '_' / '-' separator (or reads the '_' as)
# More of a key after a space OCR put inside it: a chunk with a digit or a lower-then-upper case change (random
# text), never a plain word; ']' and '|' are OCR's 'l'.
_KEY_CONT = r"(?:[ \t](?=[^\s\"'“”]*(?:\d|[a-z][^\s\"'“”]*[A-Z]))[A-Za-z0-9_+/\]|-]{4,}(?![^\s\"'“”]))*"
# One JWT segment as OCR reads it: base64url, at most three spaces inside.
_JWT_SEG = r"[A-Za-z0-9_-]{2,}(?:[ \t][A-Za-z0-9_-]{2,}){0,3}"
# Schemes whose URLs carry database / broker credentials; OCR may space out or lose the '://'.
_DB_SCHEME = r"(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)"
_SECRET_PATTERNS: tuple[tuple[str, str, float], ...] = (
    ("aws_access_key_id", r"\b(?:AKIA|ASIA|ABIA|ACCA)(?:[ \t]?[A-Z0-9]){16}\b", 0.9),  # OCR may insert spaces
    # 40-char secret keys are only recognisable next to their name; the lookbehind keeps the span on the value.
    (
        "aws_secret_access_key",
        r"(?i)(?<=secret[_ .-]?(?:access[_ .-]?)?key[\"'\s]*[:=-]?\s*[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
        0.85,
    ),
    # Vendor prefixes as OCR reads them: '_' often comes out as a space, and a space may follow any separator.
    # 36 characters after the prefix; OCR may split them once (the length is checked in invalidate_result)
    ("github_token", r"\bgh[pousr][_ ]" + _SP + r"[A-Za-z0-9]{4,40}(?:[ \t][A-Za-z0-9]{4,40})?\b" + _QUOTED_TAIL, 0.9),
    ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{40,}\b", 0.9),
    ("gitlab_pat", r"\bglpat-" + _SP + r"[A-Za-z0-9_-]{20,}\b", 0.9),
    # xoxb-<team>-<bot>-<secret>: OCR turns some dashes into spaces; chunks with a digit or 10+ chars continue it.
    (
        "slack_token",
        r"\bxox[bpars][- ]" + _SP + r"[A-Za-z0-9-]{4,}(?:[- ]" + _SP + r"(?=[A-Za-z-]*\d|[A-Za-z0-9-]{10})[A-Za-z0-9-]{4,}){1,4}"
        + _QUOTED_TAIL,
        0.9,
    ),
    # 20+ characters after the prefix, possibly split by OCR spaces (random-looking chunks continue it)
    ("stripe_live_key", r"\b[sr]k[_ ]live[_ ]" + _SP + r"(?=(?:[ \t]?[A-Za-z0-9]){20})[A-Za-z0-9]{4,}\b" + _KEY_CONT
     + _QUOTED_TAIL, 0.9),
    ("anthropic_key", r"\bsk[- ]{0,2}ant[- _]" + _SP + r"(?:api\d\d[ \t]?[-_ ]" + _SP + r")?[A-Za-z0-9_-]{12,}" + _KEY_CONT
     + _QUOTED_TAIL, 0.9),
    (
        "openai_key",
        r"\bsk[- ](?!ant\b|ant[- _])(?:(?:proj|svcacct|admin)[ \t]?[- _]" + _SP + r")?[A-Za-z0-9_-]{20,}\b" + _KEY_CONT + _QUOTED_TAIL,
        0.85,
    ),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{30,40}\b" + _KEY_CONT + _QUOTED_TAIL, 0.85),
    # header.payload.signature; OCR may put spaces inside the segments or around the dots.
    # The dot before the payload may be lost: the payload's own 'eyJ' still marks it.
    ("jwt", r"\beyJ" + _JWT_SEG + r"(?:" + _SP + r"\." + _SP + r"|[ \t])eyJ" + _JWT_SEG + _SP + r"\." + _SP + _JWT_SEG,
     0.85),
    # A JWT whose dots OCR lost: a long base64url run starting with the JSON header '{"' (eyJ).
    ("jwt_fragment", r"\beyJ[A-Za-z0-9_-]{30,}", 0.7),
    # A whole PEM block, header to footer, whatever OCR made of the dashes and the base64 lines.
    (
        "private_key_block",
        r"-*[ \t]*BEGIN[ \t]+(?:[A-Z0-9]+[ \t]+){0,3}PRIVATE[ \t]+KEY[ \t_=~.-]*(?:\n[^\n]*){1,60}?\n[ \t_=~.-]*"
        r"END[ \t]+(?:[A-Z0-9]+[ \t]+){0,3}PRIVATE[ \t]+KEY[ \t_=~.-]*",
        0.95,
    ),
    # The same block from a blurry photo, where OCR mixed the case and misread the short words ("BeoiN ReA PRIvATE
    # Red" ... "Er0 #84 PRIVAIE KEY"): a header and a footer that both say PRIV..E still frame a key (and the
    # block must hold a base64 body, see invalidate_result).
    (
        "private_key_block_damaged",
        r"(?i:B[A-Z]{2,3}N)[ \t]+(?:\S+[ \t]+){0,3}(?i:PRIV[A-Z]{2}E)[ \t]+[A-Za-z]{2,4}[ \t_=~.-]*"
        r"(?:\n[^\n]*){1,60}?\n[ \t_=~.-]*(?i:E[A-Z0-9]{1,2})[ \t]+(?:\S+[ \t]+){0,3}(?i:PRIV[A-Z]{2}E)[ \t]+"
        r"(?i:K[A-Z]{1,2})",
        0.9,
    ),
    # The PEM header plus the base64 body lines that follow it (the body is the secret to paint over).
    (
        "private_key",
        r"-{3,}\s*BEGIN\s+(?:[A-Z0-9]+\s+){0,3}PRIVATE\s+KEY\s*-{3,}(?:\s*[A-Za-z0-9+/=]{16,})*"
        r"(?:\s*-{3,}\s*END\s+(?:[A-Z0-9]+\s+){0,3}PRIVATE\s+KEY\s*-{3,})?",
        0.95,
    ),
    # A URL with credentials is a secret as a whole (user, password and the host they open).
    ("url_password", r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@]{1,64}:[^\s:/@]{3,128}@[A-Za-z0-9][^\s\"'<>]*", 0.8),
    # The same for database URLs whose '://' or '@' OCR spaced out, lost or misread ('@1' as 'el'): scheme, user,
    # ':' and a value of 6+ characters, continued after one OCR space when the rest still looks like a host.
    (
        "db_url",
        r"\b" + _DB_SCHEME + r"[ \t]?[:;=][ \t]?/[ \t]?/?[ \t]?[^\s:/@]{1,64}(?:[ \t][^\s:/@]{1,32})?[ \t]?[:;][ \t]?[^\s\"'<>]{6,200}"
        r"(?:[ \t](?=[^\s\"'<>]*[@.:])[^\s\"'<>]{2,120})?",
        0.8,
    ),
    # ... and whose '://' OCR lost entirely ("postgres admin:pw@host"), or whose ':' before the password
    # ("postgres://admin pw@host"): then the '@' and a host must be there.
    (
        "db_url_damaged",
        r"\b" + _DB_SCHEME + r"(?:(?:[ \t]*=)?[ \t]+[^\s:/@=]{1,64}[:;][^\s@\"'<>]{2,64}(?:[ \t][^\s@\"'<>]{2,64})?"
        r"|[ \t]?[:;=][ \t]?/[ \t]?/?[ \t]?[^\s:/@]{1,64}[ \t][^\s:/@\"'<>]{3,64})@[A-Za-z0-9][^\s\"'<>]*"
        r"(?:[ \t](?=[^\s\"'<>]*[.:])[^\s\"'<>]{2,120})?",
        0.8,
    ),
    ("password_assignment", r"(?i)(?<=\b(?:password|passwd|pwd)[\"'\s]*[:=]\s*[\"']?)[^\s\"']{6,64}", 0.6),
)
# scheme://user:VALUE — what follows the user's ':' (the password, or a port when there are no credentials)
_URL_CREDENTIAL = re.compile(r"^[^:;=]+[:;=][ \t]?/[ \t]?/?[ \t]?[^\s:;/@]{1,64}(?:[ \t][^\s:;/@]{1,32})?[ \t]?[:;][ \t]?(?P<value>\S+)")


class SecretRecognizer(PatternRecognizer):
    """API keys, tokens, private keys and passwords; documentation placeholders are invalidated."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="SECRET",
            name="SecretRecognizer",
            patterns=[Pattern(name, regex, score) for name, regex, score in _SECRET_PATTERNS],
            context=["key", "token", "secret", "password", "api", "credential", "bearer", "authorization"],
            global_regex_flags=re.MULTILINE,  # case matters for key prefixes
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        if pattern_text.lower() in _PLACEHOLDER_PASSWORDS:
            return True
        gh = re.match(r"gh[pousr][_ ][ \t]?", pattern_text)
        if gh and not 30 <= sum(c.isalnum() for c in pattern_text[gh.end():]) <= 42:
            return True  # GitHub tokens have 36 characters after the prefix
        url = _URL_CREDENTIAL.match(pattern_text)
        if url:  # scheme://user:password@host — judge the password, and the host for documentation domains
            value = url.group("value")
            password = value.split("@", 1)[0]
            if re.fullmatch(r"\d{1,5}(?:/\S*)?", value) or password.lower() in _PLACEHOLDER_PASSWORDS:
                return True  # host:port, no credentials; or user:password placeholders
            return is_placeholder(value)
        if re.search(r"PRIV[A-Z]{2}E", pattern_text.upper()):  # a key block has a base64 body, prose has none
            return bool(re.search(r"example|xxxx|\.\.\.", pattern_text, re.IGNORECASE)) or not re.search(
                r"[A-Za-z0-9+/=]{16}", pattern_text)
        return is_placeholder(pattern_text)


class CredentialAssignmentRecognizer(PatternRecognizer):
    """A long random value assigned to a credential-named variable, however OCR mangled it (missing '_', '=' read
    as '-' or dropped, the value split at '/'): `SLACK_TOKEN "xoxb-..."`, `export API_KEY=...`."""

    PATTERN = (
        r"(?<=\b[A-Za-z0-9_]*(?i:key|token|secret|passw(?:or)?d|pwd|credentials?)[A-Za-z0-9_]*[\"'\]]?[ \t]*[:=-]?[ \t]*"
        r"[\"'“”]?[ \t]?)" + _VALUE + _QUOTED_TAIL + r"(?![ \t]?[A-Za-z0-9/+_.-]*(?i:exampl))"
    )

    def __init__(self) -> None:
        super().__init__(
            supported_entity="SECRET",
            name="CredentialAssignmentRecognizer",
            patterns=[Pattern("credential_assignment", self.PATTERN, 0.7)],
            global_regex_flags=re.MULTILINE,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return is_placeholder(pattern_text) or not looks_random(pattern_text)


# ---------------------------------------------------------------------------------------------------------------
# Email without documentation domains, offline TLD list

_TLD = tldextract.TLDExtract(suffix_list_urls=())  # bundled public-suffix snapshot, never the network


def public_suffix(domain: str) -> str:
    """The public suffix of a host name ("co.uk" for "mail.yahoo.co.uk"), "" when it has none."""
    return _TLD(domain).suffix


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's EmailRecognizer with an offline TLD check; example.com/.org/.net addresses are placeholders."""

    def __init__(self) -> None:
        super().__init__(name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        return _TLD(pattern_text).fqdn != ""

    def invalidate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rsplit("@", 1)[-1].lower().rstrip(".")
        if domain.rsplit(".", 1)[-1] in _DOC_TLDS:
            return True
        if any(domain == d or domain.endswith("." + d) for d in _DOC_DOMAINS):
            return True
        # OCR drops the last letters of a dot-separated word ("billing@exampl com" -> exampl.com): still a placeholder
        labels = domain.split(".")
        if len(labels) >= 2 and labels[-1] in ("com", "org", "net") and _looks_like_example(labels[-2]):
            return True
        # ... or lost its dot: "name@examplecom" (then glued to a following word)
        return any(len(x) > 7 and x[-3:] in ("com", "org", "net") and _looks_like_example(x[:-3]) for x in labels)


class NameCueRecognizer(PatternRecognizer):
    """Names the small spaCy model misses where the layout says it is a name: after a salutation ("Dear Lukas,",
    "Hi Ms Grace Becker!") and before an address in angle brackets ("Author: Sofia Okafor <sofia@...>")."""

    _NAME = r"[A-Z][a-z]{1,20}(?:[ -][A-Z][a-z]{1,20}){0,2}"

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="NameCueRecognizer",
            patterns=[
                Pattern("salutation", r"(?<=\b(?:Dear|Hi|Hello|Hey)[ \t]+(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+)?)"
                        + self._NAME + r"(?=[ \t]*[,!:])", 0.85),
                Pattern("name_before_address", self._NAME + r"(?=[ \t]*<[^<>\s]{1,64}@)", 0.8),
            ],
            global_regex_flags=re.MULTILINE,  # case-sensitive: names are capitalised
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        # "Dear Customer,", "Hi Team!", "Dear Sir or Madam": roles, not names
        return pattern_text.split()[0].lower() in _NOT_NAMES


_NOT_NAMES = frozenset("""
    customer customers team all everyone sir madam colleague colleagues friend friends there folks user users
    member members client clients partner partners applicant candidate support admin hiring manager recipient
    valued guest guests sales billing
""".split())


class InternationalPhoneRecognizer(PatternRecognizer):
    """A number in international format (+CC and 8-15 digits in groups) that phonenumbers rejects, typically because
    OCR lost a digit ("+33 6 66 93 50 27" read as "+33 66 93 50 27"): still a phone number to redact, lower score."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            name="InternationalPhoneRecognizer",
            patterns=[Pattern("international_phone", r"(?<![\w+])\+\d{1,3}(?:[ \t.-]?\(?\d{1,5}\)?){1,6}(?![\w])", 0.6)],
        )

    def validate_result(self, pattern_text: str) -> bool:
        return 8 <= sum(c.isdigit() for c in pattern_text) <= 15


class LinePhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer, same regions, same leniency, same results, run line by line with a cache.

    python-phonenumbers' matcher never matches across a line break, and a line with fewer than 4 digits holds no
    valid number (the shortest in its regions, German, has 4). OCR text repeats lines: the digit-normalised and the
    repaired passes re-read most lines of the page, and phonenumbers parses every candidate once per region (it was
    ~40% of the analyze stage)."""

    MIN_DIGITS = 4
    CACHE_LINES = 4096

    def __init__(self) -> None:
        super().__init__(name="PhoneRecognizer")
        self._lines: OrderedDict[str, tuple[tuple[int, int, str], ...]] = OrderedDict()

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        results = []
        offset = 0
        for line in text.split("\n"):
            if sum(c.isdecimal() for c in line) >= self.MIN_DIGITS:
                for start, end, region in self._numbers(line):
                    results.append(self._get_recognizer_result(_Span(offset + start, offset + end), text, region,
                                                               nlp_artifacts))
            offset += len(line) + 1
        return EntityRecognizer.remove_duplicates(results)

    def _numbers(self, line: str) -> tuple[tuple[int, int, str], ...]:
        """(start, end, region) of the phone numbers in one line, as PhoneRecognizer.analyze finds them."""
        if line in self._lines:
            self._lines.move_to_end(line)
            return self._lines[line]
        found = []
        for region in self.supported_regions:
            for match in phonenumbers.PhoneNumberMatcher(line, region, leniency=self.leniency):
                try:
                    number = phonenumbers.parse(line[match.start : match.end])
                    found.append((match.start, match.end, phonenumbers.region_code_for_number(number)))
                except phonenumbers.NumberParseException:
                    found.append((match.start, match.end, region))
        self._lines[line] = numbers = tuple(found)
        if len(self._lines) > self.CACHE_LINES:
            self._lines.popitem(last=False)
        return numbers


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


class DotlessEmailRecognizer(PatternRecognizer):
    """An email whose last dot OCR dropped ("jo@contoso-healthorg", "x@tradersCom"): a domain without any dot that
    ends in a common top-level domain. Lower score than a well-formed address."""

    TLDS = ("com", "org", "net", "edu", "gov", "io", "de", "fr", "uk", "nl", "ch", "me", "info")

    def __init__(self) -> None:
        tlds = "|".join(self.TLDS)
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="DotlessEmailRecognizer",
            patterns=[Pattern("dotless_email", rf"\b[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]{{3,}}(?i:{tlds})\b(?![.@])", 0.6)],
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rsplit("@", 1)[-1].lower()
        return _looks_like_example(domain[:7]) or domain.startswith(("localhost", "example"))


class LostAtEmailRecognizer(PatternRecognizer):
    """An email whose '@' OCR read as a letter: at a big webmail provider ("erikssoncoutlook com"), or inside the
    angle brackets after a name, as mail headers and git logs write it ("Ahmed <ahmeddcontoso-health.org>").
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
                Pattern("webmail_lost_at", rf"\b[A-Za-z0-9][A-Za-z0-9._%+-]*[cda@](?:{providers})[ \t]?[.,]?[ \t]?"
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


# ---------------------------------------------------------------------------------------------------------------
# Dates of birth: a date next to "DOB" / "date of birth" / "born", or the birth date a verified MRZ states

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_SEP = r"[ \t]?[/.\-_,][ \t]?"
_DATE = re.compile(
    rf"(?<![\w/.-])(?:(?P<a>\d{{1,2}}){_SEP}(?P<b>\d{{1,2}}){_SEP}(?P<y1>\d{{4}}|\d{{2}})"
    rf"|(?P<y2>(?:19|20)\d{{2}}){_SEP}(?P<m2>\d{{1,2}}){_SEP}(?P<d2>\d{{1,2}})"
    rf"|(?P<mon3>{_MON})[ \t]+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<y3>\d{{4}})"
    rf"|(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?[ \t.-]*(?P<mon4>{_MON})[ \t.,-]*(?P<y4>\d{{4}}))(?![\w/-])",
    re.IGNORECASE,
)
_DOB_CONTEXT = re.compile(
    r"\b(?:d\.?\s?o\.?\s?b|date\s+of\s+birth|birth\s?date|birthday|born|geburtsdatum|date\s+de\s+naissance|"
    r"fecha\s+de\s+nacimiento|data\s+di\s+nascita)\b",
    re.IGNORECASE,
)
DOB_CONTEXT_CHARS = 48  # how far before a date its label may be (the label may sit in the previous column/line)


def find_dates(text: str) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Calendar dates in text as (start, end, (year, month, day)); ambiguous d/m order gives the first valid
    reading (month/day when both fit); 2-digit years are 19xx/20xx. Impossible dates are skipped."""
    out = []
    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["a"]:
            a, b, y = int(g["a"]), int(g["b"]), int(g["y1"])
            if len(g["y1"]) == 2:
                y += 1900 if y > 30 else 2000
            candidates = [(y, a, b), (y, b, a)]
        elif g["y2"]:
            candidates = [(int(g["y2"]), int(g["m2"]), int(g["d2"]))]
        else:
            mon, d, y = (g["mon3"], g["d3"], g["y3"]) if g["mon3"] else (g["mon4"], g["d4"], g["y4"])
            month = _MONTHS.index(mon[:3].lower()) + 1
            candidates = [(int(y), month, int(d))]
        for y, mo, d in candidates:
            if 1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
                out.append((m.start(), m.end(), (y, mo, d)))
                break
    return out


class DateOfBirthRecognizer(EntityRecognizer):
    """DATE_OF_BIRTH: a date (numeric, ISO, or with a month name) shortly after a date-of-birth label."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["DATE_OF_BIRTH"], name="DateOfBirthRecognizer", supported_language="en")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:  # noqa: D102
        results = []
        for start, end, _ in find_dates(text):
            before = text[max(0, start - DOB_CONTEXT_CHARS) : start]
            labels = list(_DOB_CONTEXT.finditer(before))
            # The nearest label must belong to this date, not to another date in between.
            if labels and not find_dates(before[labels[-1].end() :]):
                results.append(RecognizerResult("DATE_OF_BIRTH", start, end, 0.85))
        return results

# ---------------------------------------------------------------------------------------------------------------
# ICAO 9303 machine readable zone

_CHAR_VALUE = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}
_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2",
                           "S": "5", "G": "6", "B": "8", "<": "0"})
_TO_DIGIT_NOT_FILLER = str.maketrans({k: v for k, v in zip("OQDUILTZSGB", "00001112568")})
_TO_ALPHA = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"})
# What OCR makes of the '<' filler: K, «, brackets; runs of fillers also lose their spaces.
_FILLER_LOOKALIKES = "<«‹(「[{kK"


def mrz_check_digit(field: str) -> int:
    """ICAO 9303 check digit: weights 7,3,1 over digit/letter(10-35)/'<'(0) values, mod 10."""
    return sum(_CHAR_VALUE.get(c, 0) * (7, 3, 1)[i % 3] for i, c in enumerate(field)) % 10


# The same, reading Z and T as 7 (a 7 in OCR-B comes out as either); tried when the first reading fails its checks.
_TO_DIGIT_SEVEN = str.maketrans({**{chr(k): v for k, v in _TO_DIGIT.items()}, "Z": "7", "T": "7"})


_MRZ_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"


def _digits(s: str) -> str:
    return s.translate(_TO_DIGIT)


def _variants(field: str) -> list[str]:
    """The field as read, with O/Q/D read for 0, and with every digit look-alike fixed (OCR confusions)."""
    out = [field, field.translate(str.maketrans("OQD", "000"))]
    core = field.strip("<")
    if core and sum(c.isdigit() for c in core) >= len(core) - 2:
        out.append(field.translate(_TO_DIGIT_NOT_FILLER))
    return list(dict.fromkeys(out))


def _check(field: str, digit: str) -> bool:
    d = _digits(digit)
    return d.isdigit() and any(mrz_check_digit(v) == int(d) for v in _variants(field))


# Letter/digit pairs OCR swaps in alphanumeric fields (document numbers): each character's other readings.
_AMBIGUOUS = {"O": "0", "0": "O", "Q": "0", "D": "0", "S": "5", "5": "S", "Z": "27", "2": "Z", "7": "Z",
              "B": "8", "8": "B", "I": "1", "1": "I", "L": "1", "A": "4", "4": "A", "G": "6", "6": "G"}
MAX_DOC_VARIANTS = 512  # about 2^8 ambiguous characters (some have 3 readings); beyond that, no search


def _doc_variants(field: str) -> list[str]:
    """The document number as read, then every reading with look-alike letters/digits swapped (O/0, S/5, Z/2/7,
    B/8, I/1, A/4, G/6), in order of fewest changes; just the simple variants when there are too many."""
    options = [c + _AMBIGUOUS.get(c, "") for c in field]
    if math.prod(len(o) for o in options) > MAX_DOC_VARIANTS:
        return _variants(field)
    combos = sorted(itertools.product(*(range(len(o)) for o in options)), key=lambda ix: sum(i > 0 for i in ix))
    return ["".join(o[i] for o, i in zip(options, ix)) for ix in combos]


_DATES_RUN = re.compile(r"[0-9OIS]{7}[MFX<][0-9OIS]{7}")


class _Line:
    """One cleaned text line: uppercase [A-Z0-9<] characters with their offsets in the analysed text."""

    def __init__(self, raw: str, start: int) -> None:
        chars: list[str] = []
        offsets: list[int] = []
        for i, c in enumerate(raw):
            if c.isspace():
                continue
            if c == "«":
                chars += ["<", "<"]
                offsets += [start + i, start + i]
                continue
            u = c.upper()
            if u in _FILLER_LOOKALIKES and u != "K":
                u = "<"
            if not ("A" <= u <= "Z" or "0" <= u <= "9" or u == "<"):
                u = "<"
            chars.append(u)
            offsets.append(start + i)
        self.text = "".join(chars)
        self.filled = _fill_k(self.text)
        self.offsets = offsets
        self.start = start
        self.end = start + len(raw.rstrip())

    def span(self, i: int, j: int) -> tuple[int, int] | None:
        """Offsets in the analysed text of cleaned characters [i, j), fillers at both ends trimmed."""
        j = min(j, len(self.text))
        while i < j and self.filled[i] == "<":
            i += 1
        while j > i and self.filled[j - 1] == "<":
            j -= 1
        if i >= j:
            return None
        return self.offsets[i], self.offsets[j - 1] + 1

    def looks_like_mrz(self) -> bool:
        t = self.text
        # Filler runs, or the birth date/sex/expiry run of a check-digit line (when OCR dropped the fillers).
        return 24 <= len(t) <= 52 and (t.count("<") >= 2 or "KK" in t or bool(_DATES_RUN.search(t)))


def _fill_k(s: str) -> str:
    """Runs of 2+ K and K next to '<' are fillers OCR misread (a real name rarely has KK)."""
    s = re.sub(r"K{2,}", lambda m: "<" * len(m.group()), s)
    return re.sub(r"(?<=<)K|K(?=<)", "<", s)


def _fit(s: str, n: int, tail: int = 0) -> str:
    """Make a line exactly n characters: OCR miscounts and drops '<' runs. Fillers sit at the end of a field, so
    the line's last `tail` characters (check digits) stay at the end and the text before them is padded or trimmed."""
    if len(s) == n:
        return s
    head, end = (s[:-tail], s[-tail:]) if tail else (s, "")
    want = n - tail
    if len(head) < want:
        return head + "<" * (want - len(head)) + end
    extra = len(head) - want
    if set(head[want:]) <= {"<"}:
        return head[:want] + end
    runs = sorted(re.finditer(r"<{2,}", head), key=lambda m: -len(m.group()))
    if runs and len(runs[0].group()) > extra:
        m = runs[0]
        return head[: m.start()] + "<" * (len(m.group()) - extra) + head[m.end() :] + end
    return s


class MrzRecognizer(EntityRecognizer):
    """ICAO 9303 TD1/TD2/TD3 zones with verified check digits; also the document number, name and birth date."""

    ENTITIES = ["MRZ", "US_PASSPORT", "ID_DOCUMENT_NUMBER", "PERSON", "DATE_OF_BIRTH"]

    def __init__(self) -> None:
        super().__init__(supported_entities=self.ENTITIES, name="MrzRecognizer", supported_language="en")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:  # noqa: D102
        lines: list[_Line] = []
        pos = 0
        for raw in text.split("\n"):
            lines.append(_Line(raw, pos))
            pos += len(raw) + 1
        results: list[RecognizerResult] = []
        used: set[int] = set()
        printed: frozenset[str] | None = None
        for i in range(len(lines)):
            if i in used or not lines[i].looks_like_mrz():
                continue
            for kind, n_lines in (("TD1", 3), ("TD3", 2), ("TD2", 2)):
                group = lines[i : i + n_lines]
                if len(group) < n_lines or not all(g.looks_like_mrz() for g in group):
                    continue
                if printed is None:  # the page's words, once per text, only when a zone is tried
                    printed = _printed_tokens(text)
                parsed = self._parse(kind, group, printed)
                if parsed:
                    found, facts = parsed
                    found += _visual_zone(text, facts, (group[0].start, group[-1].end))
                    results.extend(r for r in found if r.entity_type in entities or not entities)
                    used.update(range(i, i + n_lines))
                    break
        return results

    def _parse(self, kind: str, group: list[_Line], printed: frozenset[str] = frozenset()
               ) -> tuple[list[RecognizerResult], _MrzFacts] | None:
        width = _LAYOUT[kind][0]
        tails = {"TD3": (0, 2), "TD2": (0, 1), "TD1": (0, 1, 0)}[kind]
        raw = [_fit(g.filled, width, t) for g, t in zip(group, tails)]
        if all(len(t) == width for t in raw):
            parsed = self._read(kind, group, raw, printed=printed)
            if parsed:
                return parsed
        # OCR dropped one character of the document number (the dates then sit one place early): try it at each
        # position of the field, as an unknown character the check digits decide.
        doc_line, first = (0, 5) if kind == "TD1" else (1, 0)
        line = group[doc_line].filled
        if len(line) == width - 1:
            for gap in range(first, first + 10):
                trial = list(raw)
                trial[doc_line] = line[:gap] + "?" + line[gap:]
                if all(len(t) == width for t in trial):
                    parsed = self._read(kind, group, trial, (doc_line, gap, 1))
                    if parsed:
                        return parsed
        # OCR read the sex 'M', the one wide letter among the dates, as two or three characters ('14', '141'): the
        # dates line is one or two too long. Dropping the extra ones there lets the check digits decide (only there:
        # cutting anywhere would let a zone pass by chance). Every cut leaves the dates where they are.
        sex = 7 if kind == "TD1" else 20
        line = group[1].filled
        extra = len(line) - width
        for cut in range(sex, sex + 2) if extra in (1, 2) else ():
            trial = list(raw)
            trial[1] = _fit(line[:cut] + line[cut + extra :], width, tails[1])
            parsed = self._read(kind, group, trial, (1, cut, -extra), printed) if len(trial[1]) == width else None
            if parsed:
                return parsed
        return None

    def _read(self, kind: str, group: list[_Line], raw: list[str], edit: tuple[int, int, int] | None = None,
              printed: frozenset[str] = frozenset()):
        """Verify the zone with each digit reading of the look-alike letters. `edit` (line, position, +1/-n) is an
        unknown inserted into / n characters dropped from that OCR line; `printed` the words of the page (the
        document number printed in the visual zone)."""
        _, digit_pos, alpha_pos = _LAYOUT[kind]
        for to_digit in (_TO_DIGIT, _TO_DIGIT_SEVEN):
            # Per position, undo the OCR confusions that position cannot hold (O in a date, 0 in a country code).
            texts = [
                "".join(
                    c.translate(to_digit) if (li, ci) in digit_pos else c.translate(_TO_ALPHA) if (li, ci) in alpha_pos
                    else c
                    for ci, c in enumerate(t)
                )
                for li, t in enumerate(raw)
            ]
            parsed = self._verify(kind, group, texts, raw, edit, printed)
            if parsed:
                return parsed
        return None

    def _verify(self, kind: str, group: list[_Line], texts: list[str], raw: list[str],
                edit: tuple[int, int, int] | None = None, printed: frozenset[str] = frozenset(),
                ) -> tuple[list[RecognizerResult], _MrzFacts] | None:
        width = _LAYOUT[kind][0]
        if kind == "TD1":
            l1, l2, _ = texts
            doc, doc_cd, dob, dob_cd, exp, exp_cd = l1[5:14], l1[14], l2[0:6], l2[6], l2[8:14], l2[14]
            composite, comp_cd = (l1[5:30], l2[0:7], l2[8:15], l2[18:29]), l2[29]
            doc_span, dob_span, name_span = (0, 5, 14), (1, 0, 6), (2, 0)
        else:
            l1, l2 = texts
            doc, doc_cd, dob, dob_cd, exp, exp_cd = l2[0:9], l2[9], l2[13:19], l2[19], l2[21:27], l2[27]
            composite, comp_cd = (l2[0:10], l2[13:20], l2[21 : width - 1]), l2[width - 1]
            doc_span, dob_span, name_span = (1, 0, 9), (1, 13, 19), (0, 5)
        doc_type, issuer = l1[0], l1[2:5]
        if doc_type not in ("ACIV" if kind == "TD1" else "PACIV"):
            return None
        if not (dob.isdigit() and exp.isdigit() and _check(dob, dob_cd) and _check(exp, exp_cd)):
            return None
        # The composite digit covers the document number and its check digit as well. When OCR read that check
        # digit as a letter (or lost it), the composite decides which digit it was (dates and composite verified).
        after_doc = "".join(composite)[10:]
        raw_cd = raw[doc_span[0]][doc_span[2] : doc_span[2] + 1]
        cds = [doc_cd] if raw_cd.isdigit() or raw_cd == "<" else [doc_cd] + [d for d in "0123456789" if d != doc_cd]
        if "?" in doc:  # the lost character: any; the two check digits decide (plain readings only, bounded)
            docs = [v for c in _MRZ_CHARS for v in _variants(doc.replace("?", c)) for cd in cds
                    if _check(v, cd) and _check(v + cd + after_doc, comp_cd)]
        else:
            # The number printed in the visual zone is a reading too, when it is the MRZ's with at most two
            # characters misread there (a 9 read as I is no look-alike swap); the check digits still decide.
            seen = [p.ljust(len(doc), "<") for p in printed
                    if len(p) == len(doc.rstrip("<")) and sum(a != b for a, b in zip(p, doc)) <= 2]
            # After a dropped character only the simple readings: one repair at a time, or chance passes add up.
            readings = _variants(doc) if edit and edit[2] < 0 else _doc_variants(doc)
            docs = [v for cd in cds if cd != "?" for v in readings + seen
                    if _check(v, cd) and _check(v + cd + after_doc, comp_cd)]
        if not docs:
            return None

        def span(li: int, a: int, b: int) -> tuple[int, int] | None:
            if edit and edit[0] == li:  # indices of the edited line -> indices of the OCR line
                at, n = edit[1], edit[2]
                a, b = (a - (a > at), b - (b > at)) if n > 0 else (a - n * (a >= at), b - n * (b > at))
            return group[li].span(a, b)

        out = [RecognizerResult("MRZ", group[0].start, group[-1].end, 1.0)]
        doc_entity = "US_PASSPORT" if doc_type == "P" and issuer == "USA" else "ID_DOCUMENT_NUMBER"
        for entity, (li, a, b) in ((doc_entity, doc_span), ("DATE_OF_BIRTH", dob_span)):
            found = span(li, a, b)
            if found:
                out.append(RecognizerResult(entity, found[0], found[1], 1.0))
        li, a = name_span
        name = span(li, a, len(texts[li]))
        if name:
            out.append(RecognizerResult("PERSON", name[0], name[1], 0.9))
        names = [n for n in re.split(r"<+", texts[li][a:]) if len(n) >= 2]
        return out, _MrzFacts(doc_entity, docs[0].strip("<"), dob, tuple(names))


def _printed_tokens(text: str) -> frozenset[str]:
    """Upper-case letter/digit words of 5-9 characters outside MRZ lines: candidate printed document numbers."""
    return frozenset(t for t in re.findall(r"(?<![A-Z0-9<])[A-Z0-9]{5,9}(?![A-Z0-9<])", text)
                     if any(c.isdigit() for c in t))


@dataclass(frozen=True)
class _MrzFacts:
    """What a verified MRZ states, to find the same values printed in the visual zone."""

    doc_entity: str
    doc_number: str
    dob: str  # YYMMDD
    names: tuple[str, ...]


# Letters and digits OCR confuses, mapped to one representative so a printed number compares with the MRZ's.
_CANON = str.maketrans("OQDILTZSGB", "0001112568")


def _visual_zone(text: str, facts: _MrzFacts, mrz_span: tuple[int, int]) -> list[RecognizerResult]:
    """The MRZ's birth date, document number and names where the document prints them in readable form."""
    out = []

    def outside(a: int, b: int) -> bool:
        return b <= mrz_span[0] or a >= mrz_span[1]

    for start, end, (y, m, d) in find_dates(text):
        if outside(start, end) and f"{y % 100:02d}{m:02d}{d:02d}" == facts.dob:
            out.append(RecognizerResult("DATE_OF_BIRTH", start, end, 0.95))
    doc = facts.doc_number.upper().translate(_CANON)
    names = {n.upper() for n in facts.names}
    for tok in re.finditer(r"[A-Za-z0-9<]+", text):
        if not outside(tok.start(), tok.end()):
            continue
        value = tok.group().upper()
        if len(doc) >= 6 and value.translate(_CANON) == doc:
            out.append(RecognizerResult(facts.doc_entity, tok.start(), tok.end(), 0.95))
        elif value in names:
            out.append(RecognizerResult("PERSON", tok.start(), tok.end(), 0.9))
    return out


# (width, positions holding digits, positions holding letters) as (line, column), ICAO 9303 parts 4-6.
_LAYOUT: dict[str, tuple[int, frozenset, frozenset]] = {
    "TD3": (44, frozenset({(1, 9), *((1, i) for i in range(13, 20)), *((1, i) for i in range(21, 28)), (1, 43)}),
            frozenset({(0, 0), *((0, i) for i in range(2, 5)), *((1, i) for i in range(10, 13)), (1, 20)})),
    "TD2": (36, frozenset({(1, 9), *((1, i) for i in range(13, 20)), *((1, i) for i in range(21, 28)), (1, 35)}),
            frozenset({(0, 0), *((0, i) for i in range(2, 5)), *((1, i) for i in range(10, 13)), (1, 20)})),
    "TD1": (30, frozenset({(0, 14), *((1, i) for i in range(0, 7)), *((1, i) for i in range(8, 15)), (1, 29)}),
            frozenset({(0, 0), *((0, i) for i in range(2, 5)), (1, 7), *((1, i) for i in range(15, 18))})),
}


# ---------------------------------------------------------------------------------------------------------------
# Policy-defined recognizers


def build_custom(spec: CustomRecognizer) -> PatternRecognizer:
    """A CustomRecognizer spec as a Presidio PatternRecognizer; bad regexes fail here, at policy load."""
    patterns = []
    for i, (regex, score) in enumerate(spec.patterns):
        try:
            re.compile(regex)
        except re.error as e:
            raise ValueError(f"recognizer {spec.name!r}: invalid regex {regex!r}: {e}") from e
        patterns.append(Pattern(name=f"{spec.name}_{i}", regex=regex, score=float(score)))
    if not patterns and not spec.deny_list:
        raise ValueError(f"recognizer {spec.name!r}: needs patterns or a deny_list")
    return PatternRecognizer(
        supported_entity=spec.entity,
        name=spec.name,
        patterns=patterns,
        deny_list=list(spec.deny_list) or None,
        deny_list_score=spec.deny_list_score,
        context=list(spec.context) or None,
    )
