"""OCR text repair before the recognizers: digit look-alikes in digit runs and IBAN heads, e-mails, IPs and
environment names broken by the reader."""

from __future__ import annotations

import regex as re

from presidio_analyzer.predefined_recognizers.generic.iban_patterns import regex_per_country

from gateway.inspection.recognizers import public_suffix

# Letters OCR reads instead of digits; one character for one so offsets stay identical.
_DIGIT_CONFUSIONS = str.maketrans({"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                                   "!": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"})
_TOKEN = re.compile(r"\S+")


# An IBAN's check digits as OCR reads them ("DE8O", "DELL", "GBO3", "DES1"), before 4-character groups.
_IBAN_HEAD = re.compile(r"\b([A-Z]{2})([0-9OoQDIlL|!SsBZz]{2})(?=[ \t]?(?:[0-9A-Z]{4}[ \t]?){2,})")
_IBAN_CHECK_CONFUSIONS = str.maketrans({**{chr(k): v for k, v in _DIGIT_CONFUSIONS.items()}, "L": "1"})
# ... and its country code with a look-alike for a letter ("N009 4051 7549 778", "ND48 ..." are Norway's NO): made a
# country's code again where it is none; the IBAN's checksum still decides.
_IBAN_COUNTRY = re.compile(r"\b([A-Z][0158DQ]|[0158DQ][A-Z])(?=[0-9]{2}[ \t]?(?:[0-9A-Z]{4}[ \t]?){2,})")
_LETTER_CONFUSIONS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "D": "O", "Q": "O"})
_IBAN_COUNTRIES = frozenset(regex_per_country)


def normalize_digits(text: str) -> str:
    """Fix digit look-alikes inside mostly-digit tokens (e.g. '4111-1l11' -> '4111-1111') and in IBAN check
    digits ('DE8O 3428 ...'), and letter look-alikes in IBAN country codes ('N009 ...'); length is preserved."""
    def fix(m: re.Match) -> str:
        tok = m.group()
        digits = sum(c.isdigit() for c in tok)
        letters = sum(c.isalpha() or c in "|!" for c in tok)
        if digits >= 3 and digits >= 2 * letters:
            return tok.translate(_DIGIT_CONFUSIONS)
        return tok

    text = _IBAN_COUNTRY.sub(lambda m: _country(m.group()), text)
    text = _IBAN_HEAD.sub(lambda m: m.group(1) + m.group(2).translate(_IBAN_CHECK_CONFUSIONS), text)
    return _TOKEN.sub(fix, text)


def _country(code: str) -> str:
    if code in _IBAN_COUNTRIES:
        return code
    letters = code.translate(_LETTER_CONFUSIONS)
    return letters if letters in _IBAN_COUNTRIES else code


_SEPS = "._:,;"
# Top-level domains that are also common English words: "mail me at x@gmail in an hour" is no x@gmail.in.
_ENGLISH_TLDS = frozenset({"in", "to", "is", "it", "at", "be", "by", "no", "so", "us", "my", "do", "go", "am", "as",
                           "an", "or", "if", "of", "up", "we", "on"})
_SECOND_LEVEL = frozenset({"co", "ac", "gov", "or", "ne", "go"})  # yahoo.co + uk
_TLD_WORD = re.compile(r"([A-Za-z]{2,6}(?:\.[A-Za-z]{2,6})?)[>)\]\"'.,;:!?_]*")
_IP_HEAD = re.compile(r"\d{1,3}(?:[.,:;_]\d{1,3}){0,2}[.,:;_]?")
_IP_TAIL = re.compile(r"[.,:;_]?\d{1,3}(?:[.,:;_]\d{1,3}){0,2}")


def glue(left: str, right: str) -> str:
    """What joins two adjacent OCR tokens: "" when they are one email/IP/key OCR split at a separator, "." for a
    domain whose dot OCR read as a space ("gmail com"), else a space."""
    if not left or not right:
        return " "
    if right[0] == "@" or left[-1] == "@":
        return ""
    if "@" in left:
        if right == "." and left[-1].isalnum():  # "orange . fr": the dot read as a word of its own
            return ""
        if (left[-1] in _SEPS and right[0].isalnum()) or (right[0] in _SEPS and right[1:2].isalnum()):
            return ""
        domain = left.rsplit("@", 1)[1]
        m = _TLD_WORD.fullmatch(right)
        if domain[-1:].isalnum() and m and m.group(1).lower() not in _ENGLISH_TLDS:
            suffix = public_suffix(domain) if "." in domain else ""
            joined = public_suffix(domain + "." + m.group(1))
            if joined and ("." not in domain or (domain.rsplit(".", 1)[-1].lower() in _SECOND_LEVEL and joined != suffix)):
                return "."
        return " "
    if "@" in right[1:] and left[-1] in "._" and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", left):
        return ""
    head, tail = _IP_HEAD.fullmatch(left), _IP_TAIL.match(right)
    if head and tail and (left[-1] in _SEPS or right[0] in _SEPS):
        groups = len(re.findall(r"\d+", left)) + len(re.findall(r"\d+", tail.group()))
        return "" if groups == 4 else " "
    if re.fullmatch(r"[\d.,:;-]+_", left):
        return " "  # "476-63-9901_ You": a '.' after a number read as '_', not a joint
    if len(left) >= 3 and left[-1] in "_-=/" and right[0].isalnum() and re.search(r"[A-Za-z0-9]", left[:-1]):
        return ""  # ghp_ + token, KEY= + value, path/ + rest
    if right[0] in "_=/" and len(right) > 1 and left[-1].isalnum():
        return ""
    if re.fullmatch(r"[A-Z][a-z]?", left) and re.match(r"['’][A-Z][a-z]", right):
        return ""  # "O 'Brien", "D 'Angelo": a name's apostrophe read as a word's start
    return " "


_TLD_LOOKALIKES = str.maketrans({"1": "i", "0": "o", "5": "s", "8": "b", "6": "g"})
_EMAIL_LIKE = re.compile(r"[A-Za-z0-9._%+:,;-]*@[A-Za-z0-9._:,;-]*[A-Za-z0-9]")
_IPV4_LIKE = re.compile(r"(?<![\w.,:])\d{1,3}[.,:;_]\d{1,3}[.,:;_]\d{1,3}[.,:;_]\d{1,3}(?![\w]|[.,:;_]\d)")
_IPV6_LIKE = re.compile(r"(?<![\w:.])[0-9A-Za-z]{1,4}(?:[:.][0-9A-Za-z]{0,4}){4,7}(?![\w:])")
_HEX_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1", "x": "c"})  # small c reads as x
_ENV_DASH = re.compile(r"(?<=\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])-(?=[^\s-])")


def repair_line(line: str) -> str:
    """Undo OCR's usual damage to separators, keeping the length: in email addresses ':' ',' ';' (and '_' in the
    domain) between letters become '.', IPv4 groups get their dots back, IPv6 groups their colons (and O/l/I
    their 0/1), '_' or dashes between digits become '-' (a '_' after one goes), and `ENV_VAR-value` gets its '='."""
    def email(m: re.Match) -> str:
        local, domain = m.group().rsplit("@", 1)
        local = re.sub(r"(?<=[A-Za-z0-9])[:,;](?=[A-Za-z0-9])", ".", local)
        domain = re.sub(r"(?<=[A-Za-z0-9])[_:,;](?=[A-Za-z0-9])", ".", domain)
        if "." in domain:  # the top-level label: digits read for letters ("acmecorp.1o"), a '>' read as a letter
            head, tld = domain.rsplit(".", 1)
            fixed = tld.translate(_TLD_LOOKALIKES)
            if not public_suffix("x." + fixed.lower()) and len(tld) > 2 and public_suffix("x." + fixed[:-1].lower()):
                fixed = fixed[:-1] + " "  # "orange.frz" -> "orange.fr " (same length)
            if public_suffix("x." + fixed.strip().lower()):
                domain = head + "." + fixed
        return local + "@" + domain

    def ipv4(m: re.Match) -> str:
        v = m.group()
        return re.sub(r"[.,:;_]", ".", v) if "." in v else v

    def ipv6(m: re.Match) -> str:
        v = m.group()
        fixed = v.translate(_HEX_LOOKALIKE).replace(".", ":")
        groups = fixed.split(":")
        if fixed.count(":") >= 5 and v.count(":") >= 3 and all(re.fullmatch(r"[0-9A-Fa-f]{0,4}", g) for g in groups):
            return fixed
        return v

    line = _EMAIL_LIKE.sub(email, line)
    line = re.sub(r"(?<=@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,6})_(?=\s|$)", " ", line)  # "proton.me_": a stray '_'.
    line = _IPV4_LIKE.sub(ipv4, line)
    line = _IPV6_LIKE.sub(ipv6, line)
    line = re.sub(r"(?<=\d)[_~—–‐−](?=\d)", "-", line)
    line = re.sub(r"(?<=\d)_(?=\s|$)", " ", line)  # "476-63-9901_": a '.' or ',' after a number read as '_'.
    return _ENV_DASH.sub("=", line)
